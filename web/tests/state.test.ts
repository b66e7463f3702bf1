import { describe, expect, it } from 'vitest';
import type { Invocation, NodeInfo } from '../src/api/types';
import {
  fleetOf,
  initialLiveState,
  MAX_SAMPLES,
  parseInvocationEvent,
  parseNodeEvent,
  reduce,
  RETENTION_MS,
  type LiveAction,
  type LiveState,
} from '../src/live/state';

const T = 1_700_000_000_000;

function node(id: string, overrides: Partial<NodeInfo> = {}, telemetry: NodeInfo['telemetry'] = {}): NodeInfo {
  return {
    id,
    name: id,
    target: 'aarch64-linux',
    online: true,
    last_seen_at: T,
    telemetry: { slots_total: 2, slots_in_use: 0, battery_percent: null, charging: null, ...telemetry },
    ...overrides,
  };
}

function run(actions: LiveAction[], from: LiveState = initialLiveState): LiveState {
  return actions.reduce(reduce, from);
}

function invocationEvent(id: string, state: string, at: number, extra: Record<string, unknown> = {}): LiveAction {
  const event = parseInvocationEvent({ id, function: 'echo', state, ...extra }, at);
  if (!event) throw new Error('bad test event');
  return { type: 'event/invocation', event };
}

describe('parsing stream events', () => {
  it('reads an invocation event with its result summary', () => {
    const event = parseInvocationEvent(
      { id: 'X', function: 'echo', state: 'succeeded', node_id: 'n1', result: { status: 'ok', wall_ms: 12.5, fuel_used: 900 } },
      T,
    );
    expect(event).toEqual({ id: 'X', function: 'echo', state: 'succeeded', at: T, nodeId: 'n1', runMs: 12.5, fuel: 900, status: 'ok' });
  });

  it('prefers the time the server stamped', () => {
    expect(parseInvocationEvent({ id: 'X', state: 'queued', at: T - 5 }, T)?.at).toBe(T - 5);
  });

  it('rejects malformed events', () => {
    for (const bad of [null, 'text', 42, {}, { id: 'X' }, { id: 'X', state: 'exploded' }, { id: 7, state: 'queued' }]) {
      expect(parseInvocationEvent(bad, T)).toBeNull();
    }
    for (const bad of [null, {}, { id: 'n' }, { id: 'n', online: 'yes' }, { online: true }]) {
      expect(parseNodeEvent(bad, T)).toBeNull();
    }
  });

  it('reads a node event; telemetry may be absent', () => {
    expect(parseNodeEvent({ id: 'n1', online: false }, T)).toEqual({
      id: 'n1',
      online: false,
      telemetry: null,
      at: T,
      name: null,
      target: null,
      lastSeenAt: null,
    });
  });
});

describe('the live state reducer', () => {
  it('tracks queue depth from queued and later states', () => {
    const state = run([
      invocationEvent('a', 'queued', T),
      invocationEvent('b', 'queued', T + 2000),
      invocationEvent('a', 'dispatched', T + 4000),
      invocationEvent('b', 'running', T + 6000),
    ]);
    expect(Object.keys(state.queued)).toEqual([]);
    expect(state.queue.map((s) => s.depth)).toEqual([1, 2, 1, 0]);
  });

  it('records a finished invocation once, with its run time', () => {
    const state = run([
      invocationEvent('a', 'queued', T),
      invocationEvent('a', 'succeeded', T + 50, { result: { wall_ms: 7 } }),
      invocationEvent('a', 'succeeded', T + 60, { result: { wall_ms: 7 } }),
    ]);
    expect(state.finished).toEqual([{ id: 'a', function: 'echo', at: T + 50, state: 'succeeded', runMs: 7 }]);
    expect(Object.keys(state.queued)).toEqual([]);
  });

  it('merges the initial history with live events, ordered by time, without duplicates', () => {
    const invocation = (id: string, state: Invocation['state'], finishedAt: number | null): Invocation => ({
      id,
      function: 'hello',
      version: 1,
      state,
      attempts: 1,
      node_id: null,
      queued_at: T - 100_000,
      dispatched_at: null,
      started_at: null,
      finished_at: finishedAt,
      result: finishedAt ? { status: 'ok', exit_code: 0, message: '', fuel_used: 1, peak_memory_bytes: 1, wall_ms: 3, output_sha256: '', output_truncated: false, stderr_truncated: false } : null,
    });
    const state = run([
      invocationEvent('live', 'failed', T),
      { type: 'history/loaded', invocations: [invocation('h1', 'succeeded', T - 5000), invocation('live', 'failed', T), invocation('q', 'queued', null)], since: T - 50_000, at: T },
    ]);
    expect(state.finished.map((s) => s.id)).toEqual(['h1', 'live']);
    expect(state.historySince).toBe(T - 50_000);
  });

  it('keeps the fleet from node events and samples its gauges', () => {
    const state = run([
      { type: 'nodes/loaded', nodes: [node('a', {}, { battery_percent: 80, charging: true, slots_total: 4 }), node('b', { online: false })], at: T },
      { type: 'event/node', event: parseNodeEvent({ id: 'b', online: true, telemetry: { slots_total: 2, slots_in_use: 1, battery_percent: 40, charging: false } }, T + 5000)! },
    ]);
    expect(state.nodesLoaded).toBe(true);
    expect(state.nodes.b?.online).toBe(true);
    expect(state.nodes.b?.name).toBe('b');
    expect(state.nodes.b?.last_seen_at).toBe(T + 5000);
    expect(state.fleet.map((s) => [s.nodesOnline, s.slotsInUse, s.slotsTotal])).toEqual([
      [1, 0, 4],
      [2, 1, 6],
    ]);
    expect(state.fleet[1]).toMatchObject({ charging: 1, onBattery: 1, noBattery: 0, avgBatteryPercent: 60 });
  });

  it('keeps what a node last reported when an event carries no telemetry', () => {
    const state = run([
      { type: 'nodes/loaded', nodes: [node('a', {}, { cpu_load: 0.5 })], at: T },
      { type: 'event/node', event: parseNodeEvent({ id: 'a', online: false }, T + 1000)! },
    ]);
    expect(state.nodes.a?.telemetry?.cpu_load).toBe(0.5);
    expect(state.nodes.a?.last_seen_at).toBe(T);
    expect(fleetOf(state.nodes, T).nodesOnline).toBe(0);
  });

  it('does not add a gauge sample when nothing changed, and coalesces bursts', () => {
    const heartbeat = (at: number, inUse: number): LiveAction => ({
      type: 'event/node',
      event: parseNodeEvent({ id: 'a', online: true, telemetry: { slots_total: 2, slots_in_use: inUse } }, at)!,
    });
    const state = run([heartbeat(T, 0), heartbeat(T + 2000, 0), heartbeat(T + 4000, 1), heartbeat(T + 4100, 2), heartbeat(T + 4200, 1)]);
    expect(state.fleet.map((s) => [s.at, s.slotsInUse])).toEqual([
      [T, 0],
      [T + 4200, 1],
    ]);
  });

  it('bounds the gauge history', () => {
    const full = Array.from({ length: MAX_SAMPLES }, (_, i) => ({ ...fleetOf({}, T + i * 2000), slotsTotal: i }));
    let state: LiveState = { ...initialLiveState, fleet: full };
    for (let i = MAX_SAMPLES; i < MAX_SAMPLES + 10; i += 1) {
      state = reduce(state, { type: 'event/node', event: parseNodeEvent({ id: 'a', online: true, telemetry: { slots_total: 2, slots_in_use: i % 2 } }, T + i * 2000)! });
    }
    expect(state.fleet).toHaveLength(MAX_SAMPLES);
  });

  it('prunes what fell out of the longest window but keeps the value at its start', () => {
    const state = run([
      invocationEvent('old', 'succeeded', T),
      invocationEvent('new', 'succeeded', T + RETENTION_MS),
      { type: 'nodes/loaded', nodes: [node('a')], at: T },
      { type: 'event/node', event: parseNodeEvent({ id: 'a', online: false }, T + 10_000)! },
      { type: 'event/node', event: parseNodeEvent({ id: 'a', online: true }, T + RETENTION_MS)! },
      { type: 'prune', now: T + RETENTION_MS + 60_000 },
    ]);
    expect(state.finished.map((s) => s.id)).toEqual(['new']);
    expect(state.seen).toEqual({ new: true });
    expect(state.fleet.map((s) => s.nodesOnline)).toEqual([0, 1]);
  });

  it('never mutates the previous state', () => {
    const before = run([{ type: 'nodes/loaded', nodes: [node('a')], at: T }]);
    const frozen = JSON.stringify(before);
    run([invocationEvent('x', 'queued', T), { type: 'event/node', event: parseNodeEvent({ id: 'a', online: false }, T)! }], before);
    expect(JSON.stringify(before)).toBe(frozen);
  });

  it('resets on logout', () => {
    expect(run([invocationEvent('x', 'queued', T), { type: 'reset' }])).toBe(initialLiveState);
  });
});
