import { describe, expect, it } from 'vitest';
import {
  bucketStarts,
  fleetSeries,
  invocationRates,
  latencyPercentiles,
  percentile,
  gaugeSeries,
  queueSeries,
  windowTotals,
  WINDOWS,
  type WindowSpec,
} from '../src/live/series';
import type { FinishedSample, FleetSample } from '../src/live/state';

const spec: WindowSpec = { label: 'test', spanMs: 10_000, bucketMs: 2_000 };
const NOW = 1_000_001_000; // one second into the bucket starting at 1_000_000_000

function sample(id: string, at: number, state: FinishedSample['state'], runMs: number | null = 10): FinishedSample {
  return { id, function: 'f', at, state, runMs };
}

describe('buckets', () => {
  it('are aligned, oldest first, and the last one holds now', () => {
    expect(bucketStarts(NOW, spec)).toEqual([999_992_000, 999_994_000, 999_996_000, 999_998_000, 1_000_000_000]);
  });

  it('have the documented sizes for each window', () => {
    for (const key of ['5m', '1h', '24h'] as const) {
      expect(bucketStarts(NOW, WINDOWS[key])).toHaveLength(WINDOWS[key].spanMs / WINDOWS[key].bucketMs);
    }
  });
});

describe('invocationRates', () => {
  it('counts per state per second and ignores samples outside the window', () => {
    const samples = [
      sample('a', 999_992_500, 'succeeded'),
      sample('b', 999_993_500, 'succeeded'),
      sample('c', 999_993_900, 'failed'),
      sample('d', 999_998_000, 'timed_out'),
      sample('old', 999_900_000, 'succeeded'),
      sample('future', 1_000_100_000, 'failed'),
    ];
    const rates = invocationRates(samples, NOW, spec);
    expect(rates.t).toEqual([999_992, 999_994, 999_996, 999_998, 1_000_000]);
    expect(rates.succeeded).toEqual([1, 0, 0, 0, 0]);
    expect(rates.failed).toEqual([0.5, 0, 0, 0, 0]);
    expect(rates.timed_out).toEqual([0, 0, 0, 0.5, 0]);
  });

  it('divides the current, partial bucket by the time elapsed in it', () => {
    const rates = invocationRates([sample('a', 1_000_000_200, 'succeeded'), sample('b', 1_000_000_900, 'succeeded')], NOW, spec);
    expect(rates.succeeded[4]).toBe(2);
  });
});

describe('percentiles', () => {
  it('use the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('per bucket, skipping runs without a duration and empty buckets', () => {
    const samples = [
      sample('a', 999_992_100, 'succeeded', 30),
      sample('b', 999_992_200, 'failed', 10),
      sample('c', 999_992_300, 'succeeded', 20),
      sample('d', 999_992_400, 'timed_out', null),
      sample('e', 1_000_000_100, 'succeeded', 5),
    ];
    const latency = latencyPercentiles(samples, NOW, spec);
    expect(latency.p50).toEqual([20, null, null, null, 5]);
    expect(latency.p99).toEqual([30, null, null, null, 5]);
  });

  it('over the whole window for the headline figures', () => {
    const totals = windowTotals(
      [sample('a', 999_995_000, 'succeeded', 4), sample('b', 999_996_000, 'failed', 8), sample('x', 999_000_000, 'failed', 100)],
      NOW,
      spec,
    );
    expect(totals).toEqual({ succeeded: 1, failed: 1, timed_out: 0, p50: 4, p95: 8, p99: 8 });
  });
});

describe('gauges as step functions', () => {
  const pick = (s: { v: number | null }) => s.v;

  it('hold the value at the window start, each change, and the current value at now', () => {
    const samples = [
      { at: 999_980_000, v: 1 },
      { at: 999_990_000, v: 7 },
      { at: 999_994_500, v: 3 },
      { at: 1_000_000_500, v: 5 },
      { at: 1_000_009_000, v: 9 }, // after now: not yet
    ];
    const series = gaugeSeries(samples, NOW, spec, [pick]);
    expect(series.t).toEqual([999_991, 999_994.5, 1_000_000.5, 1_000_001]);
    expect(series.values).toEqual([[7, 3, 5, 5]]);
  });

  it('start at the first sample when nothing was known before the window', () => {
    const series = queueSeries([{ at: 999_997_000, depth: 4 }], NOW, spec);
    expect(series).toEqual({ t: [999_997, 1_000_001], values: [4, 4] });
  });

  it('are empty before anything is known, and keep unknown values as gaps', () => {
    expect(gaugeSeries([], NOW, spec, [pick])).toEqual({ t: [], values: [[]] });
    expect(gaugeSeries([{ at: NOW, v: null }], NOW, spec, [pick]).values).toEqual([[null]]);
  });

  it('cover every fleet figure', () => {
    const fleet: FleetSample = {
      at: 999_993_000,
      nodesOnline: 2,
      nodesTotal: 3,
      slotsInUse: 1,
      slotsTotal: 4,
      charging: 1,
      onBattery: 1,
      noBattery: 0,
      avgBatteryPercent: null,
    };
    const series = fleetSeries([fleet], NOW, spec);
    expect(series.t).toEqual([999_993, 1_000_001]);
    expect(series.nodesOnline).toEqual([2, 2]);
    expect(series.slotsTotal).toEqual([4, 4]);
    expect(series.charging).toEqual([1, 1]);
    expect(series.avgBattery).toEqual([null, null]);
  });
});
