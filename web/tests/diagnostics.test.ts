import { describe, expect, it } from 'vitest';
import {
  countBySeverity,
  inlineMarks,
  isInEditedFile,
  lineStarts,
  locationText,
  offsetOf,
  parseDiagnostics,
  severityOf,
  type CompileDiagnostic,
} from '../src/lib/diagnostics';

const SOURCE = ['#include <stdio.h>', '', 'int main(void) {', '  return undeclared;', '}'].join('\n');

function diag(line: number | null, column: number | null, over: Partial<CompileDiagnostic> = {}): CompileDiagnostic {
  return { file: 'hello.c', line, column, severity: 'error', message: 'boom', ...over };
}

describe('line and column to offsets', () => {
  it('finds where every line starts', () => {
    expect(lineStarts('ab\ncd\n\ne')).toEqual([0, 3, 6, 7]);
    expect(lineStarts('')).toEqual([0]);
  });

  it('maps 1-based line and column to an offset', () => {
    expect(offsetOf(SOURCE, 1, 1)).toBe(0);
    const line4 = SOURCE.indexOf('  return');
    expect(offsetOf(SOURCE, 4, 10)).toBe(line4 + 9);
    expect(SOURCE.slice(offsetOf(SOURCE, 4, 10), offsetOf(SOURCE, 4, 10) + 10)).toBe('undeclared');
  });

  it('clamps a column past the end of its line to the line end', () => {
    const line3End = SOURCE.indexOf('{') + 1;
    expect(offsetOf(SOURCE, 3, 500)).toBe(line3End);
    expect(offsetOf(SOURCE, 2, 7)).toBe(SOURCE.indexOf('\n\n') + 1); // an empty line
  });

  it('clamps a line past the end to the last line, and zero or negative to the first', () => {
    expect(offsetOf(SOURCE, 99, 1)).toBe(SOURCE.lastIndexOf('}'));
    expect(offsetOf(SOURCE, 99, 99)).toBe(SOURCE.length);
    expect(offsetOf(SOURCE, 0, 0)).toBe(0);
    expect(offsetOf(SOURCE, -3, -8)).toBe(0);
    expect(offsetOf(SOURCE, Number.NaN, Number.NaN)).toBe(0);
  });

  it('keeps a carriage return out of the line (CRLF files)', () => {
    const crlf = 'ab\r\ncd\r\n';
    expect(offsetOf(crlf, 1, 99)).toBe(2);
    expect(offsetOf(crlf, 2, 2)).toBe(5);
  });

  it('counts clang columns in UTF-8 bytes', () => {
    const text = 'x = "héllo €"; bad';
    // "bad" starts at character 15, but at byte 18 (é is 2 bytes, € is 3).
    expect(offsetOf(text, 1, 19, 'utf8')).toBe(text.indexOf('bad'));
    expect(offsetOf(text, 1, 19, 'utf16')).toBe(18);
    const astral = 'a😀b';
    expect(offsetOf(astral, 1, 6, 'utf8')).toBe(3); // after the 4-byte emoji (2 UTF-16 units)
    expect(offsetOf(astral, 1, 99, 'utf8')).toBe(astral.length);
  });
});

describe('diagnostics for the edited file and the others', () => {
  it('marks only the edited file inline, by base name', () => {
    const diagnostics = [
      diag(4, 10),
      diag(12, 3, { file: '/usr/include/stdio.h', severity: 'warning' }),
      diag(4, 3, { file: '/tmp/milf-compile-x1/hello.c', severity: 'warning', message: 'unused' }),
      diag(null, null, { file: 'wasm-ld', message: 'undefined symbol: foo' }),
      diag(2, 1, { file: 'other.c' }),
    ];
    const marks = inlineMarks(SOURCE, 'hello.c', diagnostics);
    expect(marks.map((m) => m.index)).toEqual([0, 2]);
    expect(marks[0]).toMatchObject({ severity: 'error', message: 'boom' });
    expect(SOURCE.slice(marks[0]?.from, marks[0]?.to)).toBe('undeclared');
    expect(SOURCE.slice(marks[1]?.from, marks[1]?.to)).toBe('return');
    expect(isInEditedFile(diagnostics[1] as CompileDiagnostic, 'hello.c')).toBe(false);
    expect(isInEditedFile(diagnostics[3] as CompileDiagnostic, 'hello.c')).toBe(false);
    expect(isInEditedFile(diag(1, 1, { file: '' }), 'hello.c')).toBe(false);
  });

  it('marks one character on punctuation and a point at the end of a line', () => {
    const marks = inlineMarks(SOURCE, 'hello.c', [diag(3, 16), diag(3, 99), diag(99, 99)]);
    expect(marks.map((m) => SOURCE.slice(m.from, m.to))).toEqual(['{', '', '']);
    expect(marks[2]?.from).toBe(SOURCE.length);
  });

  it('places a diagnostic without a column at the start of its line', () => {
    const [mark] = inlineMarks(SOURCE, 'hello.c', [diag(3, null)]);
    expect(mark?.from).toBe(SOURCE.indexOf('int main'));
  });
});

describe('parsing the server diagnostics', () => {
  it('keeps well-formed entries and repairs or drops the rest', () => {
    const parsed = parseDiagnostics([
      { file: 'hello.c', line: 7, column: 12, severity: 'error', message: 'use of undeclared identifier' },
      { file: 'hello.c', line: 0, column: 5, severity: 'fatal error', message: 'no line' },
      { line: 2.7, column: -1, severity: 'Warning', message: 'odd numbers' },
      { file: 'x.c', line: 1, column: 1, severity: 'note', message: '' },
      null,
      'text',
      { file: 'x.c', line: '3', severity: 'remark', message: 'string line' },
    ]);
    expect(parsed).toEqual([
      { file: 'hello.c', line: 7, column: 12, severity: 'error', message: 'use of undeclared identifier' },
      { file: 'hello.c', line: null, column: null, severity: 'error', message: 'no line' },
      { file: '', line: 2, column: null, severity: 'warning', message: 'odd numbers' },
      { file: 'x.c', line: null, column: null, severity: 'info', message: 'string line' },
    ]);
    expect(parseDiagnostics(undefined)).toEqual([]);
    expect(parseDiagnostics({ diagnostics: [] })).toEqual([]);
  });

  it('maps compiler severities onto three', () => {
    expect(['error', 'fatal error', 'ERROR', 'warning', 'note', 'help', 'info', undefined].map(severityOf)).toEqual([
      'error',
      'error',
      'error',
      'warning',
      'info',
      'info',
      'info',
      'error',
    ]);
  });

  it('describes where a diagnostic is and counts them', () => {
    expect(locationText(diag(7, 12))).toBe('hello.c:7:12');
    expect(locationText(diag(7, null))).toBe('hello.c:7');
    expect(locationText(diag(null, null, { file: '' }))).toBe('(no file)');
    expect(countBySeverity([diag(1, 1), diag(2, 2), diag(3, 3, { severity: 'warning' })])).toEqual({ error: 2, warning: 1, info: 0 });
  });
});
