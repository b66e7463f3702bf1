import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, buildQuery, memorySessionStore, type Session } from '../src/api/client';
import { apiError, fakeFetch, jsonResponse, loginAnswer } from './helpers';

const T0 = 1_700_000_000_000;

function session(n: number, expiresAt = T0 + 900_000): Session {
  return { accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresAt, user: { id: 7, name: 'dev', role: 'developer' } };
}

describe('ApiClient login and session', () => {
  it('stores the session from /auth/login and sends the bearer token afterwards', async () => {
    const store = memorySessionStore();
    const { fetch, calls } = fakeFetch((call) =>
      call.url.endsWith('/auth/login') ? jsonResponse(200, loginAnswer(1)) : jsonResponse(200, { functions: [] }),
    );
    const client = new ApiClient({ store, fetch, now: () => T0 });
    const user = await client.login('dev', 'secret');
    expect(user.name).toBe('dev');
    expect(store.load()).toEqual(session(1));
    expect(JSON.parse(String(calls[0]?.body))).toEqual({ user: 'dev', password: 'secret' });
    expect(calls[0]?.headers.Authorization).toBeUndefined();
    await client.listFunctions();
    expect(calls[1]?.url).toBe('/api/v1/functions');
    expect(calls[1]?.headers.Authorization).toBe('Bearer access-1');
  });

  it('reports bad credentials as a 401 ApiError and keeps no session', async () => {
    const store = memorySessionStore();
    const { fetch } = fakeFetch(() => apiError(401, 'unauthorized', 'bad user name or password'));
    const client = new ApiClient({ store, fetch });
    const error = await client.login('dev', 'wrong').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: 'unauthorized', message: 'bad user name or password' });
    expect(store.load()).toBeNull();
  });

  it('notifies subscribers and clears the store on logout', () => {
    const store = memorySessionStore(session(1));
    const client = new ApiClient({ store, fetch: fakeFetch(() => jsonResponse(200, {})).fetch });
    const seen: (Session | null)[] = [];
    client.subscribe((s) => seen.push(s));
    client.logout();
    expect(seen).toEqual([null]);
    expect(store.load()).toBeNull();
    expect(client.session).toBeNull();
  });

  it('refuses calls without a session', async () => {
    const client = new ApiClient({ store: memorySessionStore(), fetch: fakeFetch(() => jsonResponse(200, {})).fetch });
    await expect(client.listFunctions()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });
});

describe('ApiClient token refresh', () => {
  it('refreshes before a call when the access token is about to expire', async () => {
    const store = memorySessionStore(session(1, T0 + 30_000));
    const { fetch, calls } = fakeFetch((call) =>
      call.url.endsWith('/auth/refresh') ? jsonResponse(200, loginAnswer(2)) : jsonResponse(200, { functions: [] }),
    );
    const client = new ApiClient({ store, fetch, now: () => T0 });
    await client.listFunctions();
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/auth/refresh', '/api/v1/functions']);
    expect(JSON.parse(String(calls[0]?.body))).toEqual({ refresh_token: 'refresh-1' });
    expect(calls[1]?.headers.Authorization).toBe('Bearer access-2');
    expect(store.load()?.refreshToken).toBe('refresh-2');
    expect(store.load()?.expiresAt).toBe(T0 + 900_000);
  });

  it('refreshes once and retries when a call answers 401', async () => {
    const { fetch, calls } = fakeFetch((call) => {
      if (call.url.endsWith('/auth/refresh')) return jsonResponse(200, loginAnswer(2));
      return call.headers.Authorization === 'Bearer access-2'
        ? jsonResponse(200, { nodes: [] })
        : apiError(401, 'unauthorized', 'token expired');
    });
    const client = new ApiClient({ store: memorySessionStore(session(1)), fetch, now: () => T0 });
    await expect(client.listNodes()).resolves.toEqual([]);
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/nodes', '/api/v1/auth/refresh', '/api/v1/nodes']);
  });

  it('shares one refresh between concurrent calls (refresh tokens rotate)', async () => {
    let refreshes = 0;
    const { fetch } = fakeFetch(async (call) => {
      if (call.url.endsWith('/auth/refresh')) {
        refreshes += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return jsonResponse(200, loginAnswer(2));
      }
      return call.headers.Authorization === 'Bearer access-2' ? jsonResponse(200, { keys: [] }) : apiError(401, 'unauthorized', 'expired');
    });
    const client = new ApiClient({ store: memorySessionStore(session(1)), fetch, now: () => T0 });
    await Promise.all([client.listKeys(), client.listKeys(), client.listKeys()]);
    expect(refreshes).toBe(1);
  });

  it('ends the session when the refresh token is refused', async () => {
    const store = memorySessionStore(session(1));
    const { fetch } = fakeFetch((call) =>
      call.url.endsWith('/auth/refresh') ? apiError(401, 'unauthorized', 'refresh token revoked') : apiError(401, 'unauthorized', 'expired'),
    );
    const client = new ApiClient({ store, fetch, now: () => T0 });
    const seen: (Session | null)[] = [];
    client.subscribe((s) => seen.push(s));
    await expect(client.usage()).rejects.toMatchObject({ status: 401, message: 'your session has expired; log in again' });
    expect(store.load()).toBeNull();
    expect(seen).toEqual([null]);
  });

  it('keeps the session when the refresh fails for another reason', async () => {
    const store = memorySessionStore(session(1, T0 + 1000));
    const { fetch } = fakeFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    const client = new ApiClient({ store, fetch, now: () => T0 });
    await expect(client.usage()).rejects.toMatchObject({ status: 0, code: 'network' });
    expect(store.load()).toEqual(session(1, T0 + 1000));
  });

  it('adopts a token another tab already rotated instead of spending the old one', async () => {
    const store = memorySessionStore(session(1, T0 + 1000));
    const { fetch, calls } = fakeFetch(() => jsonResponse(200, { functions: [] }));
    const client = new ApiClient({ store, fetch, now: () => T0 });
    store.save(session(5));
    await client.listFunctions();
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/functions']);
    expect(calls[0]?.headers.Authorization).toBe('Bearer access-5');
  });

  it('gives the event stream URL a fresh token', async () => {
    const { fetch } = fakeFetch(() => jsonResponse(200, loginAnswer(2)));
    const client = new ApiClient({ store: memorySessionStore(session(1, T0 + 10)), fetch, now: () => T0 });
    expect(await client.eventsUrl()).toBe('/api/v1/events?access_token=access-2');
  });
});

describe('ApiClient errors and bodies', () => {
  const client = (handler: Parameters<typeof fakeFetch>[0]) => {
    const fake = fakeFetch(handler);
    return { client: new ApiClient({ store: memorySessionStore(session(1)), fetch: fake.fetch, now: () => T0 }), calls: fake.calls };
  };

  it('turns the API error object into an ApiError', async () => {
    const { client: c } = client(() => apiError(429, 'quota_exceeded', 'concurrent invocations: 64 of 64 in use'));
    await expect(c.invokeAsync('f', 'x', 'text/plain')).rejects.toMatchObject({
      status: 429,
      code: 'quota_exceeded',
      message: 'concurrent invocations: 64 of 64 in use',
    });
  });

  it('describes a non-JSON error by its status', async () => {
    const { client: c } = client(() => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    await expect(c.listUsers()).rejects.toMatchObject({ status: 502, code: 'http_502', message: 'HTTP 502 Bad Gateway' });
  });

  it('reports malformed JSON answers instead of crashing', async () => {
    const { client: c } = client(() => new Response('{"functions": [', { status: 200 }));
    await expect(c.listFunctions()).rejects.toMatchObject({ code: 'invalid_json' });
  });

  it('uploads a module as application/wasm with settings in the query', async () => {
    const { client: c, calls } = client(() =>
      jsonResponse(201, { name: 'hello', version: 3, module_sha256: 'ab', module_size: 8, settings: {} }),
    );
    const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    const answer = await c.deployFunction('hello', bytes, { memory_mb: 32, timeout_ms: 1000, env: ['A=1', 'B=two words'], entry: '' });
    expect(answer.version).toBe(3);
    expect(calls[0]?.method).toBe('PUT');
    expect(calls[0]?.url).toBe('/api/v1/functions/hello?memory_mb=32&timeout_ms=1000&env=A%3D1&env=B%3Dtwo+words');
    expect(calls[0]?.headers['Content-Type']).toBe('application/wasm');
    expect(calls[0]?.body).toBe(bytes);
  });

  it('reads the X-Milf-* headers and the output bytes of a sync invoke', async () => {
    const { client: c, calls } = client(
      () =>
        new Response(new Uint8Array([104, 105]), {
          status: 200,
          headers: {
            'X-Milf-Invocation-Id': '01ABC',
            'X-Milf-Status': 'failed',
            'X-Milf-Run-Status': 'trap',
            'X-Milf-Duration-Ms': '12',
            'X-Milf-Fuel': '3400',
          },
        }),
    );
    const answer = await c.invokeSync('my fn', 'input', 'text/plain');
    expect(calls[0]?.url).toBe('/api/v1/functions/my%20fn/invoke');
    expect(answer).toEqual({ id: '01ABC', status: 'failed', runStatus: 'trap', durationMs: 12, fuel: 3400, output: new Uint8Array([104, 105]) });
  });

  it('answers 204 with undefined', async () => {
    const { client: c, calls } = client(() => new Response(null, { status: 204 }));
    await expect(c.deleteKey(12)).resolves.toBeUndefined();
    expect(calls[0]).toMatchObject({ method: 'DELETE', url: '/api/v1/keys/12' });
  });

  it('builds invocation filters and leaves out empty ones', async () => {
    const { client: c, calls } = client(() => jsonResponse(200, { invocations: [], next: null }));
    await c.listInvocations({ function: 'echo', state: 'failed', since: 5, after: 'X', limit: 25 });
    expect(calls[0]?.url).toBe('/api/v1/invocations?function=echo&state=failed&since=5&after=X&limit=25');
    expect(buildQuery({ a: '', b: undefined, c: null, d: 0 })).toBe('?d=0');
  });
});
