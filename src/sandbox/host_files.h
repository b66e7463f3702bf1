// The supervisor's side of "a worker never opens a host path": before a job
// goes to a worker, every mount backed by a host directory becomes an
// in-memory snapshot of it; after the job, the files the guest left in an
// in-memory /out are written into the host directory the caller named.
//
// Rules: a read-only host mount is snapshotted (regular files only, symlinks
// not followed, empty directories dropped); a writable host mount is allowed
// for /out only, which starts empty in the worker and is copied back. Every
// path coming back is checked: it must lie strictly under /out/, with no
// empty, "." or ".." component, no NUL, within WASI's name limits, and is
// written through a resolver confined to the host directory that follows no
// symlink out of it.
//
// Functions are safe for concurrent use (on different directories).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "wasm/runner.h"

namespace milf::sandbox {

struct StagedRequest {
  wasm::RunRequest request;                      // every mount in memory
  std::optional<std::filesystem::path> out_dir;  // where /out goes back to
};

// True when `request` names a host directory and so must be staged.
bool NeedsStaging(const wasm::RunRequest& request);

// Errors: "invalid_argument" (a writable host mount other than /out),
// "too_large" (the snapshots together exceed max_input_bytes), "io".
Result<StagedRequest> StageRequest(const wasm::RunRequest& request, std::uint64_t max_input_bytes);

// The path of `guest_path` relative to /out ("a/b.txt" for "/out/a/b.txt"),
// or nullopt when it breaks the rules above.
std::optional<std::string> OutRelativePath(std::string_view guest_path);

// Writes `files` under `out_dir`, creating subdirectories. Errors:
// "invalid_path" (nothing is written then), "io".
Status WriteOutFiles(const std::filesystem::path& out_dir,
                     const std::vector<wasm::OutputFile>& files);

}  // namespace milf::sandbox
