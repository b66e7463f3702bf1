#include "sandbox/host_files.h"

#include <fmt/format.h>

#include "wasm/wasi/host_fs.h"
#include "wasm/wasi/path.h"

namespace milf::sandbox {
namespace {

namespace wasi = wasm::wasi;

constexpr std::string_view kOut = "/out";

std::string ErrnoText(wasi::Errno error) {
  return fmt::format("WASI errno {}", static_cast<int>(error));
}

Result<std::map<std::string, std::vector<std::uint8_t>>> Snapshot(const wasm::Mount& mount,
                                                                  std::uint64_t& budget) {
  auto dir = wasi::HostDirectory::Open(mount.host_path);
  if (!dir) {
    return Fail("io", fmt::format("cannot open directory {}: {}", mount.host_path.string(),
                                  dir.error().message));
  }
  auto files = wasi::CollectFiles(**dir, budget);
  if (!files) {
    if (files.error() == wasi::Errno::kFbig) {
      return Fail("too_large", fmt::format("the files under {} exceed the sandbox's input bound",
                                           mount.host_path.string()));
    }
    return Fail("io", fmt::format("cannot read {}: {}", mount.host_path.string(),
                                  ErrnoText(files.error())));
  }
  std::map<std::string, std::vector<std::uint8_t>> snapshot;
  for (wasi::FileContents& file : *files) {
    budget -= file.bytes.size();
    snapshot.emplace(std::move(file.path), std::move(file.bytes));
  }
  return snapshot;
}

Status WriteOne(wasi::Directory& root, const std::string& relative,
                std::span<const std::uint8_t> bytes) {
  const auto fail = [&](wasi::Errno error) {
    return Fail("io", fmt::format("cannot write /out/{}: {}", relative, ErrnoText(error)));
  };
  for (std::size_t slash = relative.find('/'); slash != std::string::npos;
       slash = relative.find('/', slash + 1)) {
    auto made = root.CreateDirectory(relative.substr(0, slash));
    if (!made && made.error() != wasi::Errno::kExist) return fail(made.error());
  }
  wasi::OpenRequest request;
  request.read = false;
  request.write = true;
  request.create = true;
  request.truncate = true;
  request.follow_symlinks = false;
  auto node = root.Open(relative, request);
  if (!node) return fail(node.error());
  auto* file = std::get_if<std::shared_ptr<wasi::File>>(&*node);
  if (file == nullptr) return fail(wasi::Errno::kIsdir);
  std::uint64_t offset = 0;
  while (offset < bytes.size()) {
    auto written = (*file)->WriteAt(offset, bytes.subspan(offset));
    if (!written) return fail(written.error());
    if (*written == 0) return fail(wasi::Errno::kIo);
    offset += *written;
  }
  return {};
}

}  // namespace

bool NeedsStaging(const wasm::RunRequest& request) {
  for (const wasm::Mount& mount : request.mounts) {
    if (!mount.host_path.empty()) return true;
  }
  return false;
}

Result<StagedRequest> StageRequest(const wasm::RunRequest& request, std::uint64_t max_input_bytes) {
  StagedRequest staged{request, std::nullopt};
  std::uint64_t budget = max_input_bytes;
  for (wasm::Mount& mount : staged.request.mounts) {
    if (mount.host_path.empty()) continue;
    if (!mount.read_only) {
      if (mount.guest_path != kOut) {
        return Fail("invalid_argument",
                    fmt::format("the sandbox cannot give a writable host directory at {}: mount "
                                "it read-only, or write to /out",
                                mount.guest_path));
      }
      staged.out_dir = mount.host_path;
      mount.host_path.clear();
      continue;
    }
    auto files = Snapshot(mount, budget);
    if (!files) return Fail(std::move(files).error());
    mount.files = std::move(*files);
    mount.host_path.clear();
  }
  return staged;
}

std::optional<std::string> OutRelativePath(std::string_view guest_path) {
  if (!guest_path.starts_with(kOut) || guest_path.size() <= kOut.size() + 1 ||
      guest_path[kOut.size()] != '/') {
    return std::nullopt;
  }
  const std::string_view relative = guest_path.substr(kOut.size() + 1);
  if (relative.size() > wasi::kMaxPathBytes) return std::nullopt;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = relative.find('/', start);
    const std::string_view part =
        relative.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == ".." || part.size() > wasi::kMaxNameBytes ||
        part.find('\0') != std::string_view::npos) {
      return std::nullopt;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return std::string(relative);
}

Status WriteOutFiles(const std::filesystem::path& out_dir,
                     const std::vector<wasm::OutputFile>& files) {
  std::vector<std::string> relatives;
  for (const wasm::OutputFile& file : files) {
    auto relative = OutRelativePath(file.path);
    if (!relative) return Fail("invalid_path", "the worker returned a bad /out path");
    relatives.push_back(std::move(*relative));
  }
  auto dir = wasi::HostDirectory::Open(out_dir);
  if (!dir) {
    return Fail("io",
                fmt::format("cannot open --out {}: {}", out_dir.string(), dir.error().message));
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (auto written = WriteOne(**dir, relatives[i], files[i].bytes); !written) return written;
  }
  return {};
}

}  // namespace milf::sandbox
