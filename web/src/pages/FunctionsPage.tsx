import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useClient } from '../api/session';
import type { DeployAnswer } from '../api/types';
import { DeployForm } from '../components/DeployForm';
import { SourceForm } from '../components/SourceForm';
import { Card, Empty, ErrorBox, Loading, Segmented, StateBadge } from '../components/ui';
import { useInvocationEvents, useLive, useNow } from '../live/LiveProvider';
import { formatAgo, formatBytes, formatCount, formatMs } from '../lib/format';
import { languageById } from '../lib/languages';
import { useAsync, useThrottled } from '../lib/useAsync';

// Where a new function's module comes from; "?from=source" in the URL.
type Origin = 'upload' | 'source';
const ORIGINS = [
  { value: 'upload', label: 'Upload .wasm' },
  { value: 'source', label: 'New from source' },
] as const;
const FIRST_SOURCE = languageById('c');

export function FunctionsPage() {
  const client = useClient();
  const { state } = useLive();
  const now = useNow(5000);
  const functions = useAsync(() => client.listFunctions(), [client]);
  const [deployed, setDeployed] = useState<DeployAnswer | null>(null);
  const [params, setParams] = useSearchParams();
  const origin: Origin = params.get('from') === 'source' ? 'source' : 'upload';
  const chooseOrigin = (next: Origin) => {
    setDeployed(null);
    setParams(next === 'source' ? { from: 'source' } : {}, { replace: true });
  };
  // 24 h figures come from the server; a finished invocation refreshes them.
  const refresh = useThrottled(functions.reload, 2000);
  useInvocationEvents((event) => {
    if (event.state === 'succeeded' || event.state === 'failed' || event.state === 'timed_out') refresh();
  });

  const lastStatus = useMemo(() => {
    const latest: Record<string, string> = {};
    for (const sample of state.finished) latest[sample.function] = sample.state;
    return latest;
  }, [state.finished]);

  const onDeployed = (answer: DeployAnswer) => {
    setDeployed(answer);
    functions.reload();
  };

  return (
    <div className="page">
      <h1>Functions</h1>
      <Card title="Deploy a function" actions={<Segmented label="Module from" value={origin} options={ORIGINS} onChange={chooseOrigin} />}>
        {origin === 'upload' ? (
          <DeployForm onDeployed={onDeployed} />
        ) : (
          <SourceForm initialFilename={`main${FIRST_SOURCE.extension}`} initialSource={FIRST_SOURCE.template} sourceKey="new" onDeployed={onDeployed} />
        )}
        {deployed && (
          <div className="state state-ok" role="status" data-testid="deployed">
            Deployed <Link to={`/functions/${deployed.name}`}>{deployed.name}</Link> version {deployed.version} (
            {formatBytes(deployed.module_size)}, sha256 <code>{deployed.module_sha256.slice(0, 12)}…</code>).
          </div>
        )}
      </Card>
      <Card title="Your functions">
        {functions.loading && !functions.data && <Loading what="Loading functions" />}
        {functions.error && <ErrorBox error={functions.error} retry={functions.reload} />}
        {functions.data && functions.data.length === 0 && <Empty>No functions yet. Upload a .wasm module or write one from source above to deploy your first one.</Empty>}
        {functions.data && functions.data.length > 0 && (
          <table className="table responsive" data-testid="functions-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Version</th>
                <th>Last status</th>
                <th className="num">Invocations (24 h)</th>
                <th className="num">Errors (24 h)</th>
                <th className="num">Avg duration</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {functions.data.map((fn) => {
                const status = fn.last_status ?? lastStatus[fn.name];
                return (
                  <tr key={fn.name}>
                    <td data-label="Name">
                      <Link to={`/functions/${encodeURIComponent(fn.name)}`}>{fn.name}</Link>
                    </td>
                    <td data-label="Version">v{fn.latest_version}</td>
                    <td data-label="Last status">{status ? <StateBadge state={status} /> : <span className="muted">no runs in 24 h</span>}</td>
                    <td data-label="Invocations (24 h)" className="num">
                      {formatCount(fn.stats_24h.invocations)}
                    </td>
                    <td data-label="Errors (24 h)" className={`num ${fn.stats_24h.errors > 0 ? 'bad' : ''}`}>
                      {formatCount(fn.stats_24h.errors)}
                    </td>
                    <td data-label="Avg duration" className="num">
                      {formatMs(fn.stats_24h.avg_ms)}
                    </td>
                    <td data-label="Updated">{formatAgo(fn.updated_at, now)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}
