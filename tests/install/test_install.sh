#!/usr/bin/env bash
# Install amplink into a temporary prefix and build a program against it with the CMake package and with
# pkg-config. usage: test_install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/amplink/ipm.h"
test -x "$tmp/prefix/bin/amplink"
cmake -S "$src/tests/install" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm" >/dev/null
"$tmp/cm/consumer"
pcdir=$(dirname "$(find "$tmp/prefix" -name amplink.pc | head -1)")
cc -std=c11 $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags amplink) "$src/tests/install/consumer.c" \
	$(PKG_CONFIG_PATH=$pcdir pkg-config --libs --static amplink) -o "$tmp/consumer-pc"
LD_LIBRARY_PATH="$pcdir/.." "$tmp/consumer-pc"
echo "1 passed, 0 failed"
