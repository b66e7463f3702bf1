// The languages the server compiles, chosen by the file's extension, each
// with a small hello to start from. A lambda reads its input on stdin and
// what it writes to stdout is the invocation's result (sdk/include/milf.h).
import type { ColumnUnit } from './diagnostics';

export type LanguageId = 'c' | 'cpp' | 'assemblyscript' | 'rust';

export interface Language {
  id: LanguageId;
  label: string;
  extension: string; // the one a new file gets
  extensions: readonly string[];
  columns: ColumnUnit;
  template: string;
}

const C_HELLO = `// hello: a MILF lambda. Its input arrives on stdin, what it writes to
// stdout is the invocation's result, stderr is its log, and exit status 0
// means success.
#include <stdio.h>
#include <stdlib.h>

#include "milf.h"

int main(void) {
  unsigned char* input;
  size_t len;
  if (milf_read_input(&input, &len) != 0) {
    milf_log("hello: cannot read the input");
    return 1;
  }
  printf("Hello, %s!\\n", len > 0 ? (const char*)input : "MILF");
  free(input);
  return 0;
}
`;

const CPP_HELLO = `// hello: a MILF lambda in C++. Its input arrives on stdin, what it writes
// to stdout is the invocation's result, stderr is its log, and exit status 0
// means success.
#include <cstdlib>
#include <string>

#include "milf.h"

int main() {
  unsigned char* data = nullptr;
  std::size_t len = 0;
  if (milf_read_input(&data, &len) != 0) {
    milf_log("hello: cannot read the input");
    return 1;
  }
  const std::string input(reinterpret_cast<const char*>(data), len);
  std::free(data);
  const std::string greeting = "Hello, " + (input.empty() ? std::string("MILF") : input) + "!\\n";
  return milf_write_output(greeting.data(), greeting.size()) == 0 ? 0 : 1;
}
`;

const ASSEMBLYSCRIPT_HELLO = `// hello: a MILF lambda in AssemblyScript. Its input arrives on stdin and
// what it writes to stdout is the invocation's result. The top-level code
// runs as the module's _start; process and console are WASI's.
function readInput(): string {
  const chunk = new ArrayBuffer(4096);
  let text = "";
  let n = process.stdin.read(chunk);
  while (n > 0) {
    text += String.UTF8.decode(chunk.slice(0, n));
    n = process.stdin.read(chunk);
  }
  return text;
}

const input = readInput();
process.stdout.write("Hello, " + (input.length > 0 ? input : "MILF") + "!\\n");
`;

const RUST_HELLO = `// hello: a MILF lambda in Rust. Its input arrives on stdin, what it writes
// to stdout is the invocation's result, stderr is its log, and exit status 0
// means success.
use std::io::{self, Read};

fn main() {
    let mut input = String::new();
    if let Err(error) = io::stdin().read_to_string(&mut input) {
        eprintln!("hello: cannot read the input: {error}");
        std::process::exit(1);
    }
    let name = if input.is_empty() { "MILF" } else { input.as_str() };
    println!("Hello, {name}!");
}
`;

export const LANGUAGES: readonly Language[] = [
  { id: 'c', label: 'C', extension: '.c', extensions: ['.c'], columns: 'utf8', template: C_HELLO },
  { id: 'cpp', label: 'C++', extension: '.cpp', extensions: ['.cc', '.cpp', '.cxx'], columns: 'utf8', template: CPP_HELLO },
  {
    id: 'assemblyscript',
    label: 'AssemblyScript',
    extension: '.ts',
    extensions: ['.ts'],
    columns: 'utf16',
    template: ASSEMBLYSCRIPT_HELLO,
  },
  { id: 'rust', label: 'Rust', extension: '.rs', extensions: ['.rs'], columns: 'utf16', template: RUST_HELLO },
];

export function languageById(id: LanguageId): Language {
  return LANGUAGES.find((language) => language.id === id) ?? (LANGUAGES[0] as Language);
}

// The language of a file name by its extension; null when none matches.
export function languageOfFilename(filename: string): Language | null {
  const lower = filename.toLowerCase();
  return LANGUAGES.find((language) => language.extensions.some((ext) => lower.endsWith(ext))) ?? null;
}

// The file a function's source is sent as: its name with the language's
// extension ("hello" -> "hello.c"), "main" while the name is still empty.
export function sourceFilename(functionName: string, language: Language): string {
  return `${functionName.trim() || 'main'}${language.extension}`;
}

// A file name with its extension switched to another language's; kept as
// it is when it already belongs to that language ("a.cc" stays "a.cc").
export function withLanguage(filename: string, language: Language): string {
  const current = languageOfFilename(filename);
  if (current?.id === language.id) return filename;
  const lower = filename.toLowerCase();
  const ext = current?.extensions.find((e) => lower.endsWith(e));
  const stem = ext ? filename.slice(0, filename.length - ext.length) : filename.replace(/\.[^./]*$/, '');
  return `${stem || 'main'}${language.extension}`;
}
