#include "wat.h"

#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader.h"
#include "wabt/binary-writer.h"
#include "wabt/error-formatter.h"
#include "wabt/stream.h"
#include "wabt/validator.h"
#include "wabt/wast-lexer.h"
#include "wabt/wast-parser.h"

namespace milf::wasm::testing {
namespace {

wabt::Features TestFeatures(bool tail_calls) {
  wabt::Features features;
  features.enable_sign_extension();
  features.enable_sat_float_to_int();
  features.enable_multi_value();
  features.enable_bulk_memory();
  features.enable_reference_types();
  features.enable_simd();
  features.enable_mutable_globals();
  features.set_tail_call_enabled(tail_calls);
  return features;
}

}  // namespace

std::vector<std::uint8_t> WatToWasm(std::string_view wat, bool tail_calls) {
  const wabt::Features features = TestFeatures(tail_calls);
  wabt::Errors errors;
  auto lexer = wabt::WastLexer::CreateBufferLexer("test.wat", wat.data(), wat.size(), &errors);
  wabt::WastParseOptions parse_options(features);
  std::unique_ptr<wabt::Module> module;
  if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors, &parse_options)) ||
      wabt::Failed(wabt::ValidateModule(module.get(), &errors, wabt::ValidateOptions(features)))) {
    ADD_FAILURE() << "bad test WAT: "
                  << wabt::FormatErrorsToString(errors, wabt::Location::Type::Text);
    return {};
  }
  wabt::MemoryStream stream;
  const wabt::WriteBinaryOptions write_options(features, /*canonicalize_lebs=*/true,
                                               /*relocatable=*/false, /*write_debug_names=*/true);
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, module.get(), write_options))) {
    ADD_FAILURE() << "could not encode test WAT";
    return {};
  }
  return std::move(stream.output_buffer().data);
}

std::unique_ptr<wabt::Module> ReadWasm(std::span<const std::uint8_t> wasm) {
  const wabt::Features features = TestFeatures(false);
  wabt::Errors errors;
  auto module = std::make_unique<wabt::Module>();
  const wabt::ReadBinaryOptions options(features, nullptr, /*read_debug_names=*/true,
                                        /*stop_on_first_error=*/true,
                                        /*fail_on_custom_section_error=*/true);
  if (wabt::Failed(wabt::ReadBinaryIr("out.wasm", wasm.data(), wasm.size(), options, &errors,
                                      module.get())) ||
      wabt::Failed(wabt::ValidateModule(module.get(), &errors, wabt::ValidateOptions(features)))) {
    ADD_FAILURE() << "output does not decode or validate: "
                  << wabt::FormatErrorsToString(errors, wabt::Location::Type::Binary);
    return nullptr;
  }
  return module;
}

std::vector<std::uint8_t> ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace milf::wasm::testing
