# Builds WebAssembly guests (examples, test modules) with Debian's clang for
# wasm32-wasi. The sysroot is Debian's wasi-libc; libc++ comes from
# libc++-14-dev-wasm32 and the builtins from libclang-rt-14-dev-wasm32.
find_program(MILF_WASM_CLANG NAMES clang-14 clang REQUIRED)
find_program(MILF_WASM_CLANGXX NAMES clang++-14 clang++ REQUIRED)
set(MILF_WASI_SYSROOT /usr CACHE PATH "wasi-libc sysroot")
set(MILF_WASM_FLAGS --target=wasm32-wasi --sysroot=${MILF_WASI_SYSROOT} -O2
    -Wall -Wextra -Werror -I${PROJECT_SOURCE_DIR}/sdk/include -Wl,--strip-debug)

# milf_wasm_guest(NAME SOURCES... [OUTPUT_DIR dir] [LINK_FLAGS flags...])
# produces ${OUTPUT_DIR}/NAME.wasm and a custom target wasm-NAME.
function(milf_wasm_guest name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIR" "SOURCES;LINK_FLAGS" ${ARGN})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${CMAKE_BINARY_DIR}/examples)
  endif()
  set(out ${ARG_OUTPUT_DIR}/${name}.wasm)
  set(compiler ${MILF_WASM_CLANG})
  set(lang_flags)
  foreach(src IN LISTS ARG_SOURCES)
    if(src MATCHES "\\.(cc|cpp)$")
      set(compiler ${MILF_WASM_CLANGXX})
      set(lang_flags -fno-exceptions -std=c++20)
    endif()
  endforeach()
  list(TRANSFORM ARG_SOURCES PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/ OUTPUT_VARIABLE abs_sources)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${ARG_OUTPUT_DIR}
    COMMAND ${compiler} ${MILF_WASM_FLAGS} ${lang_flags} ${abs_sources} ${ARG_LINK_FLAGS} -o ${out}
    DEPENDS ${abs_sources} ${PROJECT_SOURCE_DIR}/sdk/include/milf.h
    COMMENT "wasm32-wasi guest ${name}.wasm"
    VERBATIM)
  add_custom_target(wasm-${name} ALL DEPENDS ${out})
endfunction()
