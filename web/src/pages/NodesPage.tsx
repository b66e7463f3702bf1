import { useMemo } from 'react';
import { useSession } from '../api/session';
import type { NodeInfo } from '../api/types';
import { Card, Empty, ErrorBox, Loading } from '../components/ui';
import { useLive, useNow } from '../live/LiveProvider';
import { fleetOf } from '../live/state';
import { formatAgo, formatBytes, formatCelsius, formatCount, formatFraction, formatPercent, formatTime } from '../lib/format';

export function sortNodes(nodes: NodeInfo[]): NodeInfo[] {
  return [...nodes].sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name));
}

function Battery({ node }: { node: NodeInfo }) {
  const t = node.telemetry;
  if (!t || t.battery_percent === null || t.battery_percent === undefined) return <span className="muted">no battery</span>;
  return (
    <span>
      <span className="meter" aria-hidden="true">
        <span style={{ width: `${Math.max(0, Math.min(100, t.battery_percent))}%` }} />
      </span>{' '}
      {formatPercent(t.battery_percent)} {t.charging ? '⚡ charging' : t.charging === false ? 'on battery' : ''}
    </span>
  );
}

function Admission({ node }: { node: NodeInfo }) {
  if (!node.online) return <span className="badge badge-offline">offline</span>;
  const t = node.telemetry;
  if (!t || t.accepting !== false) return <span className="badge badge-succeeded">accepting</span>;
  return (
    <span>
      <span className="badge badge-failed">refusing</span> <span className="small">{t.refusal_reason || 'no reason given'}</span>
    </span>
  );
}

export function NodesPage() {
  const { state, loadError } = useLive();
  const session = useSession();
  const now = useNow(1000);
  const nodes = useMemo(() => sortNodes(Object.values(state.nodes)), [state.nodes]);
  const fleet = fleetOf(state.nodes, now);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Nodes</h1>
        <span className="muted">
          {formatCount(fleet.nodesOnline)} online of {formatCount(fleet.nodesTotal)} · slots {formatCount(fleet.slotsInUse)} of {formatCount(fleet.slotsTotal)} in use
        </span>
      </div>
      {loadError && <ErrorBox error={loadError} />}
      <Card>
        {!state.nodesLoaded && !loadError && <Loading what="Loading nodes" />}
        {state.nodesLoaded && nodes.length === 0 && (
          <Empty>
            No nodes have enrolled yet.{' '}
            {session?.user.role === 'admin'
              ? 'Create an enrollment token on the Admin page, then run `milf node --server URL --token TOKEN` on the device.'
              : 'An admin enrolls devices with an enrollment token.'}
          </Empty>
        )}
        {nodes.length > 0 && (
          <table className="table responsive" data-testid="nodes-table">
            <thead>
              <tr>
                <th>Node</th>
                <th>Admission</th>
                <th>Battery</th>
                <th className="num">Temperature</th>
                <th className="num">CPU</th>
                <th className="num">RAM used</th>
                <th className="num">Slots</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {nodes.map((node) => {
                const t = node.telemetry ?? {};
                const memUsed = t.mem_total_bytes !== undefined && t.mem_free_bytes !== undefined ? t.mem_total_bytes - t.mem_free_bytes : null;
                return (
                  <tr key={node.id} className={node.online ? '' : 'offline'} data-node={node.name}>
                    <td data-label="Node">
                      <div>
                        <strong>{node.name}</strong>
                        <div className="muted small mono">
                          {node.target} · {node.id}
                        </div>
                      </div>
                    </td>
                    <td data-label="Admission">
                      <Admission node={node} />
                    </td>
                    <td data-label="Battery">
                      <Battery node={node} />
                    </td>
                    <td data-label="Temperature" className="num">
                      {formatCelsius(t.temperature_c)}
                    </td>
                    <td data-label="CPU" className="num">
                      {formatFraction(t.cpu_load)}
                    </td>
                    <td data-label="RAM used" className="num">
                      {memUsed === null ? '—' : `${formatBytes(memUsed)} of ${formatBytes(t.mem_total_bytes)}`}
                    </td>
                    <td data-label="Slots" className="num">
                      {t.slots_total === undefined ? '—' : `${formatCount(t.slots_in_use ?? 0)} of ${formatCount(t.slots_total)}`}
                    </td>
                    <td data-label="Last seen" className="nowrap" title={formatTime(node.last_seen_at)}>
                      {formatAgo(node.last_seen_at, now)}
                    </td>
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
