// A function's settings as form fields (memory, timeout, fuel, entry,
// environment), shared by the deploy forms: the .wasm upload and the
// source editor. read() checks them the way the API would.
import { useState, type ReactNode } from 'react';
import type { FunctionSettings } from '../api/types';
import { optionalPositiveInt, parseEnv } from '../lib/validate';

export interface SettingsForm {
  fields: ReactNode;
  read(): { settings: FunctionSettings } | { error: string };
}

// `open` shows the fields at first; by default when there are settings to show.
export function useSettingsForm(initial?: FunctionSettings, open = Boolean(initial)): SettingsForm {
  const [memory, setMemory] = useState(initial?.memory_mb ? String(initial.memory_mb) : '');
  const [timeout, setTimeoutMs] = useState(initial?.timeout_ms ? String(initial.timeout_ms) : '');
  const [fuel, setFuel] = useState(initial?.fuel ? String(initial.fuel) : '');
  const [entry, setEntry] = useState(initial?.entry ?? '');
  const [envText, setEnvText] = useState((initial?.env ?? []).join('\n'));

  const read = (): { settings: FunctionSettings } | { error: string } => {
    const memoryMb = optionalPositiveInt(memory, 'Memory');
    const timeoutMs = optionalPositiveInt(timeout, 'Timeout');
    const fuelLimit = optionalPositiveInt(fuel, 'Fuel');
    const env = parseEnv(envText);
    if ('error' in memoryMb) return memoryMb;
    if ('error' in timeoutMs) return timeoutMs;
    if ('error' in fuelLimit) return fuelLimit;
    if ('error' in env) return env;
    return {
      settings: {
        memory_mb: memoryMb.value,
        timeout_ms: timeoutMs.value,
        fuel: fuelLimit.value,
        entry: entry.trim() || undefined,
        env: env.env,
      },
    };
  };

  const fields = (
    <details className="settings" open={open}>
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
  );
  return { fields, read };
}
