#include "sandbox/cgroup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace milf::sandbox {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `text` in one write(2), as cgroup files require; errno on failure.
int WriteText(const fs::path& path, std::string_view text) {
  std::FILE* file = std::fopen(path.c_str(), "we");
  if (file == nullptr) return errno;
  std::setvbuf(file, nullptr, _IONBF, 0);
  const bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int error = ok ? 0 : errno;
  std::fclose(file);
  return error;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const std::size_t start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const std::size_t end = std::min(line.find(' '), line.size());
    fields.push_back(line.substr(0, end));
    line.remove_prefix(end);
  }
  return fields;
}

std::string DecodeOctalEscapes(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3' &&
        text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' && text[i + 3] <= '7') {
      out.push_back(static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                                      (text[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

bool HasWord(std::string_view text, std::string_view word) {
  for (std::string_view field : Fields(text)) {
    while (!field.empty() && (field.back() == '\n')) field.remove_suffix(1);
    if (field == word) return true;
  }
  return false;
}

Unexpected<Error> Unavailable(std::string reason) { return Fail("unavailable", std::move(reason)); }

}  // namespace

std::optional<std::string> FindCgroup2Mount(std::string_view mountinfo) {
  while (!mountinfo.empty()) {
    const std::size_t end = std::min(mountinfo.find('\n'), mountinfo.size());
    const std::string_view line = mountinfo.substr(0, end);
    mountinfo.remove_prefix(std::min(end + 1, mountinfo.size()));
    const std::size_t separator = line.find(" - ");
    if (separator == std::string_view::npos) continue;
    const auto before = Fields(line.substr(0, separator));
    const auto after = Fields(line.substr(separator + 3));
    if (before.size() >= 5 && !after.empty() && after[0] == "cgroup2") {
      return DecodeOctalEscapes(before[4]);
    }
  }
  return std::nullopt;
}

std::optional<std::string> FindCgroup2Path(std::string_view proc_self_cgroup) {
  while (!proc_self_cgroup.empty()) {
    const std::size_t end = std::min(proc_self_cgroup.find('\n'), proc_self_cgroup.size());
    const std::string_view line = proc_self_cgroup.substr(0, end);
    proc_self_cgroup.remove_prefix(std::min(end + 1, proc_self_cgroup.size()));
    if (line.starts_with("0::/")) return std::string(line.substr(3));
  }
  return std::nullopt;
}

Result<std::unique_ptr<CgroupTree>> CgroupTree::Create(std::size_t slots) {
  const auto mountinfo = ReadText("/proc/self/mountinfo");
  const auto membership = ReadText("/proc/self/cgroup");
  if (!mountinfo || !membership) return Unavailable("cannot read /proc/self");
  const auto mount = FindCgroup2Mount(*mountinfo);
  if (!mount) return Unavailable("no cgroup2 filesystem is mounted");
  const auto own_path = FindCgroup2Path(*membership);
  if (!own_path) return Unavailable("this process is in no cgroup2 group");
  const fs::path own =
      own_path->size() > 1 ? fs::path(*mount) / own_path->substr(1) : fs::path(*mount);

  const std::string controllers = ReadText(own / "cgroup.controllers").value_or("");
  if (!HasWord(controllers, "memory") || !HasWord(controllers, "pids")) {
    return Unavailable(
        fmt::format("cgroup2 at {} offers no memory and pids controllers "
                    "(they may be bound to cgroup v1)",
                    own.string()));
  }
  const std::string enabled = ReadText(own / "cgroup.subtree_control").value_or("");
  if (!HasWord(enabled, "memory") || !HasWord(enabled, "pids")) {
    if (const int error = WriteText(own / "cgroup.subtree_control", "+memory +pids"); error != 0) {
      return Unavailable(fmt::format("cannot enable memory and pids under {}: {}", own.string(),
                                     std::strerror(error)));
    }
  }
  std::random_device random;
  const fs::path tree = own / fmt::format("milf-sandbox-{}-{:08x}", ::getpid(), random());
  if (::mkdir(tree.c_str(), 0755) != 0) {
    return Unavailable(fmt::format("cannot create {}: {}", tree.string(), std::strerror(errno)));
  }
  std::unique_ptr<CgroupTree> made(new CgroupTree(tree, slots));
  if (const int error = WriteText(tree / "cgroup.subtree_control", "+memory +pids"); error != 0) {
    return Unavailable(fmt::format("cannot enable memory and pids in {}: {}", tree.string(),
                                   std::strerror(error)));
  }
  return made;
}

CgroupTree::~CgroupTree() {
  for (std::size_t slot = 0; slot < slots_; ++slot) {
    ::rmdir((path_ / fmt::format("slot-{}", slot)).c_str());
  }
  ::rmdir(path_.c_str());
}

Status CgroupTree::Place(std::size_t slot, pid_t pid, std::uint64_t memory_bytes) {
  const fs::path leaf = path_ / fmt::format("slot-{}", slot);
  if (slot >= slots_) return Fail("cgroup", "no such slot");
  if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
    return Fail("cgroup", fmt::format("mkdir {}: {}", leaf.string(), std::strerror(errno)));
  }
  // Absent when the kernel has no swap accounting; then there is no swap to limit.
  WriteText(leaf / "memory.swap.max", "0");
  const std::pair<const char*, std::string> settings[] = {
      {"memory.max", std::to_string(memory_bytes)},
      {"pids.max", "1"},
      {"cgroup.procs", std::to_string(pid)},
  };
  for (const auto& [file, value] : settings) {
    if (const int error = WriteText(leaf / file, value); error != 0) {
      return Fail("cgroup", fmt::format("{}: {}", (leaf / file).string(), std::strerror(error)));
    }
  }
  return {};
}

}  // namespace milf::sandbox
