#!/usr/bin/env bash
# The README's "Use amplink in your project", as written there: install with `make install PREFIX=...` (staged with
# DESTDIR, so nothing lands outside the temporary folder), then build the README's app.c with its CMakeLists.txt
# (amplink::amplink, and again with amplink::amplink_static) and with its pkg-config lines (shared and fully static),
# run each program and compare what it prints with the README's output block; and a Zephyr program with the
# README's compat CMakeLists.txt against amplink::amplink_compat.
# usage: test_install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# readme_block NAME: the fenced block that follows the line "<!-- install-test: NAME -->" in the README.
readme_block() {
	awk -v mark="<!-- install-test: $1 -->" '
		$0 == mark { state = 1; next }
		state == 1 && /^```/ { state = 2; next }
		state == 2 && /^```/ { exit }
		state == 2 { print }' "$src/README.md" >"$tmp/block"
	[ -s "$tmp/block" ] || fail "README.md has no block marked '<!-- install-test: $1 -->'"
	cat "$tmp/block"
}
mkdir -p "$tmp/app"
readme_block app.c >"$tmp/app/app.c"
readme_block CMakeLists.txt >"$tmp/app/CMakeLists.txt"
readme_block pkg-config >"$tmp/pkg-config.sh"
readme_block output >"$tmp/expected"
grep -q 'amplink::amplink)' "$tmp/app/CMakeLists.txt" || fail "the README's CMakeLists.txt does not link amplink::amplink"
grep -q -- '--static' "$tmp/pkg-config.sh" || fail "the README's pkg-config block has no static line"

# check_run NAME PROGRAM: runs it and compares its output with the README's.
check_run() {
	"$2" >"$tmp/out" || fail "$1: exit status $?"
	diff -u "$tmp/expected" "$tmp/out" || fail "$1: the output differs from the README's (above)"
	echo "$1: ok"
}
# needs_libamplink yes|no PROGRAM: whether the program loads libamplink.so.
needs_libamplink() {
	if readelf -d "$2" | grep -q 'NEEDED.*libamplink\.so'; then
		[ "$1" = yes ] || fail "$2 loads libamplink.so, a static link was expected"
	else
		[ "$1" = no ] || fail "$2 does not load libamplink.so, the shared library was expected"
	fi
}

# make install PREFIX=... (the build is up to date: -o keeps make from rebuilding it while other tests run).
stage=$tmp/stage
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL DESTDIR="$stage" \
	make -s -C "$src" -o "$build/amplink" install BUILD="$build" PREFIX=/opt/amplink-test >/dev/null
prefix=$stage/opt/amplink-test
[ ! -e "$stage/usr/local" ] || fail "make install PREFIX=/opt/amplink-test installed into /usr/local"
test -f "$prefix/include/amplink/ipm.h" || fail "make install PREFIX: no include/amplink/ipm.h under the prefix"
test -x "$prefix/bin/amplink" || fail "make install PREFIX: no bin/amplink under the prefix"
echo "make install PREFIX: ok"

# The exported targets: amplink::amplink and the two libraries, each asking for C11.
targets=$(find "$prefix" -name amplinkTargets.cmake)
[ -n "$targets" ] || fail "no amplinkTargets.cmake"
for t in amplink amplink_shared amplink_static; do
	grep -q "add_library(amplink::$t " "$targets" || fail "amplink::$t is not exported"
	awk -v t="set_target_properties(amplink::$t PROPERTIES" '
		index($0, t) == 1 { inside = 1 }
		inside && /INTERFACE_COMPILE_FEATURES "c_std_11"/ { found = 1 }
		inside && /^\)/ { inside = 0 }
		END { exit !found }' "$targets" || fail "amplink::$t does not carry c_std_11"
done
echo "exported targets amplink::amplink, amplink_shared, amplink_static with c_std_11: ok"

# CMake, the README's CMakeLists.txt, then the same with the static library.
cmake -S "$tmp/app" -B "$tmp/app/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/app/build" >/dev/null
needs_libamplink yes "$tmp/app/build/app"
check_run "cmake, amplink::amplink" "$tmp/app/build/app"
mkdir -p "$tmp/app-static"
cp "$tmp/app/app.c" "$tmp/app-static/"
sed 's/amplink::amplink)/amplink::amplink_static)/' "$tmp/app/CMakeLists.txt" >"$tmp/app-static/CMakeLists.txt"
cmake -S "$tmp/app-static" -B "$tmp/app-static/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/app-static/build" >/dev/null
needs_libamplink no "$tmp/app-static/build/app"
check_run "cmake, amplink::amplink_static" "$tmp/app-static/build/app"

# pkg-config, the README's lines as they are, in a folder holding app.c.
pcdir=$(dirname "$(find "$prefix" -name amplink.pc | head -1)")
mkdir -p "$tmp/pc"
cp "$tmp/app/app.c" "$tmp/pc/"
(cd "$tmp/pc" && PKG_CONFIG_PATH=$pcdir bash -e "$tmp/pkg-config.sh") || fail "the README's pkg-config lines"
needs_libamplink yes "$tmp/pc/app"
LD_LIBRARY_PATH=$(dirname "$pcdir") check_run "pkg-config, shared" "$tmp/pc/app"
readelf -d "$tmp/pc/app-static" | grep -q NEEDED && fail "app-static loads shared libraries"
check_run "pkg-config --static, fully static" "$tmp/pc/app-static"

# A Zephyr program against the installed compat headers and amplink::amplink_compat, with the README's
# CMakeLists.txt (Zephyr and OpenAMP code), run as RPU0 against the APU of test_compat_icmsg.
mkdir -p "$tmp/zapp/build/dt"
readme_block "compat CMakeLists.txt" >"$tmp/zapp/CMakeLists.txt"
cp "$src/tests/compat/samples/zephyr_ipc_remote/main.c" "$tmp/zapp/"
test -f "$prefix/include/amplink/compat/zephyr/kernel.h" || fail "make install: no include/amplink/compat/zephyr"
"$build/amplink" dt gen --agent rpu0 "$src/tests/compat/compat-board.dts" \
	-o "$tmp/zapp/build/dt/devicetree_generated" >/dev/null || fail "amplink dt gen of the compat board"
cmake -S "$tmp/zapp" -B "$tmp/zapp/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/zapp/build" >/dev/null || fail "the Zephyr program against amplink::amplink_compat"
"$build/tests/compat/compat_peer" icmsg "$src/tests/compat/compat-board.dts" "$tmp/zapp/build/zephyr_app" \
	>"$tmp/zapp/out" 2>&1 || { cat "$tmp/zapp/out"; fail "the installed Zephyr program against compat_peer"; }
echo "cmake, amplink::amplink_compat (a Zephyr program, run): ok"
echo "1 passed, 0 failed"
