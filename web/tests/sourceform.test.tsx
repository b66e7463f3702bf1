// The source form with the real (lazily loaded) CodeMirror editor in jsdom:
// a failed check marks the edited file inline and lists every diagnostic;
// a deploy sends the name, file and settings.
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, memorySessionStore, type Session } from '../src/api/client';
import { SessionProvider } from '../src/api/session';
import type { SourceDeployAnswer } from '../src/api/types';
import { SourceForm } from '../src/components/SourceForm';
import { fakeFetch, jsonResponse, type Handler } from './helpers';

const SESSION: Session = { accessToken: 'a', refreshToken: 'r', expiresAt: Date.now() + 3_600_000, user: { id: 1, name: 'dev', role: 'developer' } };
const SOURCE = 'int main(void) {\n  return nope;\n}\n';

function renderForm(handler: Handler, props: Partial<Parameters<typeof SourceForm>[0]> = {}) {
  const fake = fakeFetch(handler);
  const client = new ApiClient({ store: memorySessionStore(SESSION), fetch: fake.fetch });
  const deployed: SourceDeployAnswer[] = [];
  render(
    <SessionProvider client={client}>
      <SourceForm
        initialFilename="hello.c"
        initialSource={SOURCE}
        sourceKey="k"
        onDeployed={(answer) => deployed.push(answer)}
        {...props}
      />
    </SessionProvider>,
  );
  return { calls: fake.calls, deployed };
}

// jsdom does no layout: CodeMirror measures text through Range rectangles.
beforeAll(() => {
  const empty = () => Object.assign([], { item: () => null }) as unknown as DOMRectList;
  Range.prototype.getClientRects ??= empty;
  Range.prototype.getBoundingClientRect ??= () => new DOMRect(0, 0, 0, 0);
});

afterEach(cleanup);

describe('SourceForm', () => {
  it('marks the edited file inline and lists diagnostics of other files without a link', async () => {
    const { calls } = renderForm(() =>
      jsonResponse(422, {
        error: 'compile_failed',
        message: 'compile failed',
        diagnostics: [
          { file: 'main.c', line: 2, column: 10, severity: 'error', message: "use of undeclared identifier 'nope'" },
          { file: 'milf.h', line: 40, column: 1, severity: 'warning', message: 'in a header' },
        ],
      }),
    );
    await screen.findByTestId('source-editor');
    fireEvent.click(screen.getByTestId('source-check'));
    const status = await screen.findByTestId('compile-status');
    expect(status.textContent).toMatch(/Does not compile: 1 error, 1 warning/);
    expect(calls[0]?.url).toBe('/api/v1/compile?filename=main.c');
    expect(calls[0]?.body).toBe(SOURCE);
    const list = screen.getByTestId('diagnostics');
    expect(list.querySelectorAll('button.diagnostic')).toHaveLength(1);
    expect(list.querySelectorAll('div.diagnostic')).toHaveLength(1);
    expect(list.textContent).toContain('main.c:2:10');
    expect(list.textContent).toContain('milf.h:40:1');
    await waitFor(() => expect(document.querySelector('.cm-lintRange-error')?.textContent).toBe('nope'));
    expect(document.querySelector('.cm-lintRange-warning')).toBeNull();
    // Clicking the diagnostic puts the cursor on its line.
    expect(document.querySelector('.cm-activeLine')?.textContent).toBe('int main(void) {');
    fireEvent.click(list.querySelector('button.diagnostic') as HTMLElement);
    await waitFor(() => expect(document.querySelector('.cm-activeLine')?.textContent).toBe('  return nope;'));
  });

  it('deploys with the name, the file named after it and the settings', async () => {
    const compile = { language: 'c', cached: true, duration_ms: 3, wasm_size: 2048, diagnostics: [] };
    const answer = { name: 'greeter', version: 4, module_sha256: 'ab', module_size: 2048, settings: {}, compile };
    const { calls, deployed } = renderForm(() => jsonResponse(201, answer), { fixedName: 'greeter', initialFilename: 'greeter.c', settings: { memory_mb: 32 } });
    await screen.findByTestId('source-editor');
    fireEvent.click(screen.getByTestId('source-deploy'));
    const status = await screen.findByTestId('compile-status');
    expect(status.textContent).toMatch(/Deployed greeter version 4 \(c, 2 KiB module, compiled in .*cached\)\. No problems\./);
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.url).toBe('/api/v1/functions/greeter/source?filename=greeter.c&memory_mb=32');
    expect(deployed).toEqual([answer]);
  });

  it('shows an error that is not a compile failure instead of swallowing it', async () => {
    renderForm(() => jsonResponse(400, { error: 'unsupported_language', message: 'Rust is not available on this server' }), { initialFilename: 'main.rs' });
    await screen.findByTestId('source-editor');
    fireEvent.click(screen.getByTestId('source-check'));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Rust is not available on this server');
    expect(screen.queryByTestId('compile-status')).toBeNull();
  });

  it('refuses to deploy under an invalid name before asking the server', async () => {
    const { calls } = renderForm(() => jsonResponse(500, {}));
    await screen.findByTestId('source-editor');
    fireEvent.click(screen.getByTestId('source-deploy'));
    expect((await screen.findByRole('alert')).textContent).toMatch(/Name:/);
    expect(calls).toHaveLength(0);
  });
});
