import { Link } from 'react-router';
import type { Invocation } from '../api/types';
import { useLive } from '../live/LiveProvider';
import { formatAgo, formatBytes, formatFuel, formatMs, formatTime } from '../lib/format';
import { StateBadge } from './ui';

export function InvocationTable({ invocations, now, showFunction = true }: { invocations: Invocation[]; now: number; showFunction?: boolean }) {
  const { state } = useLive();
  return (
    <table className="table responsive" data-testid="invocations-table">
      <thead>
        <tr>
          <th>Id</th>
          {showFunction && <th>Function</th>}
          <th>State</th>
          <th>Queued</th>
          <th className="num">Duration</th>
          <th className="num hide-phone">Fuel</th>
          <th className="num hide-phone">Memory</th>
          <th className="hide-phone">Node</th>
        </tr>
      </thead>
      <tbody>
        {invocations.map((inv) => (
          <tr key={inv.id} data-id={inv.id}>
            <td data-label="Id" className="mono">
              <Link to={`/invocations/${encodeURIComponent(inv.id)}`}>{inv.id}</Link>
            </td>
            {showFunction && (
              <td data-label="Function">
                <span>
                  <Link to={`/functions/${encodeURIComponent(inv.function)}`}>{inv.function}</Link>
                  <span className="muted"> v{inv.version}</span>
                </span>
              </td>
            )}
            <td data-label="State">
              <span>
                <StateBadge state={inv.state} />
                {inv.result && inv.result.status !== 'ok' && <span className="muted small"> {inv.result.status}</span>}
              </span>
            </td>
            <td data-label="Queued" title={formatTime(inv.queued_at)}>
              {formatAgo(inv.queued_at, now)}
            </td>
            <td data-label="Duration" className="num">
              {formatMs(inv.result?.wall_ms)}
            </td>
            <td data-label="Fuel" className="num hide-phone">
              {formatFuel(inv.result?.fuel_used)}
            </td>
            <td data-label="Memory" className="num hide-phone">
              {formatBytes(inv.result?.peak_memory_bytes)}
            </td>
            <td data-label="Node" className="small hide-phone" title={inv.node_id ?? undefined}>
              {inv.node_id ? (state.nodes[inv.node_id]?.name ?? inv.node_id) : '—'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
