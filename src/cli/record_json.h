// The run result record as JSON: one object, stable field names. Output
// streams are UTF-8 text when they are valid UTF-8, otherwise base64 (the
// *_encoding field says which).
#pragma once

#include <boost/json.hpp>

#include "wasm/runner.h"

namespace milf::cli {

boost::json::object RecordToJson(const wasm::RunRecord& record);

}  // namespace milf::cli
