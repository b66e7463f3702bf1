// The shell: login gate, navigation (a sidebar on desktop, a menu on a
// phone) and the routes. Admin routes exist only for admins.
import { useEffect, useState } from 'react';
import { Navigate, NavLink, Route, Routes, useLocation, useSearchParams } from 'react-router';
import { useClient, useSession } from './api/session';
import { LiveProvider, useLive } from './live/LiveProvider';
import { activeItem, canOpen, navItemsFor } from './lib/nav';
import { AccountPage } from './pages/AccountPage';
import { AdminPage } from './pages/AdminPage';
import { FunctionDetailPage } from './pages/FunctionDetailPage';
import { FunctionsPage } from './pages/FunctionsPage';
import { InvocationDetailPage } from './pages/InvocationDetailPage';
import { InvocationsPage } from './pages/InvocationsPage';
import { LoginPage } from './pages/LoginPage';
import { NodesPage } from './pages/NodesPage';
import { OverviewPage } from './pages/OverviewPage';
import { UsagePage } from './pages/UsagePage';

const STREAM_TEXT = {
  connecting: 'connecting',
  open: 'live',
  reconnecting: 'reconnecting',
  closed: 'offline',
} as const;

function StreamIndicator() {
  const { state } = useLive();
  return (
    <span className={`stream stream-${state.stream}`} title={state.streamError ?? 'live event stream'} data-testid="stream-status">
      <span className="dot" aria-hidden="true" /> {STREAM_TEXT[state.stream]}
    </span>
  );
}

function Shell() {
  const session = useSession();
  const client = useClient();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => {
    setMenuOpen(false);
    document.title = `${activeItem(location.pathname)?.label ?? 'Not found'} · MILF`;
  }, [location.pathname]);
  if (!session) return null;
  const role = session.user.role;
  const items = navItemsFor(role);
  return (
    <div className={`shell ${menuOpen ? 'menu-open' : ''}`}>
      <header className="topbar">
        <button
          type="button"
          className="menu-button"
          aria-label="Menu"
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen((open) => !open)}
        >
          ☰
        </button>
        <span className="brand">MILF</span>
        <StreamIndicator />
        <span className="who" data-testid="who">
          {session.user.name} <span className="role">{role}</span>
        </span>
        <button type="button" className="logout" onClick={() => client.logout()}>
          Log out
        </button>
      </header>
      <nav className="sidebar" aria-label="Main">
        {items.map((item) => (
          <NavLink key={item.path} to={item.path} end={item.path === '/'}>
            {item.label}
          </NavLink>
        ))}
      </nav>
      <main className="content">
        {canOpen(role, location.pathname) ? (
          <Routes>
            <Route path="/" element={<OverviewPage />} />
            <Route path="/functions" element={<FunctionsPage />} />
            <Route path="/functions/:name" element={<FunctionDetailPage />} />
            <Route path="/invocations" element={<InvocationsPage />} />
            <Route path="/invocations/:id" element={<InvocationDetailPage />} />
            <Route path="/nodes" element={<NodesPage />} />
            <Route path="/usage" element={<UsagePage />} />
            {role === 'admin' && <Route path="/admin" element={<AdminPage />} />}
            <Route path="/account" element={<AccountPage />} />
            <Route path="/login" element={<AfterLogin />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        ) : (
          <NotFound />
        )}
      </main>
    </div>
  );
}

// Where a login that started on a deep link goes back to: a local path only.
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/';
}

function AfterLogin() {
  const [params] = useSearchParams();
  return <Navigate to={safeNext(params.get('next'))} replace />;
}

function NotFound() {
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>
        There is nothing here. <NavLink to="/">Back to the overview</NavLink>.
      </p>
    </div>
  );
}

export function App() {
  const session = useSession();
  const location = useLocation();
  if (!session) {
    if (location.pathname !== '/login') {
      const next = location.pathname + location.search;
      return <Navigate to={`/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`} replace />;
    }
    return <LoginPage />;
  }
  return (
    <LiveProvider>
      <Shell />
    </LiveProvider>
  );
}
