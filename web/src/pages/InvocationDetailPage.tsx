import { Link, useParams } from 'react-router';
import { useClient } from '../api/session';
import type { Invocation } from '../api/types';
import { BytesView } from '../components/BytesView';
import { Logs } from '../components/InvokePanel';
import { Card, Empty, ErrorBox, Loading, StateBadge } from '../components/ui';
import { useInvocationEvents, useLive } from '../live/LiveProvider';
import { formatBytes, formatFuel, formatMs, formatTime } from '../lib/format';
import { useAsync, useThrottled } from '../lib/useAsync';

const FINAL = ['succeeded', 'failed', 'timed_out'];

function gap(from: number | null, to: number | null): number | null {
  return from !== null && to !== null ? to - from : null;
}

export function Timeline({ invocation }: { invocation: Invocation }) {
  const events = invocation.events ?? [];
  if (events.length === 0) return <Empty>No state changes recorded.</Empty>;
  return (
    <ol className="timeline" data-testid="timeline">
      {events.map((event, index) => {
        const previous = index > 0 ? events[index - 1] : undefined;
        return (
          <li key={`${event.state}-${event.at}-${index}`}>
            <StateBadge state={event.state} />
            <span title={formatTime(event.at)}>{formatTime(event.at)}</span>
            {previous && <span className="muted">+{formatMs(event.at - previous.at)}</span>}
            {event.node_id && <span className="mono small">on {event.node_id}</span>}
            {event.detail && <span className="muted">{event.detail}</span>}
          </li>
        );
      })}
    </ol>
  );
}

export function InvocationDetailPage() {
  const { id = '' } = useParams();
  const client = useClient();
  const { state, epoch } = useLive();
  const invocation = useAsync(() => client.getInvocation(id), [client, id, epoch]);
  const finished = invocation.data ? FINAL.includes(invocation.data.state) : false;
  const logs = useAsync(() => (finished ? client.getLogs(id) : Promise.resolve(null)), [client, id, finished]);
  const output = useAsync(() => (finished ? client.getOutput(id) : Promise.resolve(null)), [client, id, finished]);
  const reload = useThrottled(invocation.reload, 500);
  useInvocationEvents((event) => {
    if (event.id === id) reload();
  });

  if (invocation.loading && !invocation.data) return <Loading what="Loading the invocation" />;
  if (invocation.error) {
    return (
      <div className="page">
        <h1 className="mono">{id}</h1>
        <ErrorBox error={invocation.error} retry={invocation.reload} />
        <Link to="/invocations">All invocations</Link>
      </div>
    );
  }
  const inv = invocation.data;
  if (!inv) return null;
  const result = inv.result;
  const node = inv.node_id ? state.nodes[inv.node_id] : undefined;
  return (
    <div className="page">
      <div className="page-head">
        <h1>
          <Link to="/invocations" className="muted">
            Invocations
          </Link>{' '}
          / <span className="mono">{inv.id}</span>
        </h1>
        <StateBadge state={inv.state} />
      </div>
      <div className="grid">
        <Card title="Summary">
          <dl className="facts-grid" data-testid="invocation-summary">
            <dt>Function</dt>
            <dd>
              <Link to={`/functions/${encodeURIComponent(inv.function)}`}>{inv.function}</Link> v{inv.version}
            </dd>
            <dt>Node</dt>
            <dd>{inv.node_id ? <Link to="/nodes">{node?.name ?? inv.node_id}</Link> : '—'}</dd>
            <dt>Attempts</dt>
            <dd>{inv.attempts}</dd>
            <dt>Run status</dt>
            <dd>{result?.status ?? '—'}</dd>
            <dt>Exit code</dt>
            <dd>{result ? result.exit_code : '—'}</dd>
            <dt>Run time</dt>
            <dd>{formatMs(result?.wall_ms)}</dd>
            <dt>Fuel</dt>
            <dd>{formatFuel(result?.fuel_used)}</dd>
            <dt>Peak memory</dt>
            <dd>{formatBytes(result?.peak_memory_bytes)}</dd>
            <dt>Output hash</dt>
            <dd className="mono small break">{result?.output_sha256 || '—'}</dd>
          </dl>
          {result?.message && <div className="state state-error">{result.message}</div>}
        </Card>
        <Card title="Timings">
          <dl className="facts-grid">
            <dt>Queued</dt>
            <dd>{formatTime(inv.queued_at)}</dd>
            <dt>Waited for a node</dt>
            <dd>{formatMs(gap(inv.queued_at, inv.dispatched_at))}</dd>
            <dt>Dispatch to start</dt>
            <dd>{formatMs(gap(inv.dispatched_at, inv.started_at))}</dd>
            <dt>Start to finish</dt>
            <dd>{formatMs(gap(inv.started_at, inv.finished_at))}</dd>
            <dt>Total</dt>
            <dd>{formatMs(gap(inv.queued_at, inv.finished_at))}</dd>
            <dt>Finished</dt>
            <dd>{formatTime(inv.finished_at)}</dd>
          </dl>
        </Card>
      </div>
      <Card title="State timeline">
        <Timeline invocation={inv} />
      </Card>
      <Card title="Output and logs">
        {!finished && <Empty>The invocation has not finished; its output appears here when it does.</Empty>}
        {output.error && <ErrorBox error={output.error} retry={output.reload} />}
        {output.data && <BytesView bytes={output.data} label="Output" testId="invocation-output" />}
        {result?.output_truncated && <div className="muted small">output truncated at the function's output limit</div>}
        {logs.error && <ErrorBox error={logs.error} retry={logs.reload} />}
        {logs.data && <Logs logs={logs.data} output={output.data ?? null} />}
        {result?.stderr_truncated && <div className="muted small">stderr truncated</div>}
      </Card>
    </div>
  );
}
