// The source editor behind a dynamic import: CodeMirror and its language
// grammars are a chunk of their own, fetched the first time an editor is
// shown. While it loads the place says so; if it cannot be fetched (the
// server was updated and the chunk is gone, the network dropped) the error
// is shown with a retry.
import { Component, lazy, Suspense, useState, type ReactNode } from 'react';
import { ErrorBox, Loading } from '../components/ui';
import type { SourceEditorProps } from './SourceEditor';

export type { EditorHandle } from './SourceEditor';

const load = () => import('./SourceEditor');

class LoadBoundary extends Component<{ children: ReactNode; retry(): void }, { error: unknown }> {
  state = { error: null as unknown };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  render() {
    if (this.state.error === null) return this.props.children;
    return <ErrorBox error={new Error(`the editor could not be loaded: ${errorMessage(this.state.error)}`)} retry={this.props.retry} />;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function LazySourceEditor(props: SourceEditorProps) {
  // React.lazy keeps a failed import; a retry needs a fresh one, and a
  // fresh boundary (the key) to forget the error.
  const [attempt, setAttempt] = useState(() => ({ n: 0, Editor: lazy(load) }));
  const retry = () => setAttempt((current) => ({ n: current.n + 1, Editor: lazy(load) }));
  const { Editor } = attempt;
  return (
    <LoadBoundary key={attempt.n} retry={retry}>
      <Suspense fallback={<Loading what="Loading the editor" />}>
        <Editor {...props} />
      </Suspense>
    </LoadBoundary>
  );
}
