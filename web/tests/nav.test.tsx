import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRouter } from 'react-router';
import { ApiClient, ApiError, memorySessionStore } from '../src/api/client';
import { SessionProvider } from '../src/api/session';
import type { Role } from '../src/api/types';
import { App, safeNext } from '../src/App';
import { activeItem, canOpen, navItemsFor } from '../src/lib/nav';
import { loginErrorText } from '../src/pages/LoginPage';
import { fakeFetch, jsonResponse } from './helpers';

describe('role-based navigation', () => {
  it('offers Admin only to admins', () => {
    expect(navItemsFor('admin').map((i) => i.label)).toContain('Admin');
    expect(navItemsFor('developer').map((i) => i.label)).not.toContain('Admin');
    expect(navItemsFor(null).map((i) => i.label)).not.toContain('Admin');
    expect(navItemsFor('developer').map((i) => i.label)).toEqual(['Overview', 'Functions', 'Invocations', 'Nodes', 'Usage', 'Account']);
  });

  it('guards admin paths', () => {
    expect(canOpen('developer', '/admin')).toBe(false);
    expect(canOpen('developer', '/admin/users')).toBe(false);
    expect(canOpen('developer', '/administrators-guide')).toBe(true);
    expect(canOpen('admin', '/admin')).toBe(true);
    expect(canOpen('developer', '/functions/x')).toBe(true);
  });

  it('finds the nav item of nested pages', () => {
    expect(activeItem('/functions/hello')?.label).toBe('Functions');
    expect(activeItem('/')?.label).toBe('Overview');
    expect(activeItem('/nowhere')).toBeUndefined();
  });

  it('sends a login back only to local paths', () => {
    expect(safeNext('/functions/hello')).toBe('/functions/hello');
    expect(safeNext('//evil.example/x')).toBe('/');
    expect(safeNext('https://evil.example')).toBe('/');
    expect(safeNext('/login')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
});

describe('login errors', () => {
  it('say what to do', () => {
    expect(loginErrorText(new ApiError(401, 'unauthorized', 'x'))).toBe('Wrong user name or password.');
    expect(loginErrorText(new ApiError(429, 'rate_limited', '5 failed logins in a minute'))).toMatch(/Too many attempts: 5 failed logins/);
    expect(loginErrorText(new ApiError(0, 'network', 'cannot reach the server (boom)'))).toMatch(/Cannot reach the MILF server/);
    expect(loginErrorText(new ApiError(500, 'internal', 'database is locked'))).toBe('database is locked [internal]');
  });
});

class SilentEventSource {
  onopen = null;
  onerror = null;
  addEventListener() {}
  close() {}
}

function renderAs(role: Role | null, path: string) {
  const { fetch } = fakeFetch((call) => {
    if (call.url.startsWith('/api/v1/nodes')) return jsonResponse(200, { nodes: [] });
    if (call.url.startsWith('/api/v1/invocations')) return jsonResponse(200, { invocations: [], next: null });
    if (call.url.startsWith('/api/v1/keys')) return jsonResponse(200, { keys: [] });
    if (call.url.startsWith('/api/v1/users')) return jsonResponse(200, { users: [] });
    return jsonResponse(404, { error: { code: 'not_found', message: 'no' } });
  });
  const session = role
    ? { accessToken: 'a', refreshToken: 'r', expiresAt: Date.now() + 900_000, user: { id: 1, name: 'pat', role } }
    : null;
  const client = new ApiClient({ store: memorySessionStore(session), fetch });
  render(
    <SessionProvider client={client}>
      <MemoryRouter initialEntries={[path]}>
        <App />
      </MemoryRouter>
    </SessionProvider>,
  );
}

describe('the shell', () => {
  beforeAll(() => {
    (globalThis as { EventSource?: unknown }).EventSource = SilentEventSource;
  });
  afterEach(cleanup);

  it('shows a developer no Admin link and no admin page', async () => {
    renderAs('developer', '/admin');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).queryByRole('link', { name: 'Admin' })).toBeNull();
    expect(within(nav).getByRole('link', { name: 'Account' })).toBeTruthy();
    expect(await screen.findByRole('heading', { name: 'Not found' })).toBeTruthy();
  });

  it('shows an admin the Admin page', async () => {
    renderAs('admin', '/admin');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Admin' })).toBeTruthy();
    expect(await screen.findByRole('heading', { name: 'Admin' })).toBeTruthy();
  });

  it('sends a visitor without a session to the login page', async () => {
    renderAs(null, '/nodes');
    expect(await screen.findByRole('button', { name: 'Log in' })).toBeTruthy();
    expect(screen.queryByRole('navigation', { name: 'Main' })).toBeNull();
  });
});
