import { describe, expect, it } from 'vitest';
import { ApiClient, memorySessionStore } from '../src/api/client';
import type { InvocationEvent, NodeEvent, StreamStatus } from '../src/live/state';
import { LiveStream, MAX_BACKOFF_MS, MIN_BACKOFF_MS, type EventSourceLike, type Timers } from '../src/live/stream';
import { apiError, fakeFetch, jsonResponse, loginAnswer } from './helpers';

const T0 = 1_700_000_000_000;

class FakeEventSource implements EventSourceLike {
  onopen: EventSourceLike['onopen'] = null;
  onerror: EventSourceLike['onerror'] = null;
  closed = false;
  private readonly listeners = new Map<string, ((event: MessageEvent) => void)[]>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (event: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.call(this, new Event('open'));
  }
  fail() {
    this.onerror?.call(this, new Event('error'));
  }
  emit(type: string, data: string) {
    for (const listener of this.listeners.get(type) ?? []) listener(new MessageEvent(type, { data }));
  }
}

class ManualTimers implements Timers {
  pending: { fn: () => void; ms: number }[] = [];
  setTimeout(fn: () => void, ms: number) {
    const entry = { fn, ms };
    this.pending.push(entry);
    return entry;
  }
  clearTimeout(handle: unknown) {
    this.pending = this.pending.filter((p) => p !== handle);
  }
  fire() {
    const next = this.pending.shift();
    next?.fn();
    return next?.ms;
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function setup(handler = (url: string) => (url.endsWith('/auth/refresh') ? jsonResponse(200, loginAnswer(2)) : jsonResponse(404, {}))) {
  const { fetch, calls } = fakeFetch((call) => handler(call.url));
  const client = new ApiClient({
    store: memorySessionStore({ accessToken: 'access-1', refreshToken: 'refresh-1', expiresAt: T0 + 900_000, user: { id: 1, name: 'u', role: 'developer' } }),
    fetch,
    now: () => T0,
  });
  const sources: FakeEventSource[] = [];
  const timers = new ManualTimers();
  const seen = { invocations: [] as InvocationEvent[], nodes: [] as NodeEvent[], statuses: [] as StreamStatus[], resyncs: 0 };
  const stream = new LiveStream(
    client,
    {
      invocation: (e) => seen.invocations.push(e),
      node: (e) => seen.nodes.push(e),
      status: (s) => seen.statuses.push(s),
      resync: () => {
        seen.resyncs += 1;
      },
      now: () => T0,
    },
    (url) => {
      const source = new FakeEventSource(url);
      sources.push(source);
      return source;
    },
    timers,
  );
  return { stream, sources, timers, seen, calls };
}

describe('LiveStream', () => {
  it('opens /events with the access token and dispatches parsed events', async () => {
    const { stream, sources, seen } = setup();
    stream.start();
    await flush();
    expect(sources[0]?.url).toBe('/api/v1/events?access_token=access-1');
    sources[0]?.open();
    sources[0]?.emit('invocation', JSON.stringify({ id: 'a', function: 'f', state: 'queued' }));
    sources[0]?.emit('node', JSON.stringify({ id: 'n', online: true, telemetry: { cpu_load: 0.5 } }));
    sources[0]?.emit('invocation', 'not json');
    sources[0]?.emit('invocation', JSON.stringify({ id: 'b', state: 'nonsense' }));
    expect(seen.invocations.map((e) => e.id)).toEqual(['a']);
    expect(seen.nodes.map((e) => e.telemetry?.cpu_load)).toEqual([0.5]);
    expect(seen.statuses).toEqual(['connecting', 'open']);
    expect(seen.resyncs).toBe(0);
  });

  it('reconnects after a drop, backing off, and asks views to resync', async () => {
    const { stream, sources, timers, seen, calls } = setup();
    stream.start();
    await flush();
    sources[0]?.open();
    sources[0]?.fail();
    expect(sources[0]?.closed).toBe(true);
    expect(seen.statuses.at(-1)).toBe('reconnecting');
    expect(timers.fire()).toBe(MIN_BACKOFF_MS);
    await flush();
    expect(sources).toHaveLength(2);
    expect(calls.filter((c) => c.url.endsWith('/auth/refresh'))).toHaveLength(0);
    sources[1]?.open();
    expect(seen.resyncs).toBe(1);
    expect(seen.statuses.at(-1)).toBe('open');
  });

  it('refreshes the token when a connection fails before opening (expired or revoked token)', async () => {
    const { stream, sources, timers, calls } = setup();
    stream.start();
    await flush();
    sources[0]?.fail();
    expect(timers.fire()).toBe(MIN_BACKOFF_MS);
    await flush();
    await flush();
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/auth/refresh']);
    expect(sources[1]?.url).toBe('/api/v1/events?access_token=access-2');
    sources[1]?.fail();
    expect(timers.fire()).toBe(2 * MIN_BACKOFF_MS);
  });

  it('caps the back-off', async () => {
    const { stream, sources, timers } = setup();
    stream.start();
    await flush();
    const delays: (number | undefined)[] = [];
    for (let i = 0; i < 8; i += 1) {
      sources.at(-1)?.fail();
      delays.push(timers.fire());
      await flush();
      await flush();
    }
    expect(delays.at(-1)).toBe(MAX_BACKOFF_MS);
  });

  it('gives up when the session is gone', async () => {
    const { stream, sources, timers, seen } = setup(() => apiError(401, 'unauthorized', 'revoked'));
    stream.start();
    await flush();
    sources[0]?.fail();
    timers.fire();
    await flush();
    await flush();
    expect(seen.statuses.at(-1)).toBe('closed');
    expect(timers.pending).toHaveLength(0);
    expect(sources).toHaveLength(1);
  });

  it('stop closes the connection and cancels a pending reconnect', async () => {
    const { stream, sources, timers, seen } = setup();
    stream.start();
    await flush();
    sources[0]?.open();
    sources[0]?.fail();
    stream.stop();
    expect(timers.pending).toHaveLength(0);
    expect(seen.statuses.at(-1)).toBe('closed');
  });
});
