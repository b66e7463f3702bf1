// Cgroup v2 memory and pids limits for workers, where this process may make
// cgroups: the supervisor's own cgroup must have the memory and pids
// controllers available and must either have them enabled for its children
// already or accept enabling them (cgroup v2 refuses that while the cgroup
// itself holds processes, unless a delegated subtree was set up for us).
//
// Layout: <own cgroup>/milf-sandbox-<pid>-<n>/slot-<i>, one leaf per worker
// slot, reused by each worker started in that slot.
//
// Place may be called concurrently for different slots.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace milf::sandbox {

class CgroupTree {
 public:
  // A tree for `slots` worker slots. Errors: "unavailable", with the reason
  // in one line.
  static Result<std::unique_ptr<CgroupTree>> Create(std::size_t slots);

  // Removes the slots and the tree; their processes must have been reaped.
  ~CgroupTree();
  CgroupTree(const CgroupTree&) = delete;
  CgroupTree& operator=(const CgroupTree&) = delete;

  // Makes slot `slot` (< slots; once) with memory.max = memory_bytes, no swap and
  // pids.max = 1, then moves `pid` into it. Errors: "cgroup".
  Status Place(std::size_t slot, pid_t pid, std::uint64_t memory_bytes);

  const std::filesystem::path& path() const { return path_; }

 private:
  CgroupTree(std::filesystem::path path, std::size_t slots)
      : path_(std::move(path)), slots_(slots) {}

  const std::filesystem::path path_;
  const std::size_t slots_;
};

// Parsing helpers, exposed for tests. The mount point of the first cgroup2
// filesystem in a /proc/self/mountinfo text (octal escapes decoded).
std::optional<std::string> FindCgroup2Mount(std::string_view mountinfo);
// The "0::" path in a /proc/self/cgroup text.
std::optional<std::string> FindCgroup2Path(std::string_view proc_self_cgroup);

}  // namespace milf::sandbox
