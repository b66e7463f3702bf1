// The source editor: CodeMirror 6 with the language's highlighting and the
// compiler's diagnostics as lint marks and gutter markers. Loaded lazily
// (LazySourceEditor), so only the pages that edit source pay for it.
//
// The editor owns the text while it is open; `onChange` reports every
// edit, and a new `resetKey` replaces the text with `text`. Diagnostics are
// placed against the text as it is when they arrive, then move with edits.
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { Compartment, EditorState, type Extension } from '@codemirror/state';
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import { useEffect, useImperativeHandle, useRef, useState, type Ref } from 'react';
import { inlineMarks, offsetOf, type CompileDiagnostic, type ColumnUnit } from '../lib/diagnostics';
import type { LanguageId } from '../lib/languages';

export interface EditorHandle {
  // Puts the cursor at a 1-based line and column (clamped) and shows it.
  focusAt(line: number, column: number): void;
}

export interface SourceEditorProps {
  text: string;
  resetKey: string | number;
  language: LanguageId;
  filename: string; // for the editor's label
  diagnosticsFile: string; // the file the diagnostics were reported for
  columns: ColumnUnit;
  diagnostics: readonly CompileDiagnostic[];
  onChange(text: string): void;
  onCheck(): void; // Ctrl/Cmd-Enter
  ref?: Ref<EditorHandle>;
}

// Each grammar is a chunk of its own, fetched when its language is chosen.
function languageSupport(id: LanguageId): Promise<Extension> {
  switch (id) {
    case 'c':
    case 'cpp':
      return import('@codemirror/lang-cpp').then((m) => m.cpp());
    case 'assemblyscript':
      return import('@codemirror/lang-javascript').then((m) => m.javascript({ typescript: true }));
    case 'rust':
      return import('@codemirror/lang-rust').then((m) => m.rust());
  }
}

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '0.85rem', backgroundColor: '#fff' },
  '.cm-scroller': { fontFamily: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace", lineHeight: '1.5' },
  '.cm-gutters': { backgroundColor: '#f8fafc', borderRight: '1px solid #e2e8f0', color: '#94a3b8' },
  '.cm-activeLine': { backgroundColor: '#eff6ff80' },
  '.cm-activeLineGutter': { backgroundColor: '#e0e7ff' },
});

export default function SourceEditor({
  text,
  resetKey,
  language,
  filename,
  diagnosticsFile,
  columns,
  diagnostics,
  onChange,
  onCheck,
  ref,
}: SourceEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const languageSlot = useRef(new Compartment());
  const labelSlot = useRef(new Compartment());
  const changed = useRef(onChange);
  changed.current = onChange;
  const check = useRef(onCheck);
  check.current = onCheck;
  const [grammarError, setGrammarError] = useState<string | null>(null);
  const initial = useRef(text);
  initial.current = text;

  useEffect(() => {
    if (!host.current) return undefined;
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: initial.current,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightSpecialChars(),
          history(),
          drawSelection(),
          indentOnInput(),
          bracketMatching(),
          highlightActiveLine(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          keymap.of([
            {
              key: 'Mod-Enter',
              run: () => {
                check.current();
                return true;
              },
            },
            ...defaultKeymap,
            ...historyKeymap,
            indentWithTab,
          ]),
          lintGutter(),
          theme,
          languageSlot.current.of([]),
          labelSlot.current.of([]),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) changed.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
  }, []);

  // A new text from outside (another function, a template, a reload).
  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const current = editor.state.doc.toString();
    if (current !== initial.current) editor.dispatch({ changes: { from: 0, to: current.length, insert: initial.current } });
  }, [resetKey]);

  useEffect(() => {
    let current = true;
    setGrammarError(null);
    languageSupport(language).then(
      (support) => {
        if (current) view.current?.dispatch({ effects: languageSlot.current.reconfigure(support) });
      },
      // Without its grammar the text is still editable, only not highlighted.
      (error: unknown) => {
        if (current) setGrammarError(`${language} highlighting could not be loaded (${error instanceof Error ? error.message : String(error)})`);
      },
    );
    return () => {
      current = false;
    };
  }, [language]);

  useEffect(() => {
    view.current?.dispatch({
      effects: labelSlot.current.reconfigure(EditorView.contentAttributes.of({ 'aria-label': `Source of ${filename}` })),
    });
  }, [filename]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const marks = inlineMarks(editor.state.doc.toString(), diagnosticsFile, diagnostics, columns);
    const lint: Diagnostic[] = marks.map((mark) => ({
      from: mark.from,
      to: mark.to,
      severity: mark.severity,
      message: mark.message,
    }));
    editor.dispatch(setDiagnostics(editor.state, lint));
  }, [diagnostics, diagnosticsFile, columns]);

  useImperativeHandle(
    ref,
    () => ({
      focusAt(line, column) {
        const editor = view.current;
        if (!editor) return;
        const offset = offsetOf(editor.state.doc.toString(), line, column, columns);
        editor.dispatch({ selection: { anchor: offset }, effects: EditorView.scrollIntoView(offset, { y: 'center' }) });
        editor.focus();
      },
    }),
    [columns],
  );

  return (
    <>
      <div className="source-editor" ref={host} data-testid="source-editor" />
      {grammarError && (
        <div className="muted small" role="status">
          {grammarError}
        </div>
      )}
    </>
  );
}
