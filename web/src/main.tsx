import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { ApiClient, browserSessionStore } from './api/client';
import { SessionProvider } from './api/session';
import { App } from './App';
import './styles.css';

const client = new ApiClient({ store: browserSessionStore() });
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <SessionProvider client={client}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </SessionProvider>
    </StrictMode>,
  );
}
