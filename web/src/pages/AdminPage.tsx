import { useState, type FormEvent } from 'react';
import { useClient, useSession } from '../api/session';
import type { NodeToken, Role, User } from '../api/types';
import { KeysPanel } from '../components/KeysPanel';
import { Card, Empty, ErrorBox, Loading, Segmented, ShownOnce } from '../components/ui';
import { useNow } from '../live/LiveProvider';
import { formatAgo, formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { isUserName, optionalPositiveInt } from '../lib/validate';

type Tab = 'users' | 'keys' | 'tokens';
const TABS = [
  { value: 'users', label: 'Users' },
  { value: 'keys', label: 'API keys' },
  { value: 'tokens', label: 'Node tokens' },
] as const;

function QuotaForm({ user, onDone }: { user: User; onDone(): void }) {
  const client = useClient();
  const [concurrent, setConcurrent] = useState('');
  const [perDay, setPerDay] = useState('');
  const [memory, setMemory] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const values = [
      optionalPositiveInt(concurrent, 'Concurrent invocations'),
      optionalPositiveInt(perDay, 'Invocations per day'),
      optionalPositiveInt(memory, 'Memory'),
    ];
    const bad = values.find((v): v is { error: string } => 'error' in v);
    if (bad) return setError(new Error(bad.error));
    const [c, d, m] = values.map((v) => ('value' in v ? v.value : undefined));
    if (c === undefined || d === undefined || m === undefined) return setError(new Error('Fill in all three limits'));
    try {
      await client.setQuota(user.name, { max_concurrent: c, max_per_day: d, max_memory_mb: m });
      onDone();
    } catch (reason) {
      setError(reason);
    }
  };
  return (
    <form className="form-row quota-form" onSubmit={submit}>
      <label>
        Concurrent
        <input inputMode="numeric" value={concurrent} onChange={(e) => setConcurrent(e.target.value)} placeholder="64" />
      </label>
      <label>
        Per day
        <input inputMode="numeric" value={perDay} onChange={(e) => setPerDay(e.target.value)} placeholder="1000000" />
      </label>
      <label>
        Memory (MiB)
        <input inputMode="numeric" value={memory} onChange={(e) => setMemory(e.target.value)} placeholder="256" />
      </label>
      <button type="submit">Save quota</button>
      <button type="button" className="link" onClick={onDone}>
        Cancel
      </button>
      {error !== null && <ErrorBox error={error} />}
    </form>
  );
}

function Users() {
  const client = useClient();
  const session = useSession();
  const now = useNow(10_000);
  const users = useAsync(() => client.listUsers(), [client]);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('developer');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setNotice(null);
    if (!isUserName(name)) return setError(new Error('User names: lowercase letters, digits, ".", "-" and "_", at most 63 characters'));
    try {
      const user = await client.createUser(name, password, role);
      setNotice(`Created ${user.name} (${user.role}).`);
      setName('');
      setPassword('');
      users.reload();
    } catch (reason) {
      setError(reason);
    }
  };
  const remove = async (user: User) => {
    if (!window.confirm(`Delete the user ${user.name} with their functions and keys?`)) return;
    setError(null);
    try {
      await client.deleteUser(user.name);
      users.reload();
    } catch (reason) {
      setError(reason);
    }
  };

  return (
    <>
      <form className="form-row" onSubmit={create}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required autoComplete="off" />
        </label>
        <label>
          Password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={8} autoComplete="new-password" />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="developer">developer</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <button type="submit" className="primary">
          Create user
        </button>
      </form>
      {notice && <div className="state state-ok">{notice}</div>}
      {error !== null && <ErrorBox error={error} />}
      {users.loading && !users.data && <Loading what="Loading users" />}
      {users.error && <ErrorBox error={users.error} retry={users.reload} />}
      {users.data && users.data.length === 0 && <Empty>No users.</Empty>}
      {users.data && users.data.length > 0 && (
        <table className="table responsive" data-testid="users-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.data.map((user) => (
              <tr key={user.id}>
                <td data-label="Name">
                  <div>
                    {user.name}
                    {editing === user.name && <QuotaForm user={user} onDone={() => setEditing(null)} />}
                  </div>
                </td>
                <td data-label="Role">{user.role}</td>
                <td data-label="Created" title={formatTime(user.created_at)}>
                  {formatAgo(user.created_at, now)}
                </td>
                <td className="actions">
                  <button type="button" className="link" onClick={() => setEditing(editing === user.name ? null : user.name)}>
                    Quota
                  </button>
                  {user.name !== session?.user.name && (
                    <button type="button" className="link danger" onClick={() => void remove(user)}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

const TTLS = [
  { value: '3600', label: '1 hour' },
  { value: '86400', label: '1 day' },
  { value: '604800', label: '7 days' },
];

function NodeTokens() {
  const client = useClient();
  const [ttl, setTtl] = useState('3600');
  const [token, setToken] = useState<NodeToken | null>(null);
  const [error, setError] = useState<unknown>(null);
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      setToken(await client.createNodeToken(Number(ttl)));
    } catch (reason) {
      setError(reason);
    }
  };
  return (
    <>
      <p className="muted">A device joins the fleet with a one-time enrollment token.</p>
      <form className="form-row" onSubmit={create}>
        <label>
          Valid for
          <select value={ttl} onChange={(e) => setTtl(e.target.value)}>
            {TTLS.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary">
          Create enrollment token
        </button>
      </form>
      {error !== null && <ErrorBox error={error} />}
      {token && (
        <ShownOnce label="Enrollment token" secret={token.token}>
          <div className="small">
            Expires {formatTime(token.expires_at)}. On the device run:
            <pre className="output">{`milf node --server ${window.location.origin} --token ${token.token}`}</pre>
          </div>
        </ShownOnce>
      )}
    </>
  );
}

export function AdminPage() {
  const [tab, setTab] = useState<Tab>('users');
  return (
    <div className="page">
      <div className="page-head">
        <h1>Admin</h1>
        <Segmented label="Section" value={tab} options={TABS} onChange={setTab} />
      </div>
      {tab === 'users' && (
        <Card title="Users">
          <Users />
        </Card>
      )}
      {tab === 'keys' && (
        <Card title="API keys (yours)">
          <KeysPanel />
        </Card>
      )}
      {tab === 'tokens' && (
        <Card title="Node enrollment tokens">
          <NodeTokens />
        </Card>
      )}
    </div>
  );
}
