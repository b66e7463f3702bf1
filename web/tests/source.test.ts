import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, CompileFailedError, memorySessionStore, type Session } from '../src/api/client';
import { diagnosticsSummary } from '../src/lib/diagnostics';
import { LANGUAGES, languageById, languageOfFilename, sourceFilename, withLanguage } from '../src/lib/languages';
import { apiError, fakeFetch, jsonResponse } from './helpers';

const T0 = 1_700_000_000_000;
const SESSION: Session = { accessToken: 'access-1', refreshToken: 'refresh-1', expiresAt: T0 + 900_000, user: { id: 7, name: 'dev', role: 'developer' } };

function client(handler: Parameters<typeof fakeFetch>[0]) {
  const fake = fakeFetch(handler);
  return { c: new ApiClient({ store: memorySessionStore(SESSION), fetch: fake.fetch, now: () => T0 }), calls: fake.calls };
}

const COMPILED = { language: 'c', cached: false, duration_ms: 412, wasm_size: 1234, diagnostics: [] };
const FAILED = {
  error: 'compile_failed',
  message: 'hello.c:7:12: error: use of undeclared identifier',
  diagnostics: [
    { file: 'hello.c', line: 7, column: 12, severity: 'error', message: "use of undeclared identifier 'nme'" },
    { file: 'hello.c', line: 3, column: 1, severity: 'warning', message: 'unused' },
  ],
};

describe('ApiClient source calls', () => {
  it('compiles: the source as the body, the file name in the query', async () => {
    const { c, calls } = client(() => jsonResponse(200, COMPILED));
    await expect(c.compile('hello.c', 'int main(void) { return 0; }\n')).resolves.toEqual(COMPILED);
    expect(calls[0]).toMatchObject({ method: 'POST', url: '/api/v1/compile?filename=hello.c', body: 'int main(void) { return 0; }\n' });
    expect(calls[0]?.headers['Content-Type']).toBe('text/plain; charset=utf-8');
    expect(calls[0]?.headers.Authorization).toBe('Bearer access-1');
  });

  it('turns a 422 into a CompileFailedError with the diagnostics', async () => {
    const { c } = client(() => jsonResponse(422, FAILED));
    const error = await c.compile('hello.c', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileFailedError);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 422, code: 'compile_failed', message: FAILED.message });
    expect((error as CompileFailedError).diagnostics).toEqual([
      { file: 'hello.c', line: 7, column: 12, severity: 'error', message: "use of undeclared identifier 'nme'" },
      { file: 'hello.c', line: 3, column: 1, severity: 'warning', message: 'unused' },
    ]);
  });

  it('also reads diagnostics from the usual {"error":{code,message}} shape', async () => {
    const { c } = client(() =>
      jsonResponse(422, { error: { code: 'compile_failed', message: 'failed', diagnostics: [{ file: 'a.ts', line: 1, column: 2, severity: 'error', message: 'TS2304' }] } }),
    );
    const error = (await c.compile('a.ts', 'x').catch((e: unknown) => e)) as CompileFailedError;
    expect(error).toBeInstanceOf(CompileFailedError);
    expect(error.diagnostics).toHaveLength(1);
    expect(error.message).toBe('failed');
  });

  it('reports a refused language (no Rust) as a plain ApiError with its message', async () => {
    const { c } = client(() => jsonResponse(400, { error: 'unsupported_language', message: 'Rust is not available on this server' }));
    const error = await c.compile('hello.rs', 'fn main() {}').catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(CompileFailedError);
    expect(error).toMatchObject({ status: 400, code: 'unsupported_language', message: 'Rust is not available on this server' });
  });

  it('deploys from source with the settings in the query', async () => {
    const answer = { name: 'hello', version: 2, module_sha256: 'ab', module_size: 1234, settings: {}, compile: COMPILED };
    const { c, calls } = client(() => jsonResponse(201, answer));
    await expect(c.deployFromSource('hello', 'hello.c', 'src', { memory_mb: 16, fuel: 1000, env: ['A=1'], entry: undefined })).resolves.toEqual(answer);
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.url).toBe('/api/v1/functions/hello/source?filename=hello.c&memory_mb=16&fuel=1000&env=A%3D1');
    expect(calls[0]?.body).toBe('src');
  });

  it('rejects a refused deploy with the diagnostics, and encodes the name', async () => {
    const { c, calls } = client(() => jsonResponse(422, FAILED));
    const error = await c.deployFromSource('a b', 'a b.c', 'x', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileFailedError);
    expect(calls[0]?.url).toBe('/api/v1/functions/a%20b/source?filename=a+b.c');
  });

  it('reads the latest source, and null when it was deployed from .wasm', async () => {
    const file = { filename: 'hello.c', language: 'c', source: 'int main(){}', version: 3 };
    const { c, calls } = client((call) => (call.url.includes('/functions/hello/') ? jsonResponse(200, file) : apiError(404, 'not_found', 'no source')));
    await expect(c.getSource('hello')).resolves.toEqual(file);
    expect(calls[0]).toMatchObject({ method: 'GET', url: '/api/v1/functions/hello/source' });
    await expect(c.getSource('wasm-only')).resolves.toBeNull();
  });

  it('takes the text as "text" and no language too', async () => {
    const { c } = client(() => jsonResponse(200, { name: 'hello', version: 2, filename: 'hello.cc', text: 'int main() {}' }));
    await expect(c.getSource('hello')).resolves.toEqual({ filename: 'hello.cc', language: '', source: 'int main() {}', version: 2 });
  });

  it('reads the server\'s 422: {"error":{code,message}} with the diagnostics beside it, line 0 as unknown', async () => {
    const { c } = client(() =>
      jsonResponse(422, {
        error: { code: 'compile_failed', message: 'hello.c:9:31: error: use of undeclared identifier' },
        diagnostics: [
          { file: 'hello.c', line: 9, column: 31, severity: 'error', message: "use of undeclared identifier 'length'" },
          { file: '', line: 0, column: 0, severity: 'error', message: 'wasm-ld: undefined symbol: f' },
        ],
      }),
    );
    const error = (await c.compile('hello.c', 'x').catch((e: unknown) => e)) as CompileFailedError;
    expect(error).toBeInstanceOf(CompileFailedError);
    expect(error.message).toBe('hello.c:9:31: error: use of undeclared identifier');
    expect(error.diagnostics).toEqual([
      { file: 'hello.c', line: 9, column: 31, severity: 'error', message: "use of undeclared identifier 'length'" },
      { file: '', line: null, column: null, severity: 'error', message: 'wasm-ld: undefined symbol: f' },
    ]);
  });

  it('does not hide other errors behind "no source"', async () => {
    const { c } = client(() => apiError(500, 'internal', 'disk on fire'));
    await expect(c.getSource('hello')).rejects.toMatchObject({ status: 500, code: 'internal' });
  });
});

describe('languages and templates', () => {
  it('picks the language by extension', () => {
    expect(languageOfFilename('hello.c')?.id).toBe('c');
    for (const name of ['a.cc', 'a.cpp', 'A.CXX']) expect(languageOfFilename(name)?.id).toBe('cpp');
    expect(languageOfFilename('index.ts')?.id).toBe('assemblyscript');
    expect(languageOfFilename('main.rs')?.id).toBe('rust');
    expect(languageOfFilename('module.wasm')).toBeNull();
  });

  it('names the file after the function and switches its extension', () => {
    expect(sourceFilename('greeter', languageById('rust'))).toBe('greeter.rs');
    expect(sourceFilename('  ', languageById('c'))).toBe('main.c');
    expect(withLanguage('greeter.cc', languageById('c'))).toBe('greeter.c');
    expect(withLanguage('greeter.cc', languageById('cpp'))).toBe('greeter.cc');
    expect(withLanguage('greeter.c', languageById('cpp'))).toBe('greeter.cpp');
    expect(withLanguage('notes.txt', languageById('assemblyscript'))).toBe('notes.ts');
  });

  it('has a hello for every language that reads stdin and writes a greeting', () => {
    for (const language of LANGUAGES) {
      expect(language.template).toMatch(/stdin/);
      expect(language.template).toMatch(/Hello, /);
    }
    expect(languageById('c').template).toContain('#include "milf.h"');
    expect(languageById('c').template).toContain('milf_read_input');
  });

  it('summarises diagnostics by severity', () => {
    const d = (severity: 'error' | 'warning' | 'info') => ({ file: 'a.c', line: 1, column: 1, severity, message: 'm' });
    expect(diagnosticsSummary([d('error'), d('error'), d('warning'), d('info')])).toBe('2 errors, 1 warning, 1 note');
    expect(diagnosticsSummary([])).toBe('');
  });
});
