// Translate: one WebAssembly module to an AOT artifact's shared object, by
// wasm2c, the generated glue (glue_writer.h) and the toolchain's C compiler,
// in a private build directory that is removed afterwards.
//
// Give it the module exactly as it will run: the engine translates the
// instrumented module (instrument.h), so fuel, call depth, trap attribution
// and caps are compiled in. The input must already be valid (Engine::Compile
// validates first); hostile bytes belong in Instrument, which refuses what
// could crash the IR reader, not here.
//
// Thread-safety: concurrent calls are safe; each builds in its own directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "base/result.h"
#include "compiler/aot/toolchain.h"

namespace milf::aot {

struct TranslateStats {
  double wasm2c_seconds = 0;
  double cc_seconds = 0;
  std::uint64_t c_bytes = 0;  // wasm2c's module.c
};

// The shared object's bytes, linked with `runtime_object` (from
// BuildRuntimeObject with the same toolchain) or, when that is empty, with
// the runtime compiled afresh. Errors:
//   "unsupported": the module uses what this tier cannot translate (SIMD,
//                  exception tags, ...); the message says what
//   "invalid":     the bytes do not decode
//   "toolchain":   a tool is missing, failed or timed out (a bug or setup issue)
//   "io":          the build directory could not be made or read
// `work_root` must exist; the build directory is made inside it.
Result<std::vector<std::uint8_t>> Translate(std::span<const std::uint8_t> wasm,
                                            const Toolchain& toolchain,
                                            const std::filesystem::path& work_root,
                                            TranslateStats* stats = nullptr,
                                            std::span<const std::uint8_t> runtime_object = {});

// Debian's wasm-rt-impl.c as the artifacts use it (runtime_tu.c), compiled
// once per toolchain into a position-independent object that every artifact
// of that toolchain links. Errors as Translate's.
Result<std::vector<std::uint8_t>> BuildRuntimeObject(const Toolchain& toolchain,
                                                     const std::filesystem::path& work_root);

}  // namespace milf::aot
