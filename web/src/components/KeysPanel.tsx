// The caller's own API keys: list, create (the key is shown once), revoke.
import { useState, type FormEvent } from 'react';
import { useClient } from '../api/session';
import type { NewApiKey } from '../api/types';
import { useNow } from '../live/LiveProvider';
import { formatAgo, formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { Empty, ErrorBox, Loading, ShownOnce } from './ui';

export function KeysPanel() {
  const client = useClient();
  const now = useNow(10_000);
  const keys = useAsync(() => client.listKeys(), [client]);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<NewApiKey | null>(null);
  const [error, setError] = useState<unknown>(null);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      setCreated(await client.createKey(name.trim()));
      setName('');
      keys.reload();
    } catch (reason) {
      setError(reason);
    }
  };
  const revoke = async (id: string | number, keyName: string) => {
    if (!window.confirm(`Revoke the key "${keyName}"? Programs using it stop working.`)) return;
    setError(null);
    try {
      await client.deleteKey(id);
      keys.reload();
    } catch (reason) {
      setError(reason);
    }
  };

  return (
    <div className="keys">
      <form className="form-row" onSubmit={create}>
        <label className="grow">
          New key name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-deploy" required maxLength={64} />
        </label>
        <button type="submit" className="primary">
          Create key
        </button>
      </form>
      {created && (
        <ShownOnce label={`API key "${created.name}"`} secret={created.key}>
          <div className="muted small">
            Use it as <code>Authorization: Bearer {created.key.slice(0, 9)}…</code>
          </div>
        </ShownOnce>
      )}
      {error !== null && <ErrorBox error={error} />}
      {keys.loading && !keys.data && <Loading what="Loading keys" />}
      {keys.error && <ErrorBox error={keys.error} retry={keys.reload} />}
      {keys.data && keys.data.length === 0 && <Empty>No API keys. Create one for the CLI or scripts.</Empty>}
      {keys.data && keys.data.length > 0 && (
        <table className="table responsive">
          <thead>
            <tr>
              <th>Name</th>
              <th>Prefix</th>
              <th>Created</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.data.map((key) => (
              <tr key={key.id}>
                <td data-label="Name">{key.name}</td>
                <td data-label="Prefix" className="mono">
                  {key.prefix}…
                </td>
                <td data-label="Created" title={formatTime(key.created_at)}>
                  {formatAgo(key.created_at, now)}
                </td>
                <td data-label="Last used">{formatAgo(key.last_used_at, now)}</td>
                <td>
                  <button type="button" className="link danger" onClick={() => void revoke(key.id, key.name)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
