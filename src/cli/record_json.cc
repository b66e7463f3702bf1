#include "cli/record_json.h"

#include "base/encoding.h"
#include "base/sha256.h"

namespace milf::cli {
namespace {

void PutBytes(boost::json::object& out, const char* name, std::span<const std::uint8_t> bytes) {
  const bool text = IsValidUtf8(bytes);
  out[name] = text ? boost::json::string(reinterpret_cast<const char*>(bytes.data()), bytes.size())
                   : boost::json::string(Base64Encode(bytes));
  out[std::string(name) + "_encoding"] = text ? "utf8" : "base64";
}

boost::json::value ValueToJson(const wasm::Value& value) {
  return {{"type", wasm::ValTypeName(value.type)}, {"value", wasm::FormatValue(value)}};
}

}  // namespace

boost::json::object RecordToJson(const wasm::RunRecord& record) {
  boost::json::object out;
  out["status"] = wasm::StatusName(record.status);
  out["exit_code"] = record.exit_code;
  out["message"] = record.message;
  out["trap_function"] = record.trap_function;
  out["fuel_used"] = record.fuel_used;
  out["wall_ms"] = static_cast<double>(record.wall_nanos) / 1e6;
  out["cpu_ms"] = static_cast<double>(record.cpu_nanos) / 1e6;
  out["peak_memory_bytes"] = record.peak_memory_bytes;
  PutBytes(out, "stdout", record.stdout_data);
  out["stdout_truncated"] = record.stdout_truncated;
  PutBytes(out, "stderr", record.stderr_data);
  out["stderr_truncated"] = record.stderr_truncated;
  boost::json::array results;
  for (const wasm::Value& value : record.results) results.push_back(ValueToJson(value));
  out["results"] = std::move(results);
  boost::json::array files;
  for (const wasm::OutputFile& file : record.out_files) {
    boost::json::object entry;
    entry["path"] = file.path;
    entry["size"] = file.bytes.size();
    entry["sha256"] = Sha256Hex(file.bytes);
    PutBytes(entry, "content", file.bytes);
    files.push_back(std::move(entry));
  }
  out["out_files"] = std::move(files);
  out["module_sha256"] = record.module_sha256;
  return out;
}

}  // namespace milf::cli
