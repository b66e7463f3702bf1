# Cross-compiling MILF's device node for aarch64 Linux (glibc) on a Debian
# x86_64 machine, with Debian packages only (docs/arm64.md):
#   - the compilers: gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu;
#   - the libraries, as multiarch arm64 packages (dpkg --add-architecture
#     arm64): libboost-json1.81-dev:arm64, libssl-dev:arm64, ... They live in
#     /usr/lib/aarch64-linux-gnu, which Debian's cross gcc searches by itself;
#   - wabt, whose package is not Multi-Arch: same and so cannot sit next to
#     wabt:amd64: scripts/install-deps unpacks wabt:arm64 under
#     MILF_ARM64_PREFIX instead.
# Test binaries run under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR), so gtest
# discovery and `ctest` work in the cross build tree too.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(MILF_ARM64_PREFIX /opt/milf/arm64 CACHE PATH "Where wabt:arm64 is unpacked")

# No -L: the binaries' libraries are the multiarch arm64 packages, so their
# glibc must be the multiarch libc6:arm64 that /lib/ld-linux-aarch64.so.1
# belongs to. `-L /usr/aarch64-linux-gnu` would pair that cross sysroot's
# loader with /lib/aarch64-linux-gnu/libc.so.6 (found through
# /etc/ld.so.cache), a different glibc build, and the first pthread_create
# hangs (docs/arm64.md).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)

# Packages and libraries come from the arm64 side only: wabt's unpacked tree
# first, then the multiarch directories under /. Programs (clang for the wasm
# guests) are the build machine's.
set(CMAKE_FIND_ROOT_PATH ${MILF_ARM64_PREFIX} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (libsodium, libseccomp) must read the arm64 .pc files.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
