// Creates a function or a new version of one from an uploaded module:
// module bytes plus settings, sent as PUT /functions/{name}. Source code
// goes through SourceForm instead, which the server compiles and deploys
// in one call.
import { useState, type FormEvent } from 'react';
import { useClient } from '../api/session';
import type { DeployAnswer, FunctionSettings } from '../api/types';
import { formatBytes } from '../lib/format';
import { FUNCTION_NAME_RULE, isFunctionName, looksLikeWasm, nameFromFile } from '../lib/validate';
import { useSettingsForm } from './SettingsFields';
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
  const settingsForm = useSettingsForm(initial);
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
    const settings = settingsForm.read();
    if (!isFunctionName(name)) return setProblem(FUNCTION_NAME_RULE);
    if (!module) return setProblem('Choose a .wasm file');
    if ('error' in settings) return setProblem(settings.error);
    setProblem(null);
    setBusy(true);
    try {
      onDeployed(await client.deployFunction(name, module.bytes, settings.settings));
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
      {settingsForm.fields}
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
