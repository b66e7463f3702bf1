// Creates a function or a new version of one: module bytes plus settings,
// sent as PUT /functions/{name}. The module comes from a ModuleSource; the
// upload below is the one there is (a source editor with compile
// diagnostics plugs in beside it as another ModuleSource).
import { useState, type FormEvent } from 'react';
import { useClient } from '../api/session';
import type { DeployAnswer, FunctionSettings } from '../api/types';
import { formatBytes } from '../lib/format';
import { isFunctionName, looksLikeWasm, nameFromFile, optionalPositiveInt, parseEnv } from '../lib/validate';
import { ErrorBox } from './ui';

export interface ModuleChoice {
  bytes: Uint8Array;
  label: string; // file name, for the summary
}

function UploadSource({ onChoose }: { onChoose(choice: ModuleChoice | null, error: string | null): void }) {
  const pick = async (file: File | undefined) => {
    if (!file) return onChoose(null, null);
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (!looksLikeWasm(bytes)) return onChoose(null, `${file.name} is not a WebAssembly binary (no \\0asm header)`);
    onChoose({ bytes, label: file.name }, null);
  };
  return (
    <label className="file-drop">
      WebAssembly module (.wasm)
      <input type="file" accept=".wasm,application/wasm" data-testid="wasm-file" onChange={(e) => void pick(e.target.files?.[0])} />
    </label>
  );
}

export function DeployForm({
  fixedName,
  initial,
  onDeployed,
}: {
  fixedName?: string;
  initial?: FunctionSettings;
  onDeployed(answer: DeployAnswer): void;
}) {
  const client = useClient();
  const [name, setName] = useState(fixedName ?? '');
  const [module, setModule] = useState<ModuleChoice | null>(null);
  const [memory, setMemory] = useState(initial?.memory_mb ? String(initial.memory_mb) : '');
  const [timeout, setTimeoutMs] = useState(initial?.timeout_ms ? String(initial.timeout_ms) : '');
  const [fuel, setFuel] = useState(initial?.fuel ? String(initial.fuel) : '');
  const [entry, setEntry] = useState(initial?.entry ?? '');
  const [envText, setEnvText] = useState((initial?.env ?? []).join('\n'));
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const choose = (choice: ModuleChoice | null, chooseError: string | null) => {
    setModule(choice);
    setProblem(chooseError);
    if (choice && !fixedName) setName((current) => current || nameFromFile(choice.label));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const fields = [
      optionalPositiveInt(memory, 'Memory'),
      optionalPositiveInt(timeout, 'Timeout'),
      optionalPositiveInt(fuel, 'Fuel'),
    ] as const;
    const env = parseEnv(envText);
    const firstError = [...fields, env].find((f): f is { error: string } => 'error' in f);
    if (!isFunctionName(name)) return setProblem('Name: lowercase letters, digits, "-" and "_", starting with a letter or digit, at most 63 characters');
    if (!module) return setProblem('Choose a .wasm file');
    if (firstError) return setProblem(firstError.error);
    const value = (i: 0 | 1 | 2) => {
      const field = fields[i];
      return 'value' in field ? field.value : undefined;
    };
    const settings: FunctionSettings = {
      memory_mb: value(0),
      timeout_ms: value(1),
      fuel: value(2),
      entry: entry.trim() || undefined,
      env: 'env' in env ? env.env : [],
    };
    setProblem(null);
    setBusy(true);
    try {
      onDeployed(await client.deployFunction(name, module.bytes, settings));
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form deploy-form" onSubmit={submit}>
      <div className="form-row">
        {!fixedName && (
          <label>
            Name
            <input name="function-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="hello" required />
          </label>
        )}
        <UploadSource onChoose={choose} />
      </div>
      {module && (
        <div className="muted small" data-testid="module-summary">
          {module.label} · {formatBytes(module.bytes.length)}
        </div>
      )}
      <details className="settings" open={Boolean(initial)}>
        <summary>Settings</summary>
        <div className="form-row">
          <label>
            Memory (MiB)
            <input inputMode="numeric" value={memory} onChange={(e) => setMemory(e.target.value)} placeholder="server default" />
          </label>
          <label>
            Timeout (ms)
            <input inputMode="numeric" value={timeout} onChange={(e) => setTimeoutMs(e.target.value)} placeholder="server default" />
          </label>
          <label>
            Fuel (instructions)
            <input inputMode="numeric" value={fuel} onChange={(e) => setFuel(e.target.value)} placeholder="unlimited" />
          </label>
          <label>
            Entry export
            <input value={entry} onChange={(e) => setEntry(e.target.value)} placeholder="automatic (_start)" />
          </label>
        </div>
        <label>
          Environment (one K=V per line)
          <textarea rows={3} value={envText} onChange={(e) => setEnvText(e.target.value)} />
        </label>
      </details>
      {problem && (
        <div className="state state-error" role="alert">
          {problem}
        </div>
      )}
      {error !== null && <ErrorBox error={error} />}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Deploying…' : fixedName ? 'Deploy new version' : 'Deploy'}
      </button>
    </form>
  );
}
