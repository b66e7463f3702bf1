// The rest of preview1: registered with their exact signatures so that any
// module importing them links, and answering ENOSYS. Signatures follow the
// witx definitions ('i' i32, 'I' i64; every one returns an i32 errno).
#include <array>
#include <string_view>

#include "wasm/wasi/calls.h"

namespace milf::wasm::wasi {
namespace {

Errno NotImplemented(WasiState&, const GuestMemory&, const CallArgs&) { return Errno::kNosys; }

struct Unsupported {
  std::string_view name;
  std::string_view params;
};

constexpr std::array<Unsupported, 20> kUnsupported{{
    {"fd_advise", "iIIi"},
    {"fd_allocate", "iII"},
    {"fd_datasync", "i"},
    {"fd_fdstat_set_flags", "ii"},
    {"fd_fdstat_set_rights", "iII"},
    {"fd_filestat_set_size", "iI"},
    {"fd_filestat_set_times", "iIIi"},
    {"fd_pread", "iiiIi"},
    {"fd_pwrite", "iiiIi"},
    {"fd_renumber", "ii"},
    {"fd_sync", "i"},
    {"path_filestat_set_times", "iiiiIIi"},
    {"path_link", "iiiiiii"},
    {"path_readlink", "iiiiii"},
    {"path_symlink", "iiiii"},
    {"proc_raise", "i"},
    {"sock_accept", "iii"},
    {"sock_recv", "iiiiii"},
    {"sock_send", "iiiii"},
    {"sock_shutdown", "ii"},
}};

}  // namespace

void RegisterUnsupportedCalls(Registrar& registrar) {
  for (const Unsupported& call : kUnsupported) {
    registrar.Add(call.name, call.params, NotImplemented);
  }
}

}  // namespace milf::wasm::wasi
