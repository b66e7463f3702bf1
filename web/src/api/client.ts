// ApiClient: every call to /api/v1 goes through here. It holds the session
// (access + refresh token), refreshes the access token shortly before it
// expires and once more when a call answers 401, and turns every failure
// into an ApiError carrying the API's {"error":{code,message}}.
//
// Refresh tokens rotate (the old one stops working), so concurrent calls
// share one refresh, and a refresh first re-reads the store in case another
// tab already rotated the token.
import { parseDiagnostics, type CompileDiagnostic } from '../lib/diagnostics';
import type {
  ApiKey,
  CompileAnswer,
  DeployAnswer,
  FunctionDetail,
  FunctionSettings,
  FunctionSource,
  FunctionSummary,
  Invocation,
  InvocationPage,
  InvocationState,
  LoginAnswer,
  Logs,
  NewApiKey,
  NodeInfo,
  NodeToken,
  Quota,
  Role,
  Schedule,
  SourceDeployAnswer,
  SyncInvokeAnswer,
  UsageAnswer,
  User,
} from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: unknown;

  constructor(status: number, code: string, message: string, body: unknown = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

// A compile the compiler refused (422): the API error plus the compiler's
// diagnostics, for the editor to show where they are.
export class CompileFailedError extends ApiError {
  readonly diagnostics: CompileDiagnostic[];

  constructor(status: number, code: string, message: string, body: unknown, diagnostics: CompileDiagnostic[]) {
    super(status, code, message, body);
    this.name = 'CompileFailedError';
    this.diagnostics = diagnostics;
  }
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresAt: number; // Unix ms
  user: User;
}

export interface SessionStore {
  load(): Session | null;
  save(session: Session | null): void;
}

const STORAGE_KEY = 'milf.session';

export function browserSessionStore(storage: Storage = window.localStorage): SessionStore {
  return {
    load() {
      const text = storage.getItem(STORAGE_KEY);
      if (!text) return null;
      try {
        const value = JSON.parse(text) as Session;
        return value && typeof value.accessToken === 'string' ? value : null;
      } catch {
        return null;
      }
    },
    save(session) {
      if (session) storage.setItem(STORAGE_KEY, JSON.stringify(session));
      else storage.removeItem(STORAGE_KEY);
    },
  };
}

export function memorySessionStore(initial: Session | null = null): SessionStore {
  let current = initial;
  return {
    load: () => current,
    save: (session) => {
      current = session;
    },
  };
}

export interface ClientOptions {
  store: SessionStore;
  baseUrl?: string; // default "/api/v1"
  fetch?: typeof fetch;
  now?: () => number;
  // Refresh this long before the access token expires.
  refreshMarginMs?: number;
}

type Body = BodyInit | Uint8Array | null | undefined;

export interface RequestOptions {
  query?: Record<string, string | number | boolean | null | undefined | string[]>;
  json?: unknown;
  body?: Body;
  contentType?: string;
  auth?: boolean; // default true
}

type Listener = (session: Session | null) => void;

export function buildQuery(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's error page, say): fall through to the status line.
  }
  const top = (body ?? {}) as { error?: unknown; message?: unknown; diagnostics?: unknown };
  // {"error":{"code","message"}}, or {"error":"code","message"} as the
  // compile endpoints answer.
  const nested = top.error && typeof top.error === 'object' ? (top.error as Record<string, unknown>) : null;
  const code = typeof top.error === 'string' ? top.error : nested?.code;
  if (typeof code === 'string') {
    const text = nested ? nested.message : top.message;
    const message = typeof text === 'string' && text ? text : code;
    const diagnostics = top.diagnostics ?? nested?.diagnostics;
    if (Array.isArray(diagnostics)) {
      return new CompileFailedError(response.status, code, message, body, parseDiagnostics(diagnostics));
    }
    return new ApiError(response.status, code, message, body);
  }
  const statusText = response.statusText || 'error';
  return new ApiError(response.status, `http_${response.status}`, `HTTP ${response.status} ${statusText}`, body);
}

const SOURCE_TYPE = 'text/plain; charset=utf-8';

// GET /functions/{name}/source as servers answer it: the text as "source"
// or "text", the language named or left to the file's extension.
interface SourceAnswer {
  filename: string;
  version: number;
  language?: string;
  source?: string;
  text?: string;
}

// A function's settings as the deploy endpoints take them, in the query.
function settingsQuery(settings: FunctionSettings): NonNullable<RequestOptions['query']> {
  return {
    memory_mb: settings.memory_mb,
    timeout_ms: settings.timeout_ms,
    fuel: settings.fuel ?? undefined,
    entry: settings.entry,
    env: settings.env && settings.env.length > 0 ? settings.env : undefined,
  };
}

function numberHeader(headers: Headers, name: string): number | null {
  const value = headers.get(name);
  if (value === null || value.trim() === '') return null;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}

export class ApiClient {
  private readonly store: SessionStore;
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly refreshMarginMs: number;
  private current: Session | null;
  private refreshing: Promise<Session> | null = null;
  private readonly listeners = new Set<Listener>();

  constructor(options: ClientOptions) {
    this.store = options.store;
    this.baseUrl = options.baseUrl ?? '/api/v1';
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? (() => Date.now());
    this.refreshMarginMs = options.refreshMarginMs ?? 60_000;
    this.current = this.store.load();
  }

  get session(): Session | null {
    return this.current;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Picks up a session another tab saved (or cleared).
  reloadFromStore(): void {
    const stored = this.store.load();
    if (stored?.refreshToken !== this.current?.refreshToken) this.setSession(stored, false);
  }

  private setSession(session: Session | null, persist = true): void {
    this.current = session;
    if (persist) this.store.save(session);
    for (const listener of this.listeners) listener(session);
  }

  private sessionFrom(answer: LoginAnswer): Session {
    return {
      accessToken: answer.access_token,
      refreshToken: answer.refresh_token,
      expiresAt: this.now() + answer.expires_in * 1000,
      user: answer.user,
    };
  }

  async login(user: string, password: string): Promise<User> {
    const answer = await this.send<LoginAnswer>('POST', '/auth/login', {
      json: { user, password },
      auth: false,
    });
    this.setSession(this.sessionFrom(answer));
    return answer.user;
  }

  logout(): void {
    this.refreshing = null;
    this.setSession(null);
  }

  // A valid access token, refreshed first when it is about to expire.
  async accessToken(): Promise<string> {
    const session = this.current;
    if (!session) throw new ApiError(401, 'unauthorized', 'not logged in');
    if (session.expiresAt - this.now() > this.refreshMarginMs) return session.accessToken;
    return (await this.refresh()).accessToken;
  }

  refresh(): Promise<Session> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<Session> {
    const stored = this.store.load();
    if (
      stored &&
      stored.refreshToken !== this.current?.refreshToken &&
      stored.expiresAt - this.now() > this.refreshMarginMs
    ) {
      this.setSession(stored, false);
      return stored;
    }
    const session = this.current;
    if (!session) throw new ApiError(401, 'unauthorized', 'not logged in');
    try {
      const answer = await this.send<LoginAnswer>('POST', '/auth/refresh', {
        json: { refresh_token: session.refreshToken },
        auth: false,
      });
      const next = this.sessionFrom(answer);
      this.setSession(next);
      return next;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.setSession(null);
        throw new ApiError(401, 'unauthorized', 'your session has expired; log in again');
      }
      throw error;
    }
  }

  private async raw(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const auth = options.auth ?? true;
    const attempt = async (token: string | null): Promise<Response> => {
      const headers: Record<string, string> = {};
      let body: BodyInit | null | undefined = options.body as BodyInit | null | undefined;
      if (options.json !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(options.json);
      } else if (options.contentType) {
        headers['Content-Type'] = options.contentType;
      }
      if (token) headers.Authorization = `Bearer ${token}`;
      try {
        return await this.fetchImpl(`${this.baseUrl}${path}${buildQuery(options.query)}`, {
          method,
          headers,
          body,
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ApiError(0, 'network', `cannot reach the server (${reason})`);
      }
    };
    if (!auth) return attempt(null);
    const first = await attempt(await this.accessToken());
    if (first.status !== 401) return first;
    // The token may have been revoked or the clock skewed: refresh once.
    const session = await this.refresh();
    return attempt(session.accessToken);
  }

  private async send<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.raw(method, path, options);
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.status, 'invalid_json', 'the server answered with malformed JSON');
    }
  }

  private async bytes(method: string, path: string, options: RequestOptions = {}): Promise<Uint8Array> {
    const response = await this.raw(method, path, options);
    if (!response.ok) throw await errorFrom(response);
    return new Uint8Array(await response.arrayBuffer());
  }

  // Account.
  changePassword = (oldPassword: string, newPassword: string) =>
    this.send<void>('POST', '/auth/password', {
      json: { old_password: oldPassword, new_password: newPassword },
    });

  // Users (admin).
  listUsers = () => this.send<{ users: User[] }>('GET', '/users').then((a) => a.users);
  createUser = (name: string, password: string, role: Role) =>
    this.send<User>('POST', '/users', { json: { name, password, role } });
  deleteUser = (name: string) => this.send<void>('DELETE', `/users/${encodeURIComponent(name)}`);
  setQuota = (name: string, quota: Quota) =>
    this.send<void>('PUT', `/users/${encodeURIComponent(name)}/quota`, { json: quota });

  // API keys (own).
  listKeys = () => this.send<{ keys: ApiKey[] }>('GET', '/keys').then((a) => a.keys);
  createKey = (name: string) => this.send<NewApiKey>('POST', '/keys', { json: { name } });
  deleteKey = (id: string | number) =>
    this.send<void>('DELETE', `/keys/${encodeURIComponent(String(id))}`);

  // Nodes.
  createNodeToken = (ttlSeconds?: number) =>
    this.send<NodeToken>('POST', '/tokens/node', {
      json: ttlSeconds ? { ttl_seconds: ttlSeconds } : {},
    });
  listNodes = () => this.send<{ nodes: NodeInfo[] }>('GET', '/nodes').then((a) => a.nodes);

  // Functions.
  listFunctions = () =>
    this.send<{ functions: FunctionSummary[] }>('GET', '/functions').then((a) => a.functions);
  getFunction = (name: string) =>
    this.send<FunctionDetail>('GET', `/functions/${encodeURIComponent(name)}`);
  deleteFunction = (name: string) =>
    this.send<void>('DELETE', `/functions/${encodeURIComponent(name)}`);
  deployFunction = (name: string, module: Blob | Uint8Array, settings: FunctionSettings) =>
    this.send<DeployAnswer>('PUT', `/functions/${encodeURIComponent(name)}`, {
      body: module,
      contentType: 'application/wasm',
      query: settingsQuery(settings),
    });

  // Source code. A compile the compiler refuses rejects with a
  // CompileFailedError carrying its diagnostics.
  compile = (filename: string, source: string) =>
    this.send<CompileAnswer>('POST', '/compile', {
      body: source,
      contentType: SOURCE_TYPE,
      query: { filename },
    });
  deployFromSource = (name: string, filename: string, source: string, settings: FunctionSettings) =>
    this.send<SourceDeployAnswer>('POST', `/functions/${encodeURIComponent(name)}/source`, {
      body: source,
      contentType: SOURCE_TYPE,
      query: { filename, ...settingsQuery(settings) },
    });
  // The source of the latest version; null when that version was not
  // deployed from a single source file (the API answers 404).
  getSource = (name: string) =>
    this.send<SourceAnswer>('GET', `/functions/${encodeURIComponent(name)}/source`).then(
      (answer): FunctionSource => ({
        filename: answer.filename,
        language: answer.language ?? '',
        source: answer.source ?? answer.text ?? '',
        version: answer.version,
      }),
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      },
    );
  listSchedules = (name: string) =>
    this.send<{ schedules: Schedule[] }>('GET', `/functions/${encodeURIComponent(name)}/schedules`).then(
      (a) => a.schedules,
    );
  createSchedule = (name: string, cron: string, inputBase64?: string) =>
    this.send<Schedule>('POST', `/functions/${encodeURIComponent(name)}/schedules`, {
      json: inputBase64 ? { cron, input: inputBase64 } : { cron },
    });
  deleteSchedule = (name: string, id: string | number) =>
    this.send<void>(
      'DELETE',
      `/functions/${encodeURIComponent(name)}/schedules/${encodeURIComponent(String(id))}`,
    );

  // Invocations.
  async invokeSync(name: string, input: Blob | Uint8Array | string, contentType: string): Promise<SyncInvokeAnswer> {
    const response = await this.raw('POST', `/functions/${encodeURIComponent(name)}/invoke`, {
      body: input,
      contentType,
    });
    if (!response.ok) throw await errorFrom(response);
    const headers = response.headers;
    return {
      id: headers.get('X-Milf-Invocation-Id'),
      status: headers.get('X-Milf-Status'),
      runStatus: headers.get('X-Milf-Run-Status'),
      durationMs: numberHeader(headers, 'X-Milf-Duration-Ms'),
      fuel: numberHeader(headers, 'X-Milf-Fuel'),
      output: new Uint8Array(await response.arrayBuffer()),
    };
  }
  invokeAsync = (name: string, input: Blob | Uint8Array | string, contentType: string) =>
    this.send<{ id: string; state: InvocationState }>(
      'POST',
      `/functions/${encodeURIComponent(name)}/invoke`,
      { body: input, contentType, query: { async: 1 } },
    );
  listInvocations = (filter: InvocationFilter) =>
    this.send<InvocationPage>('GET', '/invocations', {
      query: {
        function: filter.function,
        state: filter.state,
        since: filter.since,
        until: filter.until,
        after: filter.after,
        limit: filter.limit,
      },
    });
  getInvocation = (id: string) =>
    this.send<Invocation>('GET', `/invocations/${encodeURIComponent(id)}`);
  getOutput = (id: string) => this.bytes('GET', `/invocations/${encodeURIComponent(id)}/output`);
  getLogs = (id: string) => this.send<Logs>('GET', `/invocations/${encodeURIComponent(id)}/logs`);

  // Usage.
  usage = () => this.send<UsageAnswer>('GET', '/usage');

  // The URL of the live event stream, with a fresh token (EventSource
  // cannot send headers).
  async eventsUrl(): Promise<string> {
    const token = await this.accessToken();
    return `${this.baseUrl}/events${buildQuery({ access_token: token })}`;
  }
}

export interface InvocationFilter {
  function?: string;
  state?: InvocationState;
  since?: number;
  until?: number;
  after?: string;
  limit?: number;
}
