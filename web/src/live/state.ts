// The live view of the platform, built from an initial fetch and then only
// from the event stream (GET /api/v1/events): the fleet's nodes, the
// caller's recent finished invocations (for rates and latency), which of
// them are queued, and time series of the fleet's gauges. Pure: reduce()
// never mutates its input, so React can compare states by reference.
import type { Invocation, InvocationState, NodeInfo, Telemetry } from '../api/types';
import { FINAL_STATES, INVOCATION_STATES } from '../api/types';

export type FinalState = 'succeeded' | 'failed' | 'timed_out';

export interface FinishedSample {
  id: string;
  function: string;
  at: number; // when it finished, Unix ms
  state: FinalState;
  runMs: number | null; // time on the node (result.wall_ms)
}

export interface FleetSample {
  at: number;
  nodesOnline: number;
  nodesTotal: number;
  slotsInUse: number;
  slotsTotal: number;
  charging: number; // online nodes plugged in
  onBattery: number; // online nodes running on battery
  noBattery: number; // online nodes that report no battery
  avgBatteryPercent: number | null;
}

export interface QueueSample {
  at: number;
  depth: number;
}

// An invocation event from the stream, as parsed.
export interface InvocationEvent {
  id: string;
  function: string;
  state: InvocationState;
  at: number;
  nodeId: string | null;
  runMs: number | null;
  fuel: number | null;
  status: string | null;
}

export interface NodeEvent {
  id: string;
  online: boolean;
  telemetry: Telemetry | null;
  at: number;
  name: string | null;
  target: string | null;
  lastSeenAt: number | null;
}

export type StreamStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface LiveState {
  nodes: Record<string, NodeInfo>;
  nodesLoaded: boolean; // the initial GET /nodes answered
  finished: FinishedSample[]; // ordered by `at`
  seen: Record<string, true>; // ids in `finished`
  queued: Record<string, true>; // the caller's invocations waiting for a node
  fleet: FleetSample[];
  queue: QueueSample[];
  historySince: number | null; // the oldest finished invocation the initial fetch reached
  stream: StreamStatus;
  streamError: string | null;
  lastEventAt: number | null;
}

export const RETENTION_MS = 24 * 3600 * 1000;
export const MAX_FINISHED = 100_000;
export const MAX_SAMPLES = 20_000;

export const initialLiveState: LiveState = {
  nodes: {},
  nodesLoaded: false,
  finished: [],
  seen: {},
  queued: {},
  fleet: [],
  queue: [],
  historySince: null,
  stream: 'connecting',
  streamError: null,
  lastEventAt: null,
};

export type LiveAction =
  | { type: 'nodes/loaded'; nodes: NodeInfo[]; at: number }
  | { type: 'history/loaded'; invocations: Invocation[]; since: number; at: number }
  | { type: 'queued/loaded'; invocations: Invocation[]; at: number }
  | { type: 'event/invocation'; event: InvocationEvent }
  | { type: 'event/node'; event: NodeEvent }
  | { type: 'stream'; status: StreamStatus; error?: string | null }
  | { type: 'prune'; now: number }
  | { type: 'reset' };

const isFinal = (state: string): state is FinalState =>
  (FINAL_STATES as readonly string[]).includes(state);

const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

// Parses the JSON data of an `invocation` event; null when malformed.
export function parseInvocationEvent(data: unknown, receivedAt: number): InvocationEvent | null {
  if (!data || typeof data !== 'object') return null;
  const d = data as Record<string, unknown>;
  const id = str(d.id);
  const state = str(d.state);
  if (!id || !state || !(INVOCATION_STATES as readonly string[]).includes(state)) return null;
  const result = (d.result && typeof d.result === 'object' ? d.result : {}) as Record<string, unknown>;
  return {
    id,
    function: str(d.function) ?? '',
    state: state as InvocationState,
    at: num(d.at) ?? num(d.finished_at) ?? receivedAt,
    nodeId: str(d.node_id),
    runMs: num(result.wall_ms),
    fuel: num(result.fuel_used),
    status: str(result.status),
  };
}

// Parses the JSON data of a `node` event; null when malformed.
export function parseNodeEvent(data: unknown, receivedAt: number): NodeEvent | null {
  if (!data || typeof data !== 'object') return null;
  const d = data as Record<string, unknown>;
  const id = str(d.id);
  if (!id || typeof d.online !== 'boolean') return null;
  const telemetry = d.telemetry && typeof d.telemetry === 'object' ? (d.telemetry as Telemetry) : null;
  return {
    id,
    online: d.online,
    telemetry,
    at: num(d.at) ?? receivedAt,
    name: str(d.name),
    target: str(d.target),
    lastSeenAt: num(d.last_seen_at),
  };
}

export function fleetOf(nodes: Record<string, NodeInfo>, at: number): FleetSample {
  const sample: FleetSample = {
    at,
    nodesOnline: 0,
    nodesTotal: 0,
    slotsInUse: 0,
    slotsTotal: 0,
    charging: 0,
    onBattery: 0,
    noBattery: 0,
    avgBatteryPercent: null,
  };
  let batterySum = 0;
  let batteryCount = 0;
  for (const node of Object.values(nodes)) {
    sample.nodesTotal += 1;
    if (!node.online) continue;
    sample.nodesOnline += 1;
    const t = node.telemetry ?? {};
    sample.slotsInUse += t.slots_in_use ?? 0;
    sample.slotsTotal += t.slots_total ?? 0;
    const battery = num(t.battery_percent);
    if (battery === null) sample.noBattery += 1;
    else if (t.charging) sample.charging += 1;
    else sample.onBattery += 1;
    if (battery !== null) {
      batterySum += battery;
      batteryCount += 1;
    }
  }
  sample.avgBatteryPercent = batteryCount > 0 ? batterySum / batteryCount : null;
  return sample;
}

function sameFleet(a: FleetSample, b: FleetSample): boolean {
  return (
    a.nodesOnline === b.nodesOnline &&
    a.nodesTotal === b.nodesTotal &&
    a.slotsInUse === b.slotsInUse &&
    a.slotsTotal === b.slotsTotal &&
    a.charging === b.charging &&
    a.onBattery === b.onBattery &&
    a.noBattery === b.noBattery &&
    (a.avgBatteryPercent === null) === (b.avgBatteryPercent === null) &&
    Math.abs((a.avgBatteryPercent ?? 0) - (b.avgBatteryPercent ?? 0)) < 0.5
  );
}

// Appends a gauge sample unless it repeats the last one; a sample within a
// second of the last replaces it, so bursts of events cost one point.
function appendSample<T extends { at: number }>(samples: T[], sample: T, same: (a: T, b: T) => boolean): T[] {
  const last = samples[samples.length - 1];
  if (last && same(last, sample)) return samples;
  const base = last && sample.at - last.at < 1000 && samples.length > 1 ? samples.slice(0, -1) : samples;
  const next = [...base, sample];
  return next.length > MAX_SAMPLES ? next.slice(next.length - MAX_SAMPLES) : next;
}

function withFleet(state: LiveState, nodes: Record<string, NodeInfo>, at: number): LiveState {
  return { ...state, nodes, fleet: appendSample(state.fleet, fleetOf(nodes, at), sameFleet) };
}

function withQueue(state: LiveState, queued: Record<string, true>, at: number): LiveState {
  if (queued === state.queued && state.queue.length > 0) return state;
  const sample = { at, depth: Object.keys(queued).length };
  return { ...state, queued, queue: appendSample(state.queue, sample, (a, b) => a.depth === b.depth) };
}

function insertFinished(state: LiveState, samples: FinishedSample[]): LiveState {
  const fresh = samples.filter((s) => !state.seen[s.id]);
  if (fresh.length === 0) return state;
  let finished = [...state.finished, ...fresh].sort((a, b) => a.at - b.at);
  const seen = { ...state.seen };
  for (const s of fresh) seen[s.id] = true;
  if (finished.length > MAX_FINISHED) {
    for (const s of finished.slice(0, finished.length - MAX_FINISHED)) delete seen[s.id];
    finished = finished.slice(finished.length - MAX_FINISHED);
  }
  return { ...state, finished, seen };
}

function sampleOf(invocation: Invocation): FinishedSample | null {
  if (!isFinal(invocation.state)) return null;
  return {
    id: invocation.id,
    function: invocation.function,
    at: invocation.finished_at ?? invocation.queued_at,
    state: invocation.state,
    runMs: invocation.result ? num(invocation.result.wall_ms) : null,
  };
}

function applyNodeEvent(state: LiveState, event: NodeEvent): LiveState {
  const previous = state.nodes[event.id];
  const node: NodeInfo = {
    id: event.id,
    name: event.name ?? previous?.name ?? event.id,
    target: event.target ?? previous?.target ?? '',
    online: event.online,
    last_seen_at: event.lastSeenAt ?? (event.online ? event.at : previous?.last_seen_at ?? null),
    telemetry: event.telemetry ?? previous?.telemetry ?? null,
  };
  return withFleet({ ...state, lastEventAt: event.at }, { ...state.nodes, [event.id]: node }, event.at);
}

function applyInvocationEvent(state: LiveState, event: InvocationEvent): LiveState {
  let next: LiveState = { ...state, lastEventAt: event.at };
  const wasQueued = Boolean(state.queued[event.id]);
  if (event.state === 'queued' && !wasQueued) {
    next = withQueue(next, { ...state.queued, [event.id]: true }, event.at);
  } else if (event.state !== 'queued' && wasQueued) {
    const queued = { ...state.queued };
    delete queued[event.id];
    next = withQueue(next, queued, event.at);
  }
  if (isFinal(event.state)) {
    next = insertFinished(next, [
      { id: event.id, function: event.function, at: event.at, state: event.state, runMs: event.runMs },
    ]);
  }
  return next;
}

function prune(state: LiveState, now: number): LiveState {
  const cutoff = now - RETENTION_MS;
  const firstKept = state.finished.findIndex((s) => s.at >= cutoff);
  const drop = firstKept === -1 ? state.finished.length : firstKept;
  const keepSamples = <T extends { at: number }>(samples: T[]): T[] => {
    // Keep the last sample before the cutoff: it holds the value at the cutoff.
    const index = samples.findIndex((s) => s.at >= cutoff);
    const from = index === -1 ? samples.length - 1 : Math.max(index - 1, 0);
    return from > 0 ? samples.slice(from) : samples;
  };
  const fleet = keepSamples(state.fleet);
  const queue = keepSamples(state.queue);
  if (drop === 0 && fleet === state.fleet && queue === state.queue) return state;
  const seen = { ...state.seen };
  for (const s of state.finished.slice(0, drop)) delete seen[s.id];
  return { ...state, finished: state.finished.slice(drop), seen, fleet, queue };
}

export function reduce(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case 'nodes/loaded': {
      const nodes: Record<string, NodeInfo> = {};
      for (const node of action.nodes) nodes[node.id] = node;
      return withFleet({ ...state, nodesLoaded: true }, nodes, action.at);
    }
    case 'history/loaded': {
      const samples = action.invocations.map(sampleOf).filter((s): s is FinishedSample => s !== null);
      const next = insertFinished(state, samples);
      return { ...next, historySince: action.since };
    }
    case 'queued/loaded': {
      const queued: Record<string, true> = { ...state.queued };
      for (const invocation of action.invocations) {
        if (invocation.state === 'queued') queued[invocation.id] = true;
      }
      return withQueue(state, queued, action.at);
    }
    case 'event/invocation':
      return applyInvocationEvent(state, action.event);
    case 'event/node':
      return applyNodeEvent(state, action.event);
    case 'stream':
      return { ...state, stream: action.status, streamError: action.error ?? null };
    case 'prune':
      return prune(state, action.now);
    case 'reset':
      return initialLiveState;
  }
}
