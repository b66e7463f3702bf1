// Client-side checks that mirror the API's, so a form says what is wrong
// before the server has to.

export const FUNCTION_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const USER_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export const FUNCTION_NAME_RULE =
  'Name: lowercase letters, digits, "-" and "_", starting with a letter or digit, at most 63 characters';

export function isFunctionName(name: string): boolean {
  return FUNCTION_NAME.test(name);
}

export function isUserName(name: string): boolean {
  return USER_NAME.test(name);
}

// A function name suggested by an uploaded file's name: "Hello World.wasm" -> "hello-world".
export function nameFromFile(fileName: string): string {
  const base = fileName.replace(/\.wasm$/i, '').toLowerCase();
  const cleaned = base.replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+/, '').slice(0, 63);
  return cleaned.replace(/-+$/, '');
}

// WebAssembly binaries start with "\0asm" and version 1.
export function looksLikeWasm(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
}

// "K=V" lines (blank lines ignored); returns the entries or the first bad line.
export function parseEnv(text: string): { env: string[] } | { error: string } {
  const env: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(line.slice(0, eq))) {
      return { error: `not a K=V line: ${line}` };
    }
    env.push(line);
  }
  return { env };
}

// A positive integer from a form field; undefined when blank.
export function optionalPositiveInt(text: string, what: string): { value: number | undefined } | { error: string } {
  const trimmed = text.trim();
  if (!trimmed) return { value: undefined };
  if (!/^\d+$/.test(trimmed) || Number(trimmed) <= 0 || !Number.isSafeInteger(Number(trimmed))) {
    return { error: `${what} must be a positive whole number` };
  }
  return { value: Number(trimmed) };
}
