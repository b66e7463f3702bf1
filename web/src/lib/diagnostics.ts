// Compile diagnostics as the server reports them ({file, line, column,
// severity, message}, 1-based) and their place in the edited text. Pure
// functions, free of the editor, so pages that only list diagnostics do not
// load CodeMirror and the mapping can be tested on its own.

export type Severity = 'error' | 'warning' | 'info';

export interface CompileDiagnostic {
  file: string; // as the compiler names it; "" when it names none
  line: number | null; // 1-based; null when the compiler gives none (a linker error)
  column: number | null; // 1-based
  severity: Severity;
  message: string;
}

// How a compiler counts columns: clang counts UTF-8 bytes, the others count
// characters of the JavaScript string.
export type ColumnUnit = 'utf8' | 'utf16';

// A diagnostic placed in the edited text, as character offsets.
export interface InlineMark {
  index: number; // into the diagnostics it came from
  from: number;
  to: number;
  severity: Severity;
  message: string;
}

function positiveInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.floor(value) : null;
}

export function severityOf(value: unknown): Severity {
  const text = typeof value === 'string' ? value.toLowerCase() : '';
  if (text.includes('warn')) return 'warning';
  if (text === 'note' || text === 'remark' || text === 'info' || text === 'help') return 'info';
  return 'error';
}

// The server's diagnostics, checked: entries without a message are dropped,
// missing or nonsensical positions become null.
export function parseDiagnostics(value: unknown): CompileDiagnostic[] {
  if (!Array.isArray(value)) return [];
  const out: CompileDiagnostic[] = [];
  for (const item of value) {
    if (!item || typeof item !== 'object') continue;
    const raw = item as Record<string, unknown>;
    if (typeof raw.message !== 'string' || raw.message === '') continue;
    const line = positiveInt(raw.line);
    out.push({
      file: typeof raw.file === 'string' ? raw.file : '',
      line,
      column: line === null ? null : positiveInt(raw.column),
      severity: severityOf(raw.severity),
      message: raw.message,
    });
  }
  return out;
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

// Whether a diagnostic belongs to the edited file: the compiler may name it
// as given ("hello.c") or by its path in a temporary directory.
export function isInEditedFile(diagnostic: CompileDiagnostic, filename: string): boolean {
  return diagnostic.line !== null && diagnostic.file !== '' && baseName(diagnostic.file) === baseName(filename);
}

// Offsets where each line starts; lines end at "\n" (a "\r" before it stays
// part of the line, as in the editor's own count of columns).
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineEnd(text: string, starts: readonly number[], index: number): number {
  const next = starts[index + 1];
  if (next === undefined) return text.length;
  return text[next - 2] === '\r' ? next - 2 : next - 1;
}

// UTF-16 length of the prefix of `lineText` that holds `bytes` UTF-8 bytes.
function utf8ColumnToUtf16(lineText: string, bytes: number): number {
  let counted = 0;
  let i = 0;
  while (i < lineText.length && counted < bytes) {
    const code = lineText.codePointAt(i) ?? 0;
    counted += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    i += code > 0xffff ? 2 : 1;
  }
  return i;
}

// The offset of a 1-based (line, column), clamped into the text: a line
// past the end means the last line, a column past the end of its line the
// end of that line, and anything below 1 the first.
export function offsetOf(
  text: string,
  line: number,
  column: number,
  unit: ColumnUnit = 'utf16',
  starts: readonly number[] = lineStarts(text),
): number {
  const index = Math.min(Math.max(Math.floor(line) || 1, 1), starts.length) - 1;
  const start = starts[index] ?? 0;
  const end = lineEnd(text, starts, index);
  const wanted = Math.max(Math.floor(column) || 1, 1) - 1;
  const inLine = unit === 'utf8' ? utf8ColumnToUtf16(text.slice(start, end), wanted) : wanted;
  return Math.min(start + inLine, end);
}

const WORD = /[\p{L}\p{N}_$]/u;

// Where a mark that starts at `from` ends: over the word there, else over
// one character, else (at the end of a line) nowhere, which the editor
// shows as a point.
function markEnd(text: string, from: number): number {
  let to = from;
  while (to < text.length && WORD.test(text[to] ?? '')) to += 1;
  if (to === from && from < text.length && text[from] !== '\n' && text[from] !== '\r') to += 1;
  return to;
}

// The marks for the edited file; diagnostics about other files (headers,
// the linker) are left to the list under the editor.
export function inlineMarks(
  text: string,
  filename: string,
  diagnostics: readonly CompileDiagnostic[],
  unit: ColumnUnit = 'utf16',
): InlineMark[] {
  const starts = lineStarts(text);
  const marks: InlineMark[] = [];
  diagnostics.forEach((diagnostic, index) => {
    if (!isInEditedFile(diagnostic, filename) || diagnostic.line === null) return;
    const from = offsetOf(text, diagnostic.line, diagnostic.column ?? 1, unit, starts);
    marks.push({ index, from, to: markEnd(text, from), severity: diagnostic.severity, message: diagnostic.message });
  });
  return marks;
}

// "hello.c:7:12" (or less, when the compiler said less).
export function locationText(diagnostic: CompileDiagnostic): string {
  const parts = [diagnostic.file || '(no file)'];
  if (diagnostic.line !== null) parts.push(String(diagnostic.line));
  if (diagnostic.line !== null && diagnostic.column !== null) parts.push(String(diagnostic.column));
  return parts.join(':');
}

export function countBySeverity(diagnostics: readonly CompileDiagnostic[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const d of diagnostics) counts[d.severity] += 1;
  return counts;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// "2 errors, 1 warning"; "" when there are none.
export function diagnosticsSummary(diagnostics: readonly CompileDiagnostic[]): string {
  const counts = countBySeverity(diagnostics);
  const parts = [];
  if (counts.error) parts.push(plural(counts.error, 'error'));
  if (counts.warning) parts.push(plural(counts.warning, 'warning'));
  if (counts.info) parts.push(plural(counts.info, 'note'));
  return parts.join(', ');
}
