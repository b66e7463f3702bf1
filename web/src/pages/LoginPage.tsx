import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { useClient } from '../api/session';

// The API's answers, in words a person acts on.
export function loginErrorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'Wrong user name or password.';
    if (error.status === 429) return `Too many attempts: ${error.message}. Wait a minute and try again.`;
    if (error.status === 0) return `Cannot reach the MILF server: ${error.message}.`;
    return `${error.message} [${error.code}]`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function LoginPage() {
  const client = useClient();
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await client.login(user.trim(), password);
    } catch (reason) {
      setError(loginErrorText(reason));
      setBusy(false);
    }
  };

  return (
    <div className="login-screen">
      <form className="login card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">MILF</h1>
        <p className="muted">Mobile Infra for Lambdas and Files</p>
        <label>
          User
          <input name="user" autoComplete="username" value={user} onChange={(e) => setUser(e.target.value)} required autoFocus />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error && (
          <div className="state state-error" role="alert" data-testid="login-error">
            {error}
          </div>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </div>
  );
}
