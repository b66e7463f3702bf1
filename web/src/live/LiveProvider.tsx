// LiveProvider: one event stream per logged-in session, feeding the live
// state (live/state.ts) that the Overview and Nodes pages draw. Pages that
// show single invocations subscribe to the raw invocation events, and
// refetch when `epoch` changes (after a reconnect events may be missing).
import { createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef, useState, type ReactNode } from 'react';
import type { ApiClient } from '../api/client';
import { useClient, useSession } from '../api/session';
import type { Invocation } from '../api/types';
import { initialLiveState, reduce, RETENTION_MS, type InvocationEvent, type LiveAction, type LiveState } from './state';
import { LiveStream } from './stream';

type InvocationListener = (event: InvocationEvent) => void;

interface LiveContextValue {
  state: LiveState;
  epoch: number;
  loadError: string | null;
  onInvocation(listener: InvocationListener): () => void;
}

const LiveContext = createContext<LiveContextValue | null>(null);

export const HISTORY_PAGE = 200;
export const HISTORY_PAGES = 5;

// The caller's invocations of the last 24 h, newest first, up to
// HISTORY_PAGES pages; seeds the rate and latency charts.
async function loadHistory(client: ApiClient, dispatch: (a: LiveAction) => void): Promise<void> {
  const now = Date.now();
  const since = now - RETENTION_MS;
  let after: string | undefined;
  let oldest = since;
  const all: Invocation[] = [];
  for (let page = 0; page < HISTORY_PAGES; page += 1) {
    const answer = await client.listInvocations({ since, after, limit: HISTORY_PAGE });
    all.push(...answer.invocations);
    if (!answer.next) {
      oldest = since;
      break;
    }
    after = answer.next;
    const last = answer.invocations[answer.invocations.length - 1];
    oldest = last ? last.queued_at : now;
  }
  dispatch({ type: 'history/loaded', invocations: all, since: oldest, at: now });
  const queued = await client.listInvocations({ state: 'queued', limit: HISTORY_PAGE });
  dispatch({ type: 'queued/loaded', invocations: queued.invocations, at: Date.now() });
}

export function LiveProvider({ children }: { children: ReactNode }) {
  const client = useClient();
  const session = useSession();
  const [state, dispatch] = useReducer(reduce, initialLiveState);
  const [epoch, setEpoch] = useState(0);
  const [loadError, setLoadError] = useState<string | null>(null);
  const listeners = useRef(new Set<InvocationListener>());
  // Node events carry no name or target: a node never seen before is
  // fetched once from /nodes.
  const knownNodes = useRef(new Set<string>());
  const userId = session?.user.id ?? null;

  useEffect(() => {
    if (userId === null) return undefined;
    let cancelled = false;
    dispatch({ type: 'reset' });
    knownNodes.current = new Set();
    // One GET /nodes at a time; asks made meanwhile share one more.
    let inFlight = false;
    let again = false;
    const loadNodes = async (): Promise<void> => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      try {
        const nodes = await client.listNodes();
        if (cancelled) return;
        for (const node of nodes) knownNodes.current.add(node.id);
        dispatch({ type: 'nodes/loaded', nodes, at: Date.now() });
      } catch (error) {
        if (!cancelled) setLoadError(`nodes: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        inFlight = false;
        if (again && !cancelled) {
          again = false;
          void loadNodes();
        }
      }
    };
    const stream = new LiveStream(client, {
      invocation: (event) => {
        dispatch({ type: 'event/invocation', event });
        for (const listener of listeners.current) listener(event);
      },
      node: (event) => {
        dispatch({ type: 'event/node', event });
        if (!knownNodes.current.has(event.id)) {
          knownNodes.current.add(event.id);
          void loadNodes();
        }
      },
      status: (status, error) => dispatch({ type: 'stream', status, error }),
      resync: () => {
        void loadNodes();
        setEpoch((e) => e + 1);
      },
    });
    stream.start();
    void loadNodes();
    loadHistory(client, (action) => !cancelled && dispatch(action)).catch(
      (error: Error) => !cancelled && setLoadError(`invocations: ${error.message}`),
    );
    const pruner = window.setInterval(() => dispatch({ type: 'prune', now: Date.now() }), 60_000);
    return () => {
      cancelled = true;
      stream.stop();
      window.clearInterval(pruner);
    };
  }, [client, userId]);

  const onInvocation = useCallback((listener: InvocationListener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const value = useMemo(
    () => ({ state, epoch, loadError, onInvocation }),
    [state, epoch, loadError, onInvocation],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): LiveContextValue {
  const live = useContext(LiveContext);
  if (!live) throw new Error('useLive outside LiveProvider');
  return live;
}

// Calls `listener` for each invocation event while mounted.
export function useInvocationEvents(listener: InvocationListener): void {
  const { onInvocation } = useLive();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => onInvocation((event) => latest.current(event)), [onInvocation]);
}

// The current time, re-read every `intervalMs` (for "5 s ago" and moving chart windows).
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}
