import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useClient } from '../api/session';
import { INVOCATION_STATES, type InvocationState } from '../api/types';
import { InvocationTable } from '../components/InvocationTable';
import { Card, Empty, ErrorBox, Loading } from '../components/ui';
import { useInvocationEvents, useLive, useNow } from '../live/LiveProvider';
import { stateLabel } from '../lib/format';
import { fromLocalInput, toLocalInput } from '../lib/time';
import { useAsync, useThrottled } from '../lib/useAsync';

export const PAGE_SIZE = 25;

export function InvocationsPage() {
  const client = useClient();
  const navigate = useNavigate();
  const now = useNow(5000);
  const { epoch } = useLive();
  const [params, setParams] = useSearchParams();
  const fn = params.get('function') ?? '';
  const state = (params.get('state') ?? '') as InvocationState | '';
  const since = params.get('since') ? Number(params.get('since')) : undefined;
  const until = params.get('until') ? Number(params.get('until')) : undefined;
  // Cursors of the pages before this one; the last entry is this page's.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const after = cursors[cursors.length - 1];
  const [fresh, setFresh] = useState(0);
  const [search, setSearch] = useState('');
  const functions = useAsync(() => client.listFunctions(), [client]);
  const page = useAsync(
    () =>
      client.listInvocations({
        function: fn || undefined,
        state: state || undefined,
        since,
        until,
        after,
        limit: PAGE_SIZE,
      }),
    [client, fn, state, since, until, after, epoch],
  );
  const reload = useThrottled(page.reload, 300);

  useInvocationEvents((event) => {
    const shown = page.data?.invocations.some((inv) => inv.id === event.id);
    if (shown) return reload();
    const matches = (!fn || event.function === fn) && (!state || event.state === state) && until === undefined;
    if (matches && cursors.length === 1 && event.state === (state || 'queued')) setFresh((n) => n + 1);
  });

  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
    setCursors([undefined]);
    setFresh(0);
  };

  const showNew = () => {
    setFresh(0);
    if (cursors.length > 1) setCursors([undefined]);
    else page.reload();
  };

  const find = (event: FormEvent) => {
    event.preventDefault();
    const id = search.trim();
    if (id) navigate(`/invocations/${encodeURIComponent(id)}`);
  };

  return (
    <div className="page">
      <h1>Invocations</h1>
      <Card>
        <form className="form-row" onSubmit={find} role="search">
          <label className="grow">
            Find by id
            <input value={search} onChange={(e) => setSearch(e.target.value)} placeholder="01J…" className="mono" />
          </label>
          <button type="submit">Open</button>
        </form>
        <div className="form-row filters">
          <label>
            Function
            <select value={fn} onChange={(e) => setFilter('function', e.target.value)} data-testid="filter-function">
              <option value="">all functions</option>
              {(functions.data ?? []).map((f) => (
                <option key={f.name} value={f.name}>
                  {f.name}
                </option>
              ))}
              {fn && !(functions.data ?? []).some((f) => f.name === fn) && <option value={fn}>{fn}</option>}
            </select>
          </label>
          <label>
            State
            <select value={state} onChange={(e) => setFilter('state', e.target.value)}>
              <option value="">any state</option>
              {INVOCATION_STATES.map((s) => (
                <option key={s} value={s}>
                  {stateLabel(s)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Since
            <input type="datetime-local" value={toLocalInput(since)} onChange={(e) => setFilter('since', String(fromLocalInput(e.target.value) ?? ''))} />
          </label>
          <label>
            Until
            <input type="datetime-local" value={toLocalInput(until)} onChange={(e) => setFilter('until', String(fromLocalInput(e.target.value) ?? ''))} />
          </label>
        </div>
        {functions.error && <ErrorBox error={functions.error} />}
      </Card>
      <Card>
        {fresh > 0 && (
          <button type="button" className="banner" onClick={showNew}>
            {fresh} new invocation{fresh === 1 ? '' : 's'} — show
          </button>
        )}
        {page.error && <ErrorBox error={page.error} retry={page.reload} />}
        {page.loading && !page.data && <Loading what="Loading invocations" />}
        {page.data && page.data.invocations.length === 0 && (
          <Empty>{fn || state || since || until ? 'No invocation matches these filters.' : 'No invocations yet. Invoke a function from its page.'}</Empty>
        )}
        {page.data && page.data.invocations.length > 0 && <InvocationTable invocations={page.data.invocations} now={now} />}
        <div className="pager">
          <button type="button" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            ← Newer
          </button>
          <span className="muted">page {cursors.length}</span>
          <button type="button" disabled={!page.data?.next} onClick={() => page.data?.next && setCursors((c) => [...c, page.data?.next ?? undefined])}>
            Older →
          </button>
        </div>
      </Card>
    </div>
  );
}
