// Byte buffers shown as text, JSON or a hex dump, and back.

const decoder = new TextDecoder('utf-8', { fatal: true });

// The bytes as UTF-8 text, or null when they are not valid UTF-8.
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

export function lossyUtf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

// Pretty-printed JSON, or null when the bytes are not a JSON document.
export function prettyJsonOrNull(bytes: Uint8Array): string | null {
  const text = utf8OrNull(bytes);
  if (text === null || text.trim() === '') return null;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

// A classic hex dump: offset, 16 bytes in hex, then the printable ASCII.
export function hexDump(bytes: Uint8Array, maxBytes = 64 * 1024): string {
  const lines: string[] = [];
  const end = Math.min(bytes.length, maxBytes);
  for (let offset = 0; offset < end; offset += 16) {
    const row = bytes.subarray(offset, Math.min(offset + 16, end));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0'));
    const left = hex.slice(0, 8).join(' ');
    const right = hex.slice(8).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  if (bytes.length > end) lines.push(`… ${bytes.length - end} more bytes`);
  return lines.join('\n');
}

export type ViewMode = 'text' | 'json' | 'hex';

// The best first view of some output: JSON if it parses, text if it is
// UTF-8, hex otherwise.
export function preferredView(bytes: Uint8Array): ViewMode {
  if (prettyJsonOrNull(bytes) !== null) return 'json';
  if (utf8OrNull(bytes) !== null) return 'text';
  return 'hex';
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
