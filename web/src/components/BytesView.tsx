// Bytes shown as text, JSON or hex, with the choice the user made kept
// while the bytes change.
import { useEffect, useState } from 'react';
import { hexDump, lossyUtf8, preferredView, prettyJsonOrNull, type ViewMode } from '../lib/bytes';
import { formatBytes } from '../lib/format';
import { Segmented } from './ui';

const MODES = [
  { value: 'text', label: 'Text' },
  { value: 'json', label: 'JSON' },
  { value: 'hex', label: 'Hex' },
] as const;

export function BytesView({ bytes, label, testId }: { bytes: Uint8Array; label: string; testId?: string }) {
  const [mode, setMode] = useState<ViewMode>(() => preferredView(bytes));
  useEffect(() => setMode(preferredView(bytes)), [bytes]);
  let body: string;
  let note: string | null = null;
  if (mode === 'json') {
    const pretty = prettyJsonOrNull(bytes);
    body = pretty ?? lossyUtf8(bytes);
    if (pretty === null) note = 'not valid JSON; shown as text';
  } else if (mode === 'hex') {
    body = hexDump(bytes);
  } else {
    body = lossyUtf8(bytes);
  }
  return (
    <div className="bytes-view">
      <div className="bytes-head">
        <span className="muted">
          {label} · {formatBytes(bytes.length)}
        </span>
        <Segmented label={`${label} view`} value={mode} options={MODES} onChange={setMode} />
      </div>
      {note && <div className="muted small">{note}</div>}
      <pre className="output" data-testid={testId}>
        {bytes.length === 0 ? <span className="muted">(empty)</span> : body}
      </pre>
    </div>
  );
}
