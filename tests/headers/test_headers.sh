#!/usr/bin/env bash
# Every public header compiles alone: the one include of a translation unit, in one language mode.
# usage: test_headers.sh SRCDIR OUTDIR MODE COMPILER [FLAG...]
#   MODE   c (the file is t.c) or c++ (t.cpp); the standard and the warnings are in the FLAGs
#   The headers are found here, when the test runs (include/amplink/**/*.h but amplink/compat/, which the programs
#   of tests/compat compile with their include path): a new header is checked without any change to the test. Left out, each for a stated reason:
#   AMPL_HEADERS_SKIP  space-separated paths under include/ ("amplink/port/riscv.h ...") that this target cannot
#                      compile (a port for another CPU, a header that needs a C library the toolchain lacks)
# Besides compiling, MODE c++ checks that every header but amplink/cdefs.h says extern "C" (C linkage for what it
# declares: a function the test does not call would otherwise link only from C).
# Exit: 0 all compiled; 1 some did not (each one's diagnostics printed); 77 the compiler is not installed.
set -u
src=$1 out=$2 mode=$3 cc=$4
shift 4
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "test_headers: $cc is not installed: skipped"
	exit 77
fi
case $mode in
c) ext=c ;;
c++) ext=cpp ;;
*) echo "test_headers: unknown mode '$mode'" >&2; exit 2 ;;
esac
mkdir -p "$out"
skip=" ${AMPL_HEADERS_SKIP:-} "
mapfile -t headers < <(cd "$src/include" && find amplink -name '*.h' -not -path 'amplink/compat/*' | LC_ALL=C sort)
if [ ${#headers[@]} -lt 30 ]; then
	echo "test_headers: only ${#headers[@]} headers under $src/include/amplink" >&2
	exit 1
fi
fail=0 n=0
for h in "${headers[@]}"; do
	case $skip in *" $h "*) echo "skipped: $h"; continue ;; esac
	base=$(echo "$h" | tr '/.' '__')
	printf '#include <%s>\n' "$h" >"$out/$base.$ext"
	if ! msg=$("$cc" "$@" -I"$src/include" -c "$out/$base.$ext" -o "$out/$base.o" 2>&1) || [ -n "$msg" ]; then
		echo "FAIL: $h ($cc $*)"
		echo "$msg" | head -20
		fail=$((fail + 1))
	fi
	if [ "$mode" = c++ ] && [ "$h" != amplink/cdefs.h ] && ! grep -q 'extern "C" {' "$src/include/$h"; then
		echo "FAIL: $h has no extern \"C\" block"
		fail=$((fail + 1))
	fi
	n=$((n + 1))
done
echo "$n headers, $fail failures: $cc $*"
[ "$fail" -eq 0 ]
