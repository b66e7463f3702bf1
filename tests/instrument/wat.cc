#include "wat.h"

#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader.h"
#include "wabt/error-formatter.h"
#include "wabt/validator.h"
#include "support/wat.h"
#include "wasm/features.h"

namespace milf::wasm::testing {
std::vector<std::uint8_t> WatToWasm(std::string_view wat, bool tail_calls) {
  auto wasm = milf::testing::WatToWasm(wat, tail_calls);
  if (!wasm) {
    ADD_FAILURE() << "bad test WAT: " << wasm.error().message;
    return {};
  }
  return std::move(wasm).value();
}

std::unique_ptr<wabt::Module> ReadWasm(std::span<const std::uint8_t> wasm) {
  const wabt::Features features = SupportedFeatures();
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
