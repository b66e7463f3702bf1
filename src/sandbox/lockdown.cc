#include "sandbox/lockdown.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "sandbox/seccomp_policy.h"

namespace milf::sandbox {
namespace {

constexpr char kHostname[] = "milf-sandbox";

std::string Errno(const char* call) { return fmt::format("{}: {}", call, std::strerror(errno)); }

Wall Active(std::string name, std::string detail) {
  return {std::move(name), WallState::kActive, std::move(detail)};
}
Wall Missing(std::string name, std::string detail) {
  return {std::move(name), WallState::kMissing, std::move(detail)};
}

std::string MiB(std::uint64_t bytes) { return fmt::format("{} MiB", bytes >> 20); }

// The address space in use now, so a report can show how much of the quota
// start-up already took.
std::uint64_t VirtualBytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages = 0;
  statm >> pages;
  return pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// The first existing directory to mount the new root over; the mount is
// private to this namespace, so the host's directory is untouched.
const char* MountBase() {
  for (const char* candidate : {"/tmp", "/mnt", "/proc"}) {
    struct stat info {};
    if (::stat(candidate, &info) == 0 && S_ISDIR(info.st_mode)) return candidate;
  }
  return nullptr;
}

// The private tmpfs a worker loads AOT artifacts from, mounted at /aot of
// the new root (still at `base`, before pivot_root). The root itself must be
// writable for the mount point to be made, then is made read-only again.
bool MountAotDir(const char* base) {
  const std::string dir = std::string(base) + "/aot";
  const std::string options = fmt::format("size={},mode=0777", 4 * kMaxAotArtifactBytes);
  return ::mkdir(dir.c_str(), 0755) == 0 &&
         ::mount("milf-aot", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0 &&
         ::mount(nullptr, base, nullptr,
                 MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555") == 0;
}

Wall EmptyRoot(std::uint32_t namespaces, bool aot) {
  if ((namespaces & CLONE_NEWNS) == 0) return Missing("empty_root", "no mount namespace");
  const char* base = MountBase();
  if (base == nullptr) return Missing("empty_root", "no directory to mount the new root on");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Missing("empty_root", Errno("mount(MS_PRIVATE)"));
  }
  const unsigned long read_only = aot ? 0 : MS_RDONLY;
  if (::mount("milf-sandbox", base, "tmpfs", read_only | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=4k,mode=0555") != 0) {
    return Missing("empty_root", Errno("mount(tmpfs)"));
  }
  if (aot && !MountAotDir(base)) return Missing("empty_root", Errno("mount(/aot)"));
  // pivot_root(".", ".") stacks the old root on the new one; detaching "."
  // then drops the old root and everything under it.
  if (::chdir(base) != 0) return Missing("empty_root", Errno("chdir"));
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return Missing("empty_root", Errno("pivot_root"));
  if (::umount2(".", MNT_DETACH) != 0) return Missing("empty_root", Errno("umount2"));
  if (::chdir("/") != 0) return Missing("empty_root", Errno("chdir(/)"));
  return Active("empty_root", aot ? "an empty read-only tmpfs with a private /aot for artifacts; "
                                    "the host filesystem is detached"
                                  : "an empty read-only tmpfs; the host filesystem is detached");
}

Wall Hostname(std::uint32_t namespaces) {
  if ((namespaces & CLONE_NEWUTS) == 0) return Missing("hostname", "no UTS namespace");
  if (::sethostname(kHostname, sizeof kHostname - 1) != 0) {
    return Missing("hostname", Errno("sethostname"));
  }
  return Active("hostname", kHostname);
}

// Clears the bounding and ambient sets, locks "root is not special",
// leaves real root for an unprivileged uid, then empties the remaining sets.
Walls DropPrivileges(std::uint32_t namespaces) {
  Walls walls;
  std::string bounding_error;
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    if (errno == EINVAL) break;  // past the kernel's last capability
    bounding_error = Errno("PR_CAPBSET_DROP");
    break;
  }
  // Belt and braces, so failures are not walls of their own: kernels without
  // ambient capabilities have none to clear, and the securebits only matter
  // to execve, which no_new_privs and seccomp already rule out.
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  ::prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_KEEP_CAPS_LOCKED, 0, 0,
          0);

  if ((namespaces & CLONE_NEWUSER) != 0) {
    walls.push_back(Active("unprivileged_uid", "uid 0 of its own user namespace only"));
  } else if (::geteuid() == 0) {
    const gid_t gid = kUnprivilegedId;
    const uid_t uid = kUnprivilegedId;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0) {
      walls.push_back(Missing("unprivileged_uid", Errno("setresuid")));
    } else {
      walls.push_back(Active("unprivileged_uid", fmt::format("uid and gid {}", uid)));
    }
  } else {
    walls.push_back(Active("unprivileged_uid", fmt::format("uid {}", ::geteuid())));
  }

  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &header, data) != 0) {
    walls.push_back(Missing("capabilities", Errno("capset")));
  } else if (!bounding_error.empty()) {
    walls.push_back(Missing("capabilities", bounding_error));
  } else {
    walls.push_back(Active("capabilities",
                           "none: effective, permitted, inheritable, bounding "
                           "and ambient sets empty"));
  }
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    walls.push_back(Missing("not_dumpable", Errno("PR_SET_DUMPABLE")));
  } else {
    walls.push_back(Active("not_dumpable", "no ptrace by same-uid processes, no core dump"));
  }
  return walls;
}

// `keep` is at least 3 (stdin, stdout and stderr are closed too).
Wall CloseDescriptors(int keep) {
  const bool ok = ::syscall(SYS_close_range, 0u, static_cast<unsigned>(keep - 1), 0u) == 0 &&
                  ::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0;
  if (!ok) {
    // Kernels before 5.9: close one by one up to the descriptor limit.
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    const auto top = static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
    for (int fd = 0; fd < top; ++fd) {
      if (fd != keep) ::close(fd);
    }
  }
  return Active("file_descriptors", fmt::format("only the channel (fd {}) is open", keep));
}

Wall Limit(const char* name, int resource, rlim_t value, std::string detail) {
  const rlimit limit{value, value};
  if (::setrlimit(resource, &limit) != 0) return Missing(name, Errno("setrlimit"));
  return Active(name, std::move(detail));
}

Walls Rlimits(const LockdownConfig& config, std::uint64_t in_use) {
  Walls walls;
  walls.push_back(
      Limit("rlimit_as", RLIMIT_AS, config.memory_bytes,
            fmt::format("{} ({} in use at lockdown)", MiB(config.memory_bytes), MiB(in_use))));
  walls.push_back(Limit("rlimit_cpu", RLIMIT_CPU, config.cpu_seconds,
                        fmt::format("{} s of CPU for the worker's lifetime", config.cpu_seconds)));
  const auto descriptors = static_cast<rlim_t>(config.channel_fd + 1);
  walls.push_back(Limit("rlimit_nofile", RLIMIT_NOFILE, descriptors,
                        fmt::format("{}: no descriptor can be created", descriptors)));
  walls.push_back(Limit("rlimit_nproc", RLIMIT_NPROC, 0, "0"));
  if (config.aot) {
    walls.push_back(Limit("rlimit_fsize", RLIMIT_FSIZE, kMaxAotArtifactBytes,
                          fmt::format("{}: an AOT artifact, in /aot only", MiB(kMaxAotArtifactBytes))));
  } else {
    walls.push_back(Limit("rlimit_fsize", RLIMIT_FSIZE, 0, "0"));
  }
  walls.push_back(Limit("rlimit_core", RLIMIT_CORE, 0, "0"));
  return walls;
}

}  // namespace

Walls Lockdown(const LockdownConfig& config) {
  const std::uint64_t in_use = VirtualBytes();
  Walls walls;
  walls.push_back(EmptyRoot(config.namespaces, config.aot));
  walls.push_back(Hostname(config.namespaces));
  for (Wall& wall : DropPrivileges(config.namespaces)) walls.push_back(std::move(wall));
  walls.push_back(CloseDescriptors(config.channel_fd));
  ::clearenv();
  walls.push_back(Active("environment", "empty"));
  for (Wall& wall : Rlimits(config, in_use)) walls.push_back(std::move(wall));
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    walls.push_back(Missing("no_new_privs", Errno("PR_SET_NO_NEW_PRIVS")));
  } else {
    walls.push_back(Active("no_new_privs", "set"));
  }
  if (!config.seccomp) {
    walls.push_back({"seccomp", WallState::kNotNeeded, "turned off by the pool's options"});
  } else if (auto loaded = LoadSeccompPolicy(config.channel_fd, config.aot); !loaded) {
    walls.push_back(Missing("seccomp", loaded.error().message));
  } else {
    walls.push_back(Active("seccomp", fmt::format("allowlist of {} rules, anything else kills "
                                                  "the worker",
                                                  SeccompAllowlist(config.aot).size())));
  }
  return walls;
}

}  // namespace milf::sandbox
