// LiveStream: keeps one Server-Sent Events connection to /api/v1/events
// open for as long as it runs. EventSource cannot send headers, so the
// access token rides in ?access_token=; every (re)connection asks the
// ApiClient for a fresh URL, and a connection that fails before opening
// forces a token refresh first (the token may have expired or been
// revoked). Reconnects back off from 1 s to 30 s.
import type { ApiClient } from '../api/client';
import { ApiError } from '../api/client';
import type { InvocationEvent, NodeEvent, StreamStatus } from './state';
import { parseInvocationEvent, parseNodeEvent } from './state';

export interface EventSourceLike {
  onopen: ((this: EventSourceLike, ev: Event) => unknown) | null;
  onerror: ((this: EventSourceLike, ev: Event) => unknown) | null;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

export type EventSourceFactory = (url: string) => EventSourceLike;

export interface StreamHandlers {
  invocation(event: InvocationEvent): void;
  node(event: NodeEvent): void;
  status(status: StreamStatus, error: string | null): void;
  // After a reconnect: events may have been missed, so views refetch.
  resync(): void;
  now?: () => number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export const MIN_BACKOFF_MS = 1000;
export const MAX_BACKOFF_MS = 30_000;

export class LiveStream {
  private source: EventSourceLike | null = null;
  private timer: unknown = null;
  private backoff = MIN_BACKOFF_MS;
  private opened = false;
  private everOpened = false;
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    private readonly handlers: StreamHandlers,
    private readonly factory: EventSourceFactory = (url) => new EventSource(url) as unknown as EventSourceLike,
    private readonly timers: Timers = defaultTimers,
  ) {}

  start(): void {
    this.stopped = false;
    void this.connect(false);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.source?.close();
    this.source = null;
    this.handlers.status('closed', null);
  }

  private now(): number {
    return (this.handlers.now ?? Date.now)();
  }

  private async connect(forceRefresh: boolean): Promise<void> {
    this.handlers.status(this.everOpened ? 'reconnecting' : 'connecting', null);
    let url: string;
    try {
      if (forceRefresh) await this.client.refresh();
      url = await this.client.eventsUrl();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        // The session is gone; the app returns to the login page.
        this.handlers.status('closed', error.message);
        return;
      }
      this.scheduleReconnect(error instanceof Error ? error.message : String(error), false);
      return;
    }
    if (this.stopped) return;
    const source = this.factory(url);
    this.source = source;
    this.opened = false;
    source.onopen = () => {
      if (source !== this.source) return;
      const reconnect = this.everOpened;
      this.opened = true;
      this.everOpened = true;
      this.backoff = MIN_BACKOFF_MS;
      this.handlers.status('open', null);
      if (reconnect) this.handlers.resync();
    };
    source.onerror = () => {
      if (source !== this.source) return;
      source.close();
      this.source = null;
      const wasOpen = this.opened;
      this.scheduleReconnect(wasOpen ? 'the live connection dropped' : 'cannot open the live stream', !wasOpen);
    };
    source.addEventListener('invocation', (message) => {
      const event = parseInvocationEvent(safeParse(message.data), this.now());
      if (event) this.handlers.invocation(event);
    });
    source.addEventListener('node', (message) => {
      const event = parseNodeEvent(safeParse(message.data), this.now());
      if (event) this.handlers.node(event);
    });
  }

  private scheduleReconnect(reason: string, forceRefresh: boolean): void {
    if (this.stopped) return;
    this.handlers.status('reconnecting', reason);
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      void this.connect(forceRefresh);
    }, delay);
  }
}

function safeParse(data: unknown): unknown {
  if (typeof data !== 'string') return null;
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}
