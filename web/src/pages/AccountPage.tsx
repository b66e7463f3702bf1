import { useState, type FormEvent } from 'react';
import { useClient, useSession } from '../api/session';
import { KeysPanel } from '../components/KeysPanel';
import { Card, ErrorBox } from '../components/ui';

function PasswordForm() {
  const client = useClient();
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setDone(false);
    if (newPassword !== confirm) return setError(new Error('The new passwords differ'));
    try {
      await client.changePassword(oldPassword, newPassword);
      setDone(true);
      setOld('');
      setNew('');
      setConfirm('');
    } catch (reason) {
      setError(reason);
    }
  };
  return (
    <form className="form narrow" onSubmit={submit}>
      <label>
        Current password
        <input type="password" autoComplete="current-password" value={oldPassword} onChange={(e) => setOld(e.target.value)} required />
      </label>
      <label>
        New password
        <input type="password" autoComplete="new-password" value={newPassword} onChange={(e) => setNew(e.target.value)} required minLength={8} />
      </label>
      <label>
        New password again
        <input type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} required minLength={8} />
      </label>
      {error !== null && <ErrorBox error={error} />}
      {done && <div className="state state-ok">Password changed.</div>}
      <button type="submit" className="primary">
        Change password
      </button>
    </form>
  );
}

export function AccountPage() {
  const session = useSession();
  return (
    <div className="page">
      <h1>Account</h1>
      <p className="muted">
        Logged in as <strong>{session?.user.name}</strong> ({session?.user.role}).
      </p>
      <div className="grid">
        <Card title="Change password">
          <PasswordForm />
        </Card>
        <Card title="API keys">
          <KeysPanel />
        </Card>
      </div>
    </div>
  );
}
