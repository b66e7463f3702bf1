// React access to the ApiClient and the current session. The session lives
// in localStorage so a reload keeps it; a login or logout in another tab
// reaches this one through the storage event.
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { ApiClient, Session } from './client';

const ClientContext = createContext<ApiClient | null>(null);
const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(client.session);
  useEffect(() => {
    const unsubscribe = client.subscribe(setSession);
    const onStorage = () => client.reloadFromStore();
    window.addEventListener('storage', onStorage);
    return () => {
      unsubscribe();
      window.removeEventListener('storage', onStorage);
    };
  }, [client]);
  return (
    <ClientContext.Provider value={client}>
      <SessionContext.Provider value={session}>{children}</SessionContext.Provider>
    </ClientContext.Provider>
  );
}

export function useClient(): ApiClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient outside SessionProvider');
  return client;
}

export function useSession(): Session | null {
  return useContext(SessionContext);
}
