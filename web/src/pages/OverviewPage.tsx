import { useMemo, useState } from 'react';
import { Chart } from '../components/Chart';
import { Card, ErrorBox, Segmented, Stat } from '../components/ui';
import { useLive, useNow } from '../live/LiveProvider';
import { fleetSeries, invocationRates, latencyPercentiles, queueSeries, windowTotals, WINDOWS, type WindowKey } from '../live/series';
import { fleetOf } from '../live/state';
import { formatCount, formatMs, formatPercent, formatRate, formatTime } from '../lib/format';

const WINDOW_OPTIONS = (Object.keys(WINDOWS) as WindowKey[]).map((key) => ({ value: key, label: WINDOWS[key].label }));
const TICK: Record<WindowKey, number> = { '5m': 1000, '1h': 5000, '24h': 30_000 };

export const COLORS = {
  succeeded: '#16a34a',
  failed: '#dc2626',
  timed_out: '#d97706',
  p50: '#2563eb',
  p95: '#7c3aed',
  p99: '#db2777',
  queue: '#0891b2',
  nodes: '#2563eb',
  slots: '#16a34a',
  slotsTotal: '#94a3b8',
  charging: '#16a34a',
  battery: '#d97706',
  noBattery: '#64748b',
};

const count = (v: number) => formatCount(v);

export function OverviewPage() {
  const { state, loadError } = useLive();
  const [windowKey, setWindowKey] = useState<WindowKey>('5m');
  const spec = WINDOWS[windowKey];
  const tick = useNow(TICK[windowKey]);
  // Charts move with the clock and with every event (an event newer than
  // the last tick must land inside the window).
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const now = useMemo(() => Math.max(tick, Date.now()), [tick, state]);

  const rates = useMemo(() => invocationRates(state.finished, now, spec), [state.finished, now, spec]);
  const latency = useMemo(() => latencyPercentiles(state.finished, now, spec), [state.finished, now, spec]);
  const totals = useMemo(() => windowTotals(state.finished, now, spec), [state.finished, now, spec]);
  const fleet = useMemo(() => fleetSeries(state.fleet, now, spec), [state.fleet, now, spec]);
  const queue = useMemo(() => queueSeries(state.queue, now, spec), [state.queue, now, spec]);
  const current = useMemo(() => fleetOf(state.nodes, now), [state.nodes, now]);
  const xRange: [number, number] = [(now - spec.spanMs) / 1000, now / 1000];
  const finishedInWindow = totals.succeeded + totals.failed + totals.timed_out;
  const windowSeconds = spec.spanMs / 1000;
  const historyPartial = state.historySince !== null && state.historySince > now - spec.spanMs;

  return (
    <div className="page">
      <div className="page-head">
        <h1>Overview</h1>
        <Segmented label="Time window" value={windowKey} options={WINDOW_OPTIONS} onChange={setWindowKey} />
      </div>
      {loadError && <ErrorBox error={loadError} />}
      {historyPartial && (
        <p className="muted small">Invocation history starts at {formatTime(state.historySince)} (the most recent ones loaded); everything since arrives live.</p>
      )}
      <div className="stats">
        <Stat label="Invocations" value={formatCount(finishedInWindow)} hint={`${formatRate(finishedInWindow / windowSeconds)} over ${spec.label}`} />
        <Stat
          label="Errors"
          value={formatCount(totals.failed + totals.timed_out)}
          hint={`${formatCount(totals.failed)} failed · ${formatCount(totals.timed_out)} timed out`}
        />
        <Stat label="Latency p50 / p95 / p99" value={formatMs(totals.p50)} hint={`${formatMs(totals.p95)} / ${formatMs(totals.p99)}`} />
        <Stat label="Queue depth" value={formatCount(Object.keys(state.queued).length)} hint="your invocations waiting" />
        <Stat label="Nodes online" value={formatCount(current.nodesOnline)} hint={`of ${formatCount(current.nodesTotal)} enrolled`} />
        <Stat
          label="Slots in use"
          value={`${formatCount(current.slotsInUse)} of ${formatCount(current.slotsTotal)}`}
          hint={current.slotsTotal ? formatPercent((100 * current.slotsInUse) / current.slotsTotal) : 'no slots online'}
        />
      </div>
      <div className="grid">
        <Card title="Invocations per second, by status">
          <Chart
            xRange={xRange}
            label="Invocations per second"
            t={rates.t}
            series={[
              { label: 'succeeded', color: COLORS.succeeded, values: rates.succeeded, fill: true },
              { label: 'failed', color: COLORS.failed, values: rates.failed },
              { label: 'timed out', color: COLORS.timed_out, values: rates.timed_out },
            ]}
            format={formatRate}
            yMin={0}
          />
        </Card>
        <Card title="Latency (run time on the node)">
          <Chart
            xRange={xRange}
            label="Latency percentiles"
            t={latency.t}
            series={[
              { label: 'p50', color: COLORS.p50, values: latency.p50, points: true },
              { label: 'p95', color: COLORS.p95, values: latency.p95, points: true },
              { label: 'p99', color: COLORS.p99, values: latency.p99, points: true },
            ]}
            format={formatMs}
            yMin={0}
          />
        </Card>
        <Card title="Queue depth (your invocations waiting for a node)">
          <Chart xRange={xRange} label="Queue depth" t={queue.t} series={[{ label: 'queued', color: COLORS.queue, values: queue.values, fill: true }]} format={count} yMin={0} stepped integer />
        </Card>
        <Card title="Nodes online and slots in use">
          <Chart
            xRange={xRange}
            label="Nodes and slots"
            t={fleet.t}
            series={[
              { label: 'nodes online', color: COLORS.nodes, values: fleet.nodesOnline },
              { label: 'slots in use', color: COLORS.slots, values: fleet.slotsInUse, fill: true },
              { label: 'slots total', color: COLORS.slotsTotal, values: fleet.slotsTotal, dash: [4, 4] },
            ]}
            format={count}
            yMin={0}
            stepped
            integer
          />
        </Card>
        <Card title="Battery and charging mix (online nodes)" className="wide">
          <div className="mix" data-testid="battery-mix">
            <span className="chip" style={{ borderColor: COLORS.charging }}>
              {formatCount(current.charging)} charging
            </span>
            <span className="chip" style={{ borderColor: COLORS.battery }}>
              {formatCount(current.onBattery)} on battery
            </span>
            <span className="chip" style={{ borderColor: COLORS.noBattery }}>
              {formatCount(current.noBattery)} without battery
            </span>
            <span className="chip">average charge {formatPercent(current.avgBatteryPercent)}</span>
          </div>
          <div className="pair">
            <Chart
              xRange={xRange}
              label="Charging mix"
              t={fleet.t}
              series={[
                { label: 'charging', color: COLORS.charging, values: fleet.charging },
                { label: 'on battery', color: COLORS.battery, values: fleet.onBattery },
                { label: 'no battery', color: COLORS.noBattery, values: fleet.noBattery },
              ]}
              format={count}
              yMin={0}
              height={150}
              stepped
              integer
            />
            <Chart
              xRange={xRange}
              label="Average battery charge"
              t={fleet.t}
              series={[{ label: 'average charge', color: COLORS.battery, values: fleet.avgBattery, fill: true }]}
              format={formatPercent}
              yMin={0}
              height={150}
              stepped
            />
          </div>
        </Card>
      </div>
    </div>
  );
}
