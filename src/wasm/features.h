// The WebAssembly proposals MILF accepts, as a wabt feature set: MVP,
// sign extension, non-trapping float-to-int, multi-value, bulk memory,
// reference types, SIMD and mutable globals — WebAssembly 2.0, what clang
// and rustc emit by default. Every component that decodes modules (the
// instrumentation, the interpreter, test tools) uses this one set.
// Kept C++17-clean: the wabt interpreter backend includes it.
#pragma once

#include <wabt/feature.h>

namespace milf::wasm {

inline wabt::Features SupportedFeatures() {
  // Start from nothing, so that a wabt upgrade enabling a proposal by
  // default does not silently widen what MILF accepts.
  wabt::Features features;
#define WABT_FEATURE(variable, flag, default_, help) features.disable_##variable();
#include <wabt/feature.def>
#undef WABT_FEATURE
  features.enable_sign_extension();
  features.enable_sat_float_to_int();
  features.enable_multi_value();
  features.enable_bulk_memory();
  features.enable_reference_types();
  features.enable_simd();
  features.enable_mutable_globals();
  return features;
}

}  // namespace milf::wasm
