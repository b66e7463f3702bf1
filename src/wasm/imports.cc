#include "wasm/engine.h"

namespace milf::wasm {

void Imports::AddFunction(HostFunction function) {
  auto key = std::make_pair(function.module, function.name);
  functions_.insert_or_assign(std::move(key), std::move(function));
}

void Imports::AddInstance(std::string module_name, const Instance& instance) {
  instances_.insert_or_assign(std::move(module_name), &instance);
}

const HostFunction* Imports::FindFunction(std::string_view module, std::string_view name) const {
  const auto it = functions_.find(std::make_pair(std::string(module), std::string(name)));
  return it == functions_.end() ? nullptr : &it->second;
}

const Instance* Imports::FindInstance(std::string_view module) const {
  const auto it = instances_.find(module);
  return it == instances_.end() ? nullptr : it->second;
}

}  // namespace milf::wasm
