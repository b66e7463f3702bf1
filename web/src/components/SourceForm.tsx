// Creates a function or a new version of one from source code: an editor
// (loaded lazily), a language, and two actions. Check compiles only
// (POST /compile); Deploy compiles and deploys (POST /functions/{name}/source).
// The compiler's diagnostics are marked in the editor and listed under it;
// a diagnostic in the edited file moves the cursor there when clicked,
// others (headers, the linker) are only listed.
import { useRef, useState } from 'react';
import { ApiError, CompileFailedError } from '../api/client';
import { useClient } from '../api/session';
import type { CompileAnswer, FunctionSettings, SourceDeployAnswer } from '../api/types';
import { LazySourceEditor, type EditorHandle } from '../editor/LazySourceEditor';
import {
  diagnosticsSummary,
  isInEditedFile,
  locationText,
  parseDiagnostics,
  type CompileDiagnostic,
} from '../lib/diagnostics';
import { formatBytes, formatMs } from '../lib/format';
import { LANGUAGES, languageById, languageOfFilename, sourceFilename, withLanguage, type Language, type LanguageId } from '../lib/languages';
import { FUNCTION_NAME_RULE, isFunctionName } from '../lib/validate';
import { useSettingsForm } from './SettingsFields';
import { ErrorBox } from './ui';

type Action = 'check' | 'deploy';

interface Compiled {
  answer: CompileAnswer | null; // null if a deploy's answer lacks its compile report
  deployed: SourceDeployAnswer | null;
}

// What the last Check or Deploy gave, for the text and file name it sent.
interface Sent {
  action: Action;
  filename: string;
  source: string;
  diagnostics: CompileDiagnostic[];
}
type CompileOutcome = (Sent & Compiled & { ok: true }) | (Sent & { ok: false; message: string });

function compiledText(answer: CompileAnswer | null): string {
  if (!answer) return 'compiled';
  const cached = answer.cached ? ', cached' : '';
  return `${answer.language}, ${formatBytes(answer.wasm_size)} module, compiled in ${formatMs(answer.duration_ms)}${cached}`;
}

function OutcomeStatus({ outcome, stale }: { outcome: CompileOutcome; stale: boolean }) {
  const summary = diagnosticsSummary(outcome.diagnostics);
  const changed = stale ? ' The source has changed since.' : '';
  if (!outcome.ok) {
    return (
      <div className="state state-error" role="alert" data-testid="compile-status">
        <strong>Does not compile</strong>
        {summary ? `: ${summary}.` : `: ${outcome.message}`}
        {outcome.action === 'deploy' ? ' Nothing was deployed.' : ''}
        {changed}
      </div>
    );
  }
  const warned = summary ? ` ${summary}.` : ' No problems.';
  return (
    <div className={`state ${summary ? 'state-warn' : 'state-ok'}`} role="status" data-testid="compile-status">
      {outcome.deployed ? (
        <>
          <strong>Deployed</strong> {outcome.deployed.name} version {outcome.deployed.version} ({compiledText(outcome.answer)}).
        </>
      ) : (
        <>
          <strong>Compiles</strong> ({compiledText(outcome.answer)}).
        </>
      )}
      {warned}
      {changed}
    </div>
  );
}

function DiagnosticList({
  diagnostics,
  filename,
  onPick,
}: {
  diagnostics: readonly CompileDiagnostic[];
  filename: string;
  onPick(diagnostic: CompileDiagnostic): void;
}) {
  return (
    <ol className="diagnostics" data-testid="diagnostics" aria-label="Compiler diagnostics">
      {diagnostics.map((d, i) => {
        const body = (
          <>
            <span className={`severity severity-${d.severity}`}>{d.severity}</span>
            <span className="mono diagnostic-where">{locationText(d)}</span>
            <span className="diagnostic-message">{d.message}</span>
          </>
        );
        return (
          <li key={i}>
            {isInEditedFile(d, filename) ? (
              <button type="button" className="diagnostic" onClick={() => onPick(d)} title="Show in the editor">
                {body}
              </button>
            ) : (
              <div className="diagnostic">{body}</div>
            )}
          </li>
        );
      })}
    </ol>
  );
}

export function SourceForm({
  fixedName,
  initialFilename,
  initialSource,
  sourceKey,
  settings,
  onDeployed,
}: {
  fixedName?: string;
  // The file being edited; its extension picks the language.
  initialFilename: string;
  initialSource: string;
  // A new key replaces the editor's text with initialSource.
  sourceKey: string;
  settings?: FunctionSettings;
  onDeployed(answer: SourceDeployAnswer): void;
}) {
  const client = useClient();
  const editor = useRef<EditorHandle>(null);
  const [name, setName] = useState(fixedName ?? '');
  const [baseFile, setBaseFile] = useState(initialFilename);
  const [languageId, setLanguageId] = useState<LanguageId>(() => languageOfInitial(initialFilename).id);
  const [source, setSource] = useState(initialSource);
  const [resetKey, setResetKey] = useState(0);
  const [seenKey, setSeenKey] = useState(sourceKey);
  const [outcome, setOutcome] = useState<CompileOutcome | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState<Action | null>(null);
  const settingsForm = useSettingsForm(settings, false);

  // A new source from the server (another version deployed): start over.
  if (sourceKey !== seenKey) {
    setSeenKey(sourceKey);
    setBaseFile(initialFilename);
    setLanguageId(languageOfInitial(initialFilename).id);
    setSource(initialSource);
    setResetKey((k) => k + 1);
  }

  const language = languageById(languageId);
  const filename = fixedName ? withLanguage(baseFile, language) : sourceFilename(name, language);

  const replaceSource = (text: string) => {
    setSource(text);
    setResetKey((k) => k + 1);
  };

  const startFromTemplate = () => {
    if (source.trim() === '' || window.confirm(`Replace the editor's text with the ${language.label} hello?`)) {
      replaceSource(language.template);
    }
  };

  const chooseLanguage = (id: LanguageId) => {
    const next = languageById(id);
    // An untouched template follows the language; the user's own code stays.
    if (source.trim() === '' || source === language.template) replaceSource(next.template);
    setLanguageId(id);
    // What the compiler said was about another file.
    setOutcome(null);
    setError(null);
  };

  // Sends the text as it is now; the outcome remembers it and its file name.
  const submit = async (action: Action, call: (file: string, text: string) => Promise<Compiled>) => {
    const file = filename;
    const sent = source;
    setError(null);
    setProblem(null);
    setBusy(action);
    try {
      const { answer, deployed } = await call(file, sent);
      setOutcome({ ok: true, action, filename: file, source: sent, answer, deployed, diagnostics: parseDiagnostics(answer?.diagnostics) });
      if (deployed) onDeployed(deployed);
    } catch (reason) {
      if (reason instanceof CompileFailedError) {
        setOutcome({ ok: false, action, filename: file, source: sent, message: reason.message, diagnostics: reason.diagnostics });
      } else {
        setOutcome(null);
        setError(reason);
      }
    } finally {
      setBusy(null);
    }
  };

  const check = () => submit('check', async (file, text) => ({ answer: await client.compile(file, text), deployed: null }));

  const deploy = () => {
    setError(null);
    if (!isFunctionName(name)) return setProblem(FUNCTION_NAME_RULE);
    const chosen = settingsForm.read();
    if ('error' in chosen) return setProblem(chosen.error);
    return submit('deploy', async (file, text) => {
      const deployed = await client.deployFromSource(name, file, text, chosen.settings);
      return { answer: deployed.compile ?? null, deployed };
    });
  };

  const diagnostics = outcome?.diagnostics ?? [];
  const noCompiler = error instanceof ApiError && (error.status === 404 || error.status === 405);

  return (
    <div className="form source-form">
      <div className="form-row">
        {!fixedName && (
          <label>
            Name
            <input name="source-function-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="hello" required />
          </label>
        )}
        <label>
          Language
          <select name="source-language" value={languageId} onChange={(e) => chooseLanguage(e.target.value as LanguageId)}>
            {LANGUAGES.map((l) => (
              <option key={l.id} value={l.id}>
                {l.label} ({l.extensions.join(', ')})
              </option>
            ))}
          </select>
        </label>
        <span className="muted small source-file">
          File <code data-testid="source-filename">{filename}</code>{' '}
          {source !== language.template && (
            <button type="button" className="link" onClick={() => startFromTemplate()}>
              Start from the {language.label} hello
            </button>
          )}
        </span>
      </div>
      <LazySourceEditor
        ref={editor}
        text={source}
        resetKey={resetKey}
        language={languageId}
        filename={filename}
        diagnosticsFile={outcome?.filename ?? filename}
        columns={language.columns}
        diagnostics={diagnostics}
        onChange={setSource}
        onCheck={() => {
          if (busy === null) void check();
        }}
      />
      {settingsForm.fields}
      {problem && (
        <div className="state state-error" role="alert">
          {problem}
        </div>
      )}
      {outcome && <OutcomeStatus outcome={outcome} stale={outcome.source !== source} />}
      {diagnostics.length > 0 && (
        <DiagnosticList
          diagnostics={diagnostics}
          filename={outcome?.filename ?? filename}
          onPick={(d) => editor.current?.focusAt(d.line ?? 1, d.column ?? 1)}
        />
      )}
      {error !== null && <ErrorBox error={error} />}
      {noCompiler && <div className="muted small">This server has no compiler service: deploy a .wasm module instead.</div>}
      <div className="form-row source-actions">
        <button type="button" onClick={() => void check()} disabled={busy !== null} data-testid="source-check" title="Compile only (Ctrl+Enter)">
          {busy === 'check' ? 'Checking…' : 'Check'}
        </button>
        <button type="button" className="primary" onClick={() => void deploy()} disabled={busy !== null} data-testid="source-deploy">
          {busy === 'deploy' ? 'Deploying…' : fixedName ? 'Deploy new version' : 'Deploy'}
        </button>
      </div>
    </div>
  );
}

function languageOfInitial(filename: string): Language {
  return languageOfFilename(filename) ?? languageById('c');
}
