# Builds WebAssembly guests (examples, test modules, benchmark kernels) with
# Debian's clang for wasm32-wasi. The sysroot is Debian's wasi-libc; libc++
# comes from libc++-14-dev-wasm32 and the builtins from
# libclang-rt-14-dev-wasm32.
#
# Sources are compiled with -O2 and linked without -O: given -O at link time,
# the clang driver runs wasm-opt, which drops the name section, and traps
# could no longer name their function. --stack-first puts the shadow stack
# below static data, so a guest that overflows its stack traps instead of
# silently corrupting its globals.
find_program(MILF_WASM_CLANG NAMES clang-14 clang REQUIRED)
find_program(MILF_WASM_CLANGXX NAMES clang++-14 clang++ REQUIRED)
set(MILF_WASI_SYSROOT /usr CACHE PATH "wasi-libc sysroot")
set(MILF_WASM_TARGET_FLAGS --target=wasm32-wasi --sysroot=${MILF_WASI_SYSROOT})
set(MILF_WASM_COMPILE_FLAGS -O2 -Wall -Wextra -Werror -I${PROJECT_SOURCE_DIR}/sdk/include)
set(MILF_WASM_LINK_FLAGS -Wl,--stack-first -Wl,--strip-debug)

# milf_wasm_guest(NAME SOURCES file... [OUTPUT_DIR dir] [LINK_FLAGS flags...])
# produces ${OUTPUT_DIR}/NAME.wasm and a custom target wasm-NAME.
function(milf_wasm_guest name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIR" "SOURCES;LINK_FLAGS" ${ARGN})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${CMAKE_BINARY_DIR}/examples)
  endif()
  set(out ${ARG_OUTPUT_DIR}/${name}.wasm)
  set(object_dir ${CMAKE_CURRENT_BINARY_DIR}/${name}.wasm-objects)
  set(linker ${MILF_WASM_CLANG})
  set(objects)
  set(commands)
  foreach(src IN LISTS ARG_SOURCES)
    get_filename_component(stem ${src} NAME)
    set(object ${object_dir}/${stem}.o)
    if(src MATCHES "\\.(cc|cpp)$")
      set(linker ${MILF_WASM_CLANGXX})
      set(compiler ${MILF_WASM_CLANGXX} -fno-exceptions -std=c++20)
    else()
      set(compiler ${MILF_WASM_CLANG})
    endif()
    list(APPEND commands COMMAND ${compiler} ${MILF_WASM_TARGET_FLAGS} ${MILF_WASM_COMPILE_FLAGS}
         -c ${CMAKE_CURRENT_SOURCE_DIR}/${src} -o ${object})
    list(APPEND objects ${object})
  endforeach()
  list(TRANSFORM ARG_SOURCES PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/ OUTPUT_VARIABLE abs_sources)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${ARG_OUTPUT_DIR} ${object_dir}
    ${commands}
    COMMAND ${linker} ${MILF_WASM_TARGET_FLAGS} ${objects} ${MILF_WASM_LINK_FLAGS} ${ARG_LINK_FLAGS}
            -o ${out}
    DEPENDS ${abs_sources} ${PROJECT_SOURCE_DIR}/sdk/include/milf.h
    COMMENT "wasm32-wasi guest ${name}.wasm"
    VERBATIM)
  add_custom_target(wasm-${name} ALL DEPENDS ${out})
endfunction()
