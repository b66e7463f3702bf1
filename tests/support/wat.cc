#include "support/wat.h"

#include "wasm/features.h"

#include <wabt/binary-writer.h>
#include <wabt/error-formatter.h>
#include <wabt/ir.h>
#include <wabt/stream.h>
#include <wabt/validator.h>
#include <wabt/wast-lexer.h>
#include <wabt/wast-parser.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace milf::testing {

Result<std::vector<std::uint8_t>> WatToWasm(std::string_view wat, bool tail_calls) {
  wabt::Errors errors;
  std::unique_ptr<wabt::WastLexer> lexer =
      wabt::WastLexer::CreateBufferLexer("test.wat", wat.data(), wat.size(), &errors);
  wabt::Features features = wasm::SupportedFeatures();
  features.set_tail_call_enabled(tail_calls);
  wabt::WastParseOptions parse_options(features);
  std::unique_ptr<wabt::Module> module;
  if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors, &parse_options)) ||
      wabt::Failed(wabt::ValidateModule(module.get(), &errors, wabt::ValidateOptions(features)))) {
    return Fail("wat", wabt::FormatErrorsToString(errors, wabt::Location::Type::Text));
  }
  wabt::MemoryStream stream;
  const wabt::WriteBinaryOptions write_options(features, /*canonicalize_lebs=*/true,
                                               /*relocatable=*/false, /*write_debug_names=*/true);
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, module.get(), write_options))) {
    return Fail("wat", "could not write the binary module");
  }
  const auto& data = stream.output_buffer().data;
  return std::vector<std::uint8_t>(data.begin(), data.end());
}

std::vector<std::uint8_t> Wasm(std::string_view wat) {
  auto wasm = WatToWasm(wat);
  if (!wasm) {
    std::fprintf(stderr, "invalid test module: %s\n", wasm.error().message.c_str());
    std::abort();
  }
  return std::move(wasm).value();
}

}  // namespace milf::testing
