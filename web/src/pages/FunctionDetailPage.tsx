import { useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useClient } from '../api/session';
import type { FunctionSettings, Invocation, SourceDeployAnswer } from '../api/types';
import { Chart } from '../components/Chart';
import { DeployForm } from '../components/DeployForm';
import { InvocationTable } from '../components/InvocationTable';
import { InvokePanel } from '../components/InvokePanel';
import { SourceForm } from '../components/SourceForm';
import { Card, Empty, ErrorBox, Loading, Segmented } from '../components/ui';
import { useInvocationEvents, useLive, useNow } from '../live/LiveProvider';
import { latencyPercentiles, windowTotals, WINDOWS, type WindowKey } from '../live/series';
import type { FinishedSample } from '../live/state';
import { formatAgo, formatBytes, formatCount, formatFuel, formatMb, formatMs, formatTime } from '../lib/format';
import { LANGUAGES, languageById, type LanguageId } from '../lib/languages';
import { useAsync, useThrottled } from '../lib/useAsync';
import { COLORS } from './OverviewPage';

const WINDOW_OPTIONS = (Object.keys(WINDOWS) as WindowKey[]).map((key) => ({ value: key, label: WINDOWS[key].label }));
const RECENT = 10;
const HISTORY_LIMIT = 200;

function Settings({ settings }: { settings: FunctionSettings }) {
  return (
    <dl className="facts-grid">
      <dt>Memory</dt>
      <dd>{formatMb(settings.memory_mb)}</dd>
      <dt>Timeout</dt>
      <dd>{formatMs(settings.timeout_ms)}</dd>
      <dt>Fuel</dt>
      <dd>{settings.fuel ? formatFuel(settings.fuel) : 'unlimited'}</dd>
      <dt>Entry</dt>
      <dd className="mono">{settings.entry || 'automatic'}</dd>
      <dt>Environment</dt>
      <dd className="mono">{settings.env && settings.env.length > 0 ? settings.env.join(' ') : 'none'}</dd>
    </dl>
  );
}

function Schedules({ name }: { name: string }) {
  const client = useClient();
  const now = useNow(10_000);
  const schedules = useAsync(() => client.listSchedules(name), [client, name]);
  const [cron, setCron] = useState('');
  const [error, setError] = useState<unknown>(null);
  const add = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await client.createSchedule(name, cron.trim());
      setCron('');
      schedules.reload();
    } catch (reason) {
      setError(reason);
    }
  };
  const remove = async (id: string | number) => {
    setError(null);
    try {
      await client.deleteSchedule(name, id);
      schedules.reload();
    } catch (reason) {
      setError(reason);
    }
  };
  return (
    <>
      {schedules.loading && !schedules.data && <Loading what="Loading schedules" />}
      {schedules.error && <ErrorBox error={schedules.error} retry={schedules.reload} />}
      {schedules.data && schedules.data.length === 0 && <Empty>No schedules: this function runs only when invoked.</Empty>}
      {schedules.data && schedules.data.length > 0 && (
        <ul className="plain-list">
          {schedules.data.map((s) => (
            <li key={s.id}>
              <code>{s.cron}</code> <span className="muted">next {s.next_fire_at ? formatAgo(s.next_fire_at, now) : '—'}</span>{' '}
              <button type="button" className="link danger" onClick={() => void remove(s.id)}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="form-row" onSubmit={add}>
        <label>
          Cron (5 fields, UTC)
          <input value={cron} onChange={(e) => setCron(e.target.value)} placeholder="*/5 * * * *" required />
        </label>
        <button type="submit">Add schedule</button>
      </form>
      {error !== null && <ErrorBox error={error} />}
    </>
  );
}

// The latest version's source in the editor, or, for a version deployed
// from a .wasm module, the offer to write source for the next one.
function SourcePanel({
  name,
  version,
  settings,
  onDeployed,
}: {
  name: string;
  version: number;
  settings: FunctionSettings | undefined;
  onDeployed(answer: SourceDeployAnswer): void;
}) {
  const client = useClient();
  const source = useAsync(() => client.getSource(name), [client, name, version]);
  const [fresh, setFresh] = useState<LanguageId | null>(null);

  if (source.error) return <ErrorBox error={source.error} retry={source.reload} />;
  if (source.data === undefined) return <Loading what="Loading the source" />;
  if (source.data) {
    const file = source.data;
    return (
      <>
        <div className="muted small" data-testid="source-origin">
          v{file.version} was compiled from <code>{file.filename}</code>
          {file.language ? ` (${file.language})` : ''}.
        </div>
        <SourceForm
          fixedName={name}
          initialFilename={file.filename}
          initialSource={file.source}
          sourceKey={`${name}@${file.version}`}
          settings={settings}
          onDeployed={onDeployed}
        />
      </>
    );
  }
  if (fresh) {
    const language = languageById(fresh);
    return (
      <SourceForm
        fixedName={name}
        initialFilename={`${name}${language.extension}`}
        initialSource={language.template}
        sourceKey={`${name}@new`}
        settings={settings}
        onDeployed={onDeployed}
      />
    );
  }
  return (
    <div className="state state-empty" data-testid="source-origin">
      v{version} was deployed from a .wasm module, so there is no source to show. Deploy the next version from source:{' '}
      {LANGUAGES.map((language) => (
        <button key={language.id} type="button" className="link" onClick={() => setFresh(language.id)}>
          {language.label}
        </button>
      ))}
    </div>
  );
}

export function FunctionDetailPage() {
  const { name = '' } = useParams();
  const client = useClient();
  const navigate = useNavigate();
  const { state, epoch } = useLive();
  const [windowKey, setWindowKey] = useState<WindowKey>('1h');
  const tick = useNow(windowKey === '5m' ? 1000 : 10_000);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const now = useMemo(() => Math.max(tick, Date.now()), [tick, state.finished]);
  const detail = useAsync(() => client.getFunction(name), [client, name]);
  const recent = useAsync(() => client.listInvocations({ function: name, limit: RECENT }), [client, name, epoch]);
  const history = useAsync(
    () => client.listInvocations({ function: name, since: Date.now() - WINDOWS['24h'].spanMs, limit: HISTORY_LIMIT }),
    [client, name, epoch],
  );
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const refreshRecent = useThrottled(recent.reload, 300);
  useInvocationEvents((event) => {
    if (event.function === name) refreshRecent();
  });

  // The fetched history plus whatever finished since, from the live state.
  const samples = useMemo(() => {
    const byId = new Map<string, FinishedSample>();
    for (const inv of history.data?.invocations ?? []) {
      if (inv.state === 'succeeded' || inv.state === 'failed' || inv.state === 'timed_out') {
        byId.set(inv.id, { id: inv.id, function: inv.function, at: inv.finished_at ?? inv.queued_at, state: inv.state, runMs: inv.result?.wall_ms ?? null });
      }
    }
    for (const s of state.finished) if (s.function === name) byId.set(s.id, s);
    return [...byId.values()].sort((a, b) => a.at - b.at);
  }, [history.data, state.finished, name]);
  const spec = WINDOWS[windowKey];
  const latency = useMemo(() => latencyPercentiles(samples, now, spec), [samples, now, spec]);
  const totals = useMemo(() => windowTotals(samples, now, spec), [samples, now, spec]);
  const runs = totals.succeeded + totals.failed + totals.timed_out;

  const remove = async () => {
    if (!window.confirm(`Delete ${name} and all its versions?`)) return;
    try {
      await client.deleteFunction(name);
      navigate('/functions');
    } catch (reason) {
      setDeleteError(reason);
    }
  };

  if (detail.loading && !detail.data) return <Loading what={`Loading ${name}`} />;
  if (detail.error) {
    return (
      <div className="page">
        <h1>{name}</h1>
        <ErrorBox error={detail.error} retry={detail.reload} />
        <Link to="/functions">All functions</Link>
      </div>
    );
  }
  const fn = detail.data;
  if (!fn) return null;
  const latest = fn.versions.find((v) => v.version === fn.latest_version) ?? fn.versions[0];

  return (
    <div className="page">
      <div className="page-head">
        <h1>
          <Link to="/functions" className="muted">
            Functions
          </Link>{' '}
          / {fn.name} <span className="muted">v{fn.latest_version}</span>
        </h1>
        <button type="button" className="danger" onClick={() => void remove()}>
          Delete function
        </button>
      </div>
      {deleteError !== null && <ErrorBox error={deleteError} />}
      <div className="grid">
        <Card title="Invoke">
          <InvokePanel name={fn.name} />
        </Card>
        <Card title="Latency (run time)" actions={<Segmented label="Time window" value={windowKey} options={WINDOW_OPTIONS} onChange={setWindowKey} />}>
          <div className="facts">
            <span>
              {formatCount(runs)} run{runs === 1 ? '' : 's'}
            </span>
            <span>p50 {formatMs(totals.p50)}</span>
            <span>p95 {formatMs(totals.p95)}</span>
            <span>p99 {formatMs(totals.p99)}</span>
          </div>
          <Chart
            label={`${fn.name} latency`}
            t={latency.t}
            series={[
              { label: 'p50', color: COLORS.p50, values: latency.p50, points: true },
              { label: 'p95', color: COLORS.p95, values: latency.p95, points: true },
              { label: 'p99', color: COLORS.p99, values: latency.p99, points: true },
            ]}
            format={formatMs}
            yMin={0}
            xRange={[(now - spec.spanMs) / 1000, now / 1000]}
          />
        </Card>
      </div>
      <Card title="Source" className="source-card">
        <SourcePanel name={fn.name} version={fn.latest_version} settings={latest?.settings} onDeployed={() => detail.reload()} />
      </Card>
      <Card
        title="Recent invocations"
        actions={<Link to={`/invocations?function=${encodeURIComponent(fn.name)}`}>All invocations of {fn.name}</Link>}
      >
        {recent.error && <ErrorBox error={recent.error} retry={recent.reload} />}
        {recent.loading && !recent.data && <Loading what="Loading invocations" />}
        {recent.data && recent.data.invocations.length === 0 && <Empty>Not invoked yet.</Empty>}
        {recent.data && recent.data.invocations.length > 0 && <InvocationTable invocations={recent.data.invocations as Invocation[]} now={now} showFunction={false} />}
      </Card>
      <div className="grid">
        <Card title="Settings (latest version)">{latest ? <Settings settings={latest.settings} /> : <Empty>No versions.</Empty>}</Card>
        <Card title="Schedules">
          <Schedules name={fn.name} />
        </Card>
      </div>
      <Card title="Versions">
        <table className="table responsive">
          <thead>
            <tr>
              <th>Version</th>
              <th>Module</th>
              <th className="num">Size</th>
              <th className="num">Memory</th>
              <th className="num">Timeout</th>
              <th className="num">Fuel</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {[...fn.versions]
              .sort((a, b) => b.version - a.version)
              .map((v) => (
                <tr key={v.version}>
                  <td data-label="Version">v{v.version}</td>
                  <td data-label="Module" className="mono small" title={v.module_sha256}>
                    {v.module_sha256.slice(0, 16)}…
                  </td>
                  <td data-label="Size" className="num">
                    {formatBytes(v.module_size)}
                  </td>
                  <td data-label="Memory" className="num">
                    {formatMb(v.settings.memory_mb)}
                  </td>
                  <td data-label="Timeout" className="num">
                    {formatMs(v.settings.timeout_ms)}
                  </td>
                  <td data-label="Fuel" className="num">
                    {v.settings.fuel ? formatFuel(v.settings.fuel) : 'unlimited'}
                  </td>
                  <td data-label="Created" title={formatTime(v.created_at)}>
                    {formatAgo(v.created_at, now)}
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      </Card>
      <Card title="Deploy a new version from a .wasm module">
        <DeployForm fixedName={fn.name} initial={latest?.settings} onDeployed={() => detail.reload()} />
      </Card>
    </div>
  );
}
