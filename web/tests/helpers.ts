// A scripted fetch for ApiClient tests: each call is matched against the
// routes in order and recorded.
import type { LoginAnswer } from '../src/api/types';

export interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Handler = (call: Call) => Response | Promise<Response>;

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

export function apiError(status: number, code: string, message: string): Response {
  return jsonResponse(status, { error: { code, message } });
}

export function fakeFetch(handler: Handler) {
  const calls: Call[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const call: Call = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body,
    };
    calls.push(call);
    return handler(call);
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

export function loginAnswer(n: number, role: 'admin' | 'developer' = 'developer', expiresIn = 900): LoginAnswer {
  return {
    access_token: `access-${n}`,
    expires_in: expiresIn,
    refresh_token: `refresh-${n}`,
    user: { id: 7, name: 'dev', role },
  };
}
