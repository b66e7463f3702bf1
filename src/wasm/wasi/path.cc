#include "wasm/wasi/path.h"

namespace milf::wasm::wasi {

Result<ParsedPath, Errno> ParseRelativePath(std::string_view path) {
  if (path.empty()) return Fail(Errno::kNoent);
  if (path.find('\0') != std::string_view::npos) return Fail(Errno::kInval);
  if (path.front() == '/') return Fail(Errno::kNotcapable);
  if (path.size() > kMaxPathBytes) return Fail(Errno::kNametoolong);

  ParsedPath parsed;
  std::size_t start = 0;
  while (start < path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) {
      if (end - start > kMaxNameBytes) return Fail(Errno::kNametoolong);
      parsed.components.emplace_back(path.substr(start, end - start));
    }
    start = end + 1;
  }
  parsed.trailing_slash = path.back() == '/';
  return parsed;
}

std::string JoinComponents(const std::vector<std::string>& components, std::size_t begin,
                           std::size_t end) {
  if (begin >= end) return ".";
  std::string joined = components[begin];
  for (std::size_t i = begin + 1; i < end; ++i) {
    joined += '/';
    joined += components[i];
  }
  return joined;
}

}  // namespace milf::wasm::wasi
