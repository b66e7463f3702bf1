#include "compiler/source/diagnostics.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace milf::compiler {
namespace {

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return lines;
}

std::optional<int> Number(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::string RelativePath(std::string_view path, std::string_view root) {
  if (!root.empty() && path.starts_with(root) && path.size() > root.size() &&
      path[root.size()] == '/') {
    path.remove_prefix(root.size() + 1);
  }
  while (path.starts_with("./")) path.remove_prefix(2);
  return std::string(path);
}

// "error", "fatal error", "warning", "note", "error[E0308]" -> severity and
// the code in brackets, if any.
std::optional<std::pair<std::string, std::string>> Severity(std::string_view word) {
  std::string code;
  if (const std::size_t bracket = word.find('[');
      bracket != std::string_view::npos && word.back() == ']') {
    code = std::string(word.substr(bracket + 1, word.size() - bracket - 2));
    word = word.substr(0, bracket);
  }
  if (word == "error" || word == "fatal error") return std::pair{std::string("error"), code};
  if (word == "warning") return std::pair{std::string("warning"), code};
  if (word == "note" || word == "remark" || word == "help")
    return std::pair{std::string("note"), code};
  return std::nullopt;
}

// "<location>: <severity>: <message>" with location "file:line:col",
// "file:line" or a tool name.
std::optional<Diagnostic> ParseClangLine(std::string_view line, std::string_view root) {
  for (std::size_t colon = line.find(": "); colon != std::string_view::npos;
       colon = line.find(": ", colon + 2)) {
    const std::size_t severity_end = line.find(": ", colon + 2);
    if (severity_end == std::string_view::npos) return std::nullopt;
    const auto severity = Severity(line.substr(colon + 2, severity_end - colon - 2));
    if (!severity) continue;
    Diagnostic diagnostic;
    diagnostic.severity = severity->first;
    diagnostic.message = std::string(line.substr(severity_end + 2));
    if (!severity->second.empty()) diagnostic.message += " [" + severity->second + "]";
    std::string_view location = line.substr(0, colon);
    // file:line:col, file:line, or a bare tool name such as "wasm-ld".
    std::optional<int> numbers[2];
    for (int i = 0; i < 2; ++i) {
      const std::size_t last = location.rfind(':');
      if (last == std::string_view::npos) break;
      const auto number = Number(location.substr(last + 1));
      if (!number) break;
      numbers[i] = number;
      location = location.substr(0, last);
    }
    if (numbers[1]) {
      diagnostic.line = *numbers[1];
      diagnostic.column = *numbers[0];
    } else if (numbers[0]) {
      diagnostic.line = *numbers[0];
    }
    const bool is_file = numbers[0].has_value();
    diagnostic.file = is_file ? RelativePath(location, root) : "";
    if (!is_file && location.find(' ') != std::string_view::npos) return std::nullopt;
    return diagnostic;
  }
  return std::nullopt;
}

bool IsRustSummary(std::string_view message) {
  return message.starts_with("aborting due to") ||
         message.find("warnings emitted") != std::string_view::npos ||
         message.find("warning emitted") != std::string_view::npos;
}

}  // namespace

std::vector<Diagnostic> ParseClangStyle(std::string_view output, std::string_view project_root) {
  std::vector<Diagnostic> diagnostics;
  for (std::string_view line : Lines(output)) {
    std::optional<Diagnostic> diagnostic;
    if (line.starts_with("error: ") || line.starts_with("warning: ") ||
        line.starts_with("error[")) {
      diagnostic = ParseClangLine("rustc: " + std::string(line), project_root);
      if (diagnostic && IsRustSummary(diagnostic->message)) continue;
    } else {
      diagnostic = ParseClangLine(line, project_root);
    }
    if (diagnostic) diagnostics.push_back(std::move(*diagnostic));
  }
  return diagnostics;
}

std::vector<Diagnostic> ParseAssemblyScript(std::string_view output,
                                            std::string_view project_root) {
  std::vector<Diagnostic> diagnostics;
  bool located = true;
  for (std::string_view line : Lines(output)) {
    std::string severity;
    if (line.starts_with("ERROR ")) severity = "error";
    if (line.starts_with("WARNING ")) severity = "warning";
    if (line.starts_with("INFO ")) severity = "note";
    if (!severity.empty()) {
      std::string_view rest = line.substr(line.find(' ') + 1);
      const std::size_t colon = rest.find(": ");
      Diagnostic diagnostic;
      diagnostic.severity = severity;
      diagnostic.message =
          std::string(colon == std::string_view::npos ? rest : rest.substr(colon + 2));
      if (colon != std::string_view::npos)
        diagnostic.message += " [" + std::string(rest.substr(0, colon)) + "]";
      diagnostics.push_back(std::move(diagnostic));
      located = false;
      continue;
    }
    const std::size_t in = line.find("\u2514\u2500 in ");
    if (located || in == std::string_view::npos) continue;
    std::string_view where = line.substr(in + std::string_view("\u2514\u2500 in ").size());
    const std::size_t open = where.rfind('(');
    const std::size_t comma = where.rfind(',');
    if (open == std::string_view::npos || comma == std::string_view::npos || comma < open ||
        !where.ends_with(")")) {
      continue;
    }
    const auto row = Number(where.substr(open + 1, comma - open - 1));
    const auto column = Number(where.substr(comma + 1, where.size() - comma - 2));
    if (!row || !column) continue;
    Diagnostic& diagnostic = diagnostics.back();
    diagnostic.file = RelativePath(where.substr(0, open), project_root);
    diagnostic.line = *row;
    diagnostic.column = *column;
    located = true;
  }
  return diagnostics;
}

std::string FormatDiagnostic(const Diagnostic& diagnostic) {
  std::string text;
  if (!diagnostic.file.empty()) {
    text = diagnostic.file + ":";
    if (diagnostic.line > 0) text += std::to_string(diagnostic.line) + ":";
    if (diagnostic.line > 0 && diagnostic.column > 0)
      text += std::to_string(diagnostic.column) + ":";
    text += " ";
  }
  return text + diagnostic.severity + ": " + diagnostic.message;
}

bool HasErrors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& diagnostic) { return diagnostic.severity == "error"; });
}

}  // namespace milf::compiler
