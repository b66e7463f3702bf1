// Guest path syntax, shared by every Directory implementation so that they
// agree on what a path means before any of them touches a file.
//
// A guest path is relative to a directory descriptor. It is split on '/'
// (runs of slashes count as one); "." and ".." components are kept, because
// what ".." means depends on symlinks and only the resolver can decide it.
// Nothing here checks existence or confinement: resolvers do that.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "wasm/wasi/abi.h"

namespace milf::wasm::wasi {

inline constexpr std::size_t kMaxPathBytes = 4096;
inline constexpr std::size_t kMaxNameBytes = 255;

struct ParsedPath {
  std::vector<std::string> components;  // never empty
  bool trailing_slash = false;          // "a/" names a directory

  // The last component, which names the entry an operation acts on.
  const std::string& leaf() const { return components.back(); }
  // True when the last component is "." or "..": such a path names a
  // directory through its relation to another, so it cannot be created,
  // removed or renamed.
  bool leaf_is_dot() const { return leaf() == "." || leaf() == ".."; }
};

// Errors: kNoent for an empty path, kInval for a path containing NUL (it
// would silently truncate on the host), kNotcapable for an absolute path
// (the guest holds no capability for "/"), kNametoolong past kMaxPathBytes or
// for a component past kMaxNameBytes.
Result<ParsedPath, Errno> ParseRelativePath(std::string_view path);

// "a/b/c" for the components [begin, end), "." when that range is empty.
std::string JoinComponents(const std::vector<std::string>& components, std::size_t begin,
                           std::size_t end);

}  // namespace milf::wasm::wasi
