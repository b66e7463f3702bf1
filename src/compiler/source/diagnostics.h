// Diagnostics: a compiler's output turned into structured records. Paths
// under `project_root` (where the jail shows the project) are given
// relative to the project; any other path (a system header) is kept as is.
// Lines that are not diagnostics (source excerpts, carets, summaries) are
// skipped. Pure functions, safe for concurrent use.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace milf::compiler {

struct Diagnostic {
  std::string file;      // "" when the tool named no file (a linker error)
  int line = 0;          // 1-based; 0 when unknown
  int column = 0;        // 1-based; 0 when unknown
  std::string severity;  // "error", "warning" or "note"
  std::string message;   // one line
};

// clang and wasm-ld (`file:line:col: severity: message`, `wasm-ld: error:
// message`), and rustc's --error-format=short (`file:line:col:
// error[E0308]: message`, the code kept at the end of the message).
std::vector<Diagnostic> ParseClangStyle(std::string_view output, std::string_view project_root);

// asc: `ERROR TS2322: message` then, a few lines on, `└─ in file(line,col)`.
std::vector<Diagnostic> ParseAssemblyScript(std::string_view output, std::string_view project_root);

// "file:line:col: severity: message", as a compiler prints it; fields that
// are unknown are left out.
std::string FormatDiagnostic(const Diagnostic& diagnostic);

bool HasErrors(const std::vector<Diagnostic>& diagnostics);

}  // namespace milf::compiler
