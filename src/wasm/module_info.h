// What a compiled module imports and exports. Kept C++17-clean: the wabt
// backend includes it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wasm/value.h"

namespace milf::wasm {

enum class ExternKind { kFunc, kTable, kMemory, kGlobal, kTag };

struct ImportInfo {
  std::string module;
  std::string name;
  ExternKind kind = ExternKind::kFunc;
  FuncSig sig;  // for functions
};

struct ExportInfo {
  std::string name;
  ExternKind kind = ExternKind::kFunc;
  FuncSig sig;  // for functions
};

struct ModuleInfo {
  std::vector<ImportInfo> imports;
  std::vector<ExportInfo> exports;

  const ExportInfo* FindExport(std::string_view name) const {
    for (const ExportInfo& entry : exports) {
      if (entry.name == name) return &entry;
    }
    return nullptr;
  }
};

}  // namespace milf::wasm
