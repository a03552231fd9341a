#!/usr/bin/env bash
# `make demo` on a machine without the test dependencies: cmocka (header, library, CMake package, pkg-config file),
# clang, the cross compilers and QEMU are made unfindable, then `make demo` configures, builds and runs the demo in a
# separate build folder. Fails if the configure found cmocka anyway, if the test suite was configured, or if the
# build or the demo fails.
# usage: scripts/demo_without_test_deps.sh [BUILD_DIR]   (default: build-demo; it is recreated, and serves this check
# only: it refers to the mirror below, which is removed at the end)
#
# How the dependencies are hidden: a mirror of the system folders (/usr/include, /usr/lib, /usr/share, the program
# folders, /usr/local) made of symbolic links to every entry except the hidden ones, and a configure that looks only
# there (CMAKE_FIND_ROOT_PATH with the ONLY modes, for headers, libraries, packages and programs; pkg-config with
# PKG_CONFIG_LIBDIR; PATH). The compiler still sees the real /usr/include, so only what the build finds is hidden,
# which is what decides whether the tests are configured.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-demo}
case $build in /*) ;; *) build=$PWD/$build ;; esac
arch=$(${CC:-cc} -print-multiarch 2>/dev/null || true)
cc_path=$(command -v "${CC:-cc}")
hide='*cmocka*|*cmockery*|clang*|*-none-eabi-*|riscv*-elf-*|qemu-*'

rm -rf "$build"
mkdir -p "$build"
# Outside the source and build folders: CMake refuses exported include paths inside them.
root=$(mktemp -d /tmp/amplink-hidden-root.XXXXXX)
trap 'rm -rf "$root"' EXIT

# mirror DIR: $root/DIR holds a link to each entry of DIR that is not hidden; folders that hold packages of their own
# (the multiarch library folder, cmake/, pkgconfig/) are mirrored the same way instead of linked whole.
mirror() {
	local d=$1 e n links=()
	[ -d "$d" ] && [ ! -L "$d" ] || return 0
	mkdir -p "$root$d"
	for e in "$d"/*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		n=${e##*/}
		[[ $n == @($hide) ]] && continue
		if [ -d "$e" ] && [ ! -L "$e" ] && { [ "$n" = cmake ] || [ "$n" = pkgconfig ] || [ "$n" = "$arch" ]; }; then
			mirror "$e"
		else
			links+=("$e")
		fi
	done
	[ ${#links[@]} -eq 0 ] || ln -s -t "$root$d" "${links[@]}"
}
for d in /usr/include /usr/lib /usr/lib64 /usr/share /usr/bin /usr/sbin \
	/usr/local/include /usr/local/lib /usr/local/share /usr/local/bin /usr/local/sbin; do
	mirror "$d"
done

hidden_path=$root/usr/local/bin:$root/usr/bin:$root/usr/local/sbin:$root/usr/sbin
pc_libdir=$root/usr/local/lib/pkgconfig:$root/usr/local/share/pkgconfig:$root/usr/lib/pkgconfig:$root/usr/share/pkgconfig
[ -z "$arch" ] || pc_libdir=$root/usr/lib/$arch/pkgconfig:$root/usr/local/lib/$arch/pkgconfig:$pc_libdir
find_flags="-DCMAKE_C_COMPILER=$cc_path -DCMAKE_FIND_ROOT_PATH=$root -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY"
find_flags+=" -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY"
find_flags+=" -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=ONLY"

# The hiding itself: a probe project looks for cmocka in every way a build would, first as is, then hidden.
probe() {
	mkdir -p "$1"
	cat >"$1/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(probe C)
find_path(CMOCKA_INCLUDE_DIR cmocka.h)
find_library(CMOCKA_LIB cmocka)
find_package(cmocka CONFIG QUIET)
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(CMOCKA_PC QUIET cmocka)
endif()
find_program(CLANG clang)
find_program(ARM_GCC arm-none-eabi-gcc)
find_program(QEMU_ARM qemu-system-arm)
set(found "")
foreach(v CMOCKA_INCLUDE_DIR CMOCKA_LIB cmocka_DIR CMOCKA_PC_FOUND CLANG ARM_GCC QEMU_ARM)
  if(${v})
    string(APPEND found "${v}=${${v}}\n")
  endif()
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/found.txt "${found}")
EOF
}
probe "$build/probe-src"
cmake -S "$build/probe-src" -B "$build/probe-plain" >/dev/null
echo "test dependencies this machine has (hidden below):"
sed 's/^/  /' "$build/probe-plain/found.txt"
[ -s "$build/probe-plain/found.txt" ] || echo "  none: cmocka, clang, the cross compilers and QEMU are not installed"
# shellcheck disable=SC2086
PATH=$hidden_path PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$pc_libdir \
	cmake -S "$build/probe-src" -B "$build/probe-hidden" $find_flags >/dev/null
if [ -s "$build/probe-hidden/found.txt" ]; then
	echo "FAIL: the hiding does not hide:" >&2
	cat "$build/probe-hidden/found.txt" >&2
	exit 1
fi

# The demo, as a newcomer runs it, with the same hiding.
echo "make demo BUILD=$build, test dependencies hidden"
PATH=$hidden_path PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$pc_libdir \
	make demo BUILD="$build" CMAKE_FLAGS="$find_flags" JOBS="${JOBS:-2}" | tee "$build/demo.out"

cache=$build/CMakeCache.txt
if grep -i -E 'cmock' "$cache" | grep -v -E '^(//|#)' | grep -v -E '(NOTFOUND|=)$' | grep -v -E '^AMPL_'; then
	echo "FAIL: the configure found cmocka anyway (lines above, from $cache)" >&2
	exit 1
fi
if [ -e "$build/tests" ] || [ -e "$build/CTestTestfile.cmake" ]; then
	echo "FAIL: the test suite was configured without cmocka" >&2
	exit 1
fi
grep -q 'answered correctly, 0 errors' "$build/demo.out" || { echo "FAIL: the demo did not report 0 errors" >&2; exit 1; }

# What `make test` asks for (AMPL_BUILD_TESTS=ON) stops the configure with a message that names the package.
# shellcheck disable=SC2086
if PATH=$hidden_path PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$pc_libdir cmake -S . -B "$build/tests-on" \
	-DAMPL_BUILD_TESTS=ON $find_flags >"$build/tests-on.out" 2>&1; then
	echo "FAIL: -DAMPL_BUILD_TESTS=ON configured without cmocka" >&2
	exit 1
fi
grep -q 'libcmocka-dev' "$build/tests-on.out" || { cat "$build/tests-on.out" >&2; echo "FAIL: no clear message" >&2; exit 1; }
echo "-DAMPL_BUILD_TESTS=ON without cmocka: the configure stops and names libcmocka-dev"
echo "demo without test dependencies: ok"
