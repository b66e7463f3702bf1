// Chart data: turns the live state's samples into evenly spaced buckets for
// a time window. Pure functions; uPlot wants times in seconds and null
// where there is no value.
import type { FinishedSample, FleetSample, QueueSample } from './state';

export type WindowKey = '5m' | '1h' | '24h';

export interface WindowSpec {
  label: string;
  spanMs: number;
  bucketMs: number;
}

export const WINDOWS: Record<WindowKey, WindowSpec> = {
  '5m': { label: '5 min', spanMs: 5 * 60_000, bucketMs: 5_000 },
  '1h': { label: '1 h', spanMs: 3_600_000, bucketMs: 60_000 },
  '24h': { label: '24 h', spanMs: 86_400_000, bucketMs: 15 * 60_000 },
};

// Bucket start times (ms), oldest first; the last bucket holds `now`.
export function bucketStarts(now: number, spec: WindowSpec): number[] {
  const count = Math.round(spec.spanMs / spec.bucketMs);
  const last = Math.floor(now / spec.bucketMs) * spec.bucketMs;
  const starts: number[] = [];
  for (let i = count - 1; i >= 0; i -= 1) starts.push(last - i * spec.bucketMs);
  return starts;
}

function bucketIndex(at: number, first: number, spec: WindowSpec, count: number): number {
  const index = Math.floor((at - first) / spec.bucketMs);
  return index >= 0 && index < count ? index : -1;
}

export interface RateSeries {
  t: number[]; // seconds
  succeeded: number[];
  failed: number[];
  timed_out: number[];
}

// Finished invocations per second in each bucket, by final state. The
// current bucket is only partly over, so its rate uses the elapsed part.
export function invocationRates(samples: readonly FinishedSample[], now: number, spec: WindowSpec): RateSeries {
  const starts = bucketStarts(now, spec);
  const count = starts.length;
  const first = starts[0] ?? now;
  const series: RateSeries = {
    t: starts.map((s) => s / 1000),
    succeeded: new Array<number>(count).fill(0),
    failed: new Array<number>(count).fill(0),
    timed_out: new Array<number>(count).fill(0),
  };
  for (const sample of samples) {
    const index = bucketIndex(sample.at, first, spec, count);
    if (index >= 0) series[sample.state][index] = (series[sample.state][index] ?? 0) + 1;
  }
  for (let i = 0; i < count; i += 1) {
    const start = starts[i] ?? 0;
    const seconds = Math.max(Math.min(spec.bucketMs, now - start), 1000) / 1000;
    series.succeeded[i] = (series.succeeded[i] ?? 0) / seconds;
    series.failed[i] = (series.failed[i] ?? 0) / seconds;
    series.timed_out[i] = (series.timed_out[i] ?? 0) / seconds;
  }
  return series;
}

// Nearest-rank percentile of an ascending array; null when empty.
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1] ?? null;
}

export interface LatencySeries {
  t: number[];
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
}

export function latencyPercentiles(samples: readonly FinishedSample[], now: number, spec: WindowSpec): LatencySeries {
  const starts = bucketStarts(now, spec);
  const count = starts.length;
  const first = starts[0] ?? now;
  const buckets: number[][] = Array.from({ length: count }, () => []);
  for (const sample of samples) {
    if (sample.runMs === null) continue;
    const index = bucketIndex(sample.at, first, spec, count);
    if (index >= 0) buckets[index]?.push(sample.runMs);
  }
  const series: LatencySeries = { t: starts.map((s) => s / 1000), p50: [], p95: [], p99: [] };
  for (const bucket of buckets) {
    bucket.sort((a, b) => a - b);
    series.p50.push(percentile(bucket, 50));
    series.p95.push(percentile(bucket, 95));
    series.p99.push(percentile(bucket, 99));
  }
  return series;
}

// A gauge sampled on change, drawn as a step function over the window: the
// value it had at the window's start (when known), every change inside the
// window, and the current value carried forward to `now`. Times in seconds;
// empty when nothing is known yet.
export interface GaugeSeries {
  t: number[];
  values: (number | null)[][]; // one array per picked figure
}

export function gaugeSeries<T extends { at: number }>(
  samples: readonly T[],
  now: number,
  spec: WindowSpec,
  picks: readonly ((sample: T) => number | null)[],
): GaugeSeries {
  const start = now - spec.spanMs;
  const points: { at: number; sample: T }[] = [];
  let before: T | undefined;
  for (const sample of samples) {
    if (sample.at <= start) before = sample;
    else if (sample.at <= now) points.push({ at: sample.at, sample });
  }
  if (before) points.unshift({ at: start, sample: before });
  const last = points[points.length - 1];
  if (last && last.at < now) points.push({ at: now, sample: last.sample });
  return {
    t: points.map((p) => p.at / 1000),
    values: picks.map((pick) => points.map((p) => pick(p.sample))),
  };
}

export const FLEET_FIGURES = {
  nodesOnline: (s: FleetSample) => s.nodesOnline,
  slotsInUse: (s: FleetSample) => s.slotsInUse,
  slotsTotal: (s: FleetSample) => s.slotsTotal,
  charging: (s: FleetSample) => s.charging,
  onBattery: (s: FleetSample) => s.onBattery,
  noBattery: (s: FleetSample) => s.noBattery,
  avgBattery: (s: FleetSample) => s.avgBatteryPercent,
} as const;

export type FleetFigure = keyof typeof FLEET_FIGURES;

export type FleetSeries = { t: number[] } & Record<FleetFigure, (number | null)[]>;

export function fleetSeries(samples: readonly FleetSample[], now: number, spec: WindowSpec): FleetSeries {
  const keys = Object.keys(FLEET_FIGURES) as FleetFigure[];
  const series = gaugeSeries(samples, now, spec, keys.map((key) => FLEET_FIGURES[key]));
  const out = { t: series.t } as FleetSeries;
  keys.forEach((key, i) => {
    out[key] = series.values[i] ?? [];
  });
  return out;
}

export function queueSeries(samples: readonly QueueSample[], now: number, spec: WindowSpec) {
  const series = gaugeSeries(samples, now, spec, [(s: QueueSample) => s.depth]);
  return { t: series.t, values: series.values[0] ?? [] };
}

export interface Totals {
  succeeded: number;
  failed: number;
  timed_out: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

// Counts and percentiles over the whole window, for the headline figures.
export function windowTotals(samples: readonly FinishedSample[], now: number, spec: WindowSpec): Totals {
  const since = now - spec.spanMs;
  const totals: Totals = { succeeded: 0, failed: 0, timed_out: 0, p50: null, p95: null, p99: null };
  const runs: number[] = [];
  for (const sample of samples) {
    if (sample.at < since || sample.at > now) continue;
    totals[sample.state] += 1;
    if (sample.runMs !== null) runs.push(sample.runMs);
  }
  runs.sort((a, b) => a - b);
  totals.p50 = percentile(runs, 50);
  totals.p95 = percentile(runs, 95);
  totals.p99 = percentile(runs, 99);
  return totals;
}
