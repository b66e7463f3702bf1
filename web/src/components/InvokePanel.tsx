// Invokes a function with text, JSON or a file as input, synchronously or
// queued, and shows what came back: output (text, JSON or hex), stdout and
// stderr, status, duration, fuel and memory.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/client';
import { useClient } from '../api/session';
import type { Invocation, Logs as LogsAnswer } from '../api/types';
import { useInvocationEvents } from '../live/LiveProvider';
import { base64ToBytes } from '../lib/bytes';
import { formatBytes, formatFuel, formatMs } from '../lib/format';
import { BytesView } from './BytesView';
import { ErrorBox, Segmented, StateBadge } from './ui';

type InputMode = 'text' | 'json' | 'file';
const INPUT_MODES = [
  { value: 'text', label: 'Text' },
  { value: 'json', label: 'JSON' },
  { value: 'file', label: 'File' },
] as const;

interface Outcome {
  id: string | null;
  state: string; // queued ... timed_out
  runStatus: string | null;
  durationMs: number | null;
  fuel: number | null;
  output: Uint8Array | null;
  detail: Invocation | null;
  logs: LogsAnswer | null;
  note: string | null;
}

export function logText(logs: LogsAnswer, stream: 'stdout' | 'stderr'): Uint8Array {
  const text = logs[stream];
  return logs.encoding === 'base64' ? base64ToBytes(text) : new TextEncoder().encode(text);
}

// Invalid JSON as a message that points at the problem; null when valid.
export function jsonProblem(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : 'invalid JSON';
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  return a !== null && a.length === b.length && a.every((byte, i) => byte === b[i]);
}

// stdout and stderr; stdout is usually the output itself, and then said so
// rather than shown twice.
export function Logs({ logs, output }: { logs: LogsAnswer; output: Uint8Array | null }) {
  const stdout = logText(logs, 'stdout');
  return (
    <div className="logs">
      {sameBytes(output, stdout) ? (
        <div className="muted small">stdout: the output above ({formatBytes(stdout.length)})</div>
      ) : (
        <BytesView bytes={stdout} label="stdout" />
      )}
      <BytesView bytes={logText(logs, 'stderr')} label="stderr" testId="stderr" />
    </div>
  );
}

export function InvokePanel({ name }: { name: string }) {
  const client = useClient();
  const [mode, setMode] = useState<InputMode>('text');
  const [text, setText] = useState('');
  const [json, setJson] = useState('{\n  \n}');
  const [file, setFile] = useState<File | null>(null);
  const [queue, setQueue] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  // Fills in what the invoke answer does not carry (memory, exit code, logs).
  const complete = async (id: string, base: Outcome, fetchOutput: boolean) => {
    const [detail, logs, output] = await Promise.all([
      client.getInvocation(id),
      client.getLogs(id).catch(() => null),
      fetchOutput ? client.getOutput(id).catch(() => null) : Promise.resolve(base.output),
    ]);
    setOutcome({
      ...base,
      detail,
      logs,
      output,
      state: detail.state,
      runStatus: detail.result?.status ?? base.runStatus,
      durationMs: detail.result?.wall_ms ?? base.durationMs,
      fuel: detail.result?.fuel_used ?? base.fuel,
    });
  };

  useInvocationEvents((event) => {
    if (!outcome || event.id !== outcome.id || outcome.detail) return;
    setOutcome({ ...outcome, state: event.state });
    if (['succeeded', 'failed', 'timed_out'].includes(event.state)) {
      complete(event.id, outcome, true).catch(setError);
    }
  });

  const input = (): { body: Blob | string; type: string } | string => {
    if (mode === 'text') return { body: text, type: 'text/plain; charset=utf-8' };
    if (mode === 'json') {
      const problem = jsonProblem(json);
      return problem ? `Input is not valid JSON: ${problem}` : { body: json, type: 'application/json' };
    }
    if (!file) return 'Choose a file to send as input';
    return { body: file, type: file.type || 'application/octet-stream' };
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = input();
    if (typeof body === 'string') return setError(new Error(body));
    setBusy(true);
    setError(null);
    setOutcome(null);
    try {
      if (queue) {
        const answer = await client.invokeAsync(name, body.body, body.type);
        setOutcome({ id: answer.id, state: answer.state, runStatus: null, durationMs: null, fuel: null, output: null, detail: null, logs: null, note: null });
      } else {
        const answer = await client.invokeSync(name, body.body, body.type);
        const base: Outcome = {
          id: answer.id,
          state: answer.status ?? 'succeeded',
          runStatus: answer.runStatus,
          durationMs: answer.durationMs,
          fuel: answer.fuel,
          output: answer.output,
          detail: null,
          logs: null,
          note: null,
        };
        setOutcome(base);
        if (answer.id) await complete(answer.id, base, false);
      }
    } catch (reason) {
      if (reason instanceof ApiError && reason.status === 504) {
        const id = (reason.body as { id?: string; error?: { id?: string } } | null)?.id ?? (reason.body as { error?: { id?: string } } | null)?.error?.id ?? null;
        setOutcome({ id, state: 'running', runStatus: null, durationMs: null, fuel: null, output: null, detail: null, logs: null, note: 'The server stopped waiting; the invocation goes on and appears here when it ends.' });
      } else {
        setError(reason);
      }
    } finally {
      setBusy(false);
    }
  };

  const result = outcome?.detail?.result ?? null;
  return (
    <div className="invoke">
      <form className="form" onSubmit={submit}>
        <div className="form-row between">
          <Segmented label="Input type" value={mode} options={INPUT_MODES} onChange={setMode} />
          <label className="inline">
            <input type="checkbox" checked={queue} onChange={(e) => setQueue(e.target.checked)} /> queue (async)
          </label>
        </div>
        {mode === 'text' && (
          <textarea aria-label="Input text" data-testid="invoke-input" rows={4} value={text} onChange={(e) => setText(e.target.value)} placeholder="input bytes for stdin" />
        )}
        {mode === 'json' && (
          <>
            <textarea aria-label="Input JSON" rows={6} className="mono" value={json} onChange={(e) => setJson(e.target.value)} />
            {jsonProblem(json) && <div className="muted small">not valid JSON yet: {jsonProblem(json)}</div>}
          </>
        )}
        {mode === 'file' && (
          <label className="file-drop">
            Input file {file && `(${file.name}, ${formatBytes(file.size)})`}
            <input type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
          </label>
        )}
        <button type="submit" className="primary" disabled={busy} data-testid="invoke-button">
          {busy ? 'Running…' : 'Invoke'}
        </button>
      </form>
      {error !== null && <ErrorBox error={error} />}
      {outcome && (
        <div className="invoke-result" data-testid="invoke-result">
          <div className="facts">
            <StateBadge state={outcome.state} />
            {outcome.runStatus && outcome.runStatus !== 'ok' && <span className="muted">run status: {outcome.runStatus}</span>}
            <span>duration {formatMs(outcome.durationMs)}</span>
            <span>fuel {formatFuel(outcome.fuel)}</span>
            <span>memory {formatBytes(result?.peak_memory_bytes)}</span>
            {result && <span>exit code {result.exit_code}</span>}
            {outcome.id && (
              <Link to={`/invocations/${outcome.id}`} className="mono">
                {outcome.id}
              </Link>
            )}
          </div>
          {outcome.note && <div className="muted small">{outcome.note}</div>}
          {result?.message && <div className="state state-error">{result.message}</div>}
          {outcome.output && <BytesView bytes={outcome.output} label="Output" testId="invoke-output" />}
          {result?.output_truncated && <div className="muted small">output truncated at the function's output limit</div>}
          {outcome.logs && <Logs logs={outcome.logs} output={outcome.output} />}
        </div>
      )}
    </div>
  );
}
