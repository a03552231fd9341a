#!/usr/bin/env bash
# The headers by audience (include/amplink/README.md):
#   portable   include/amplink/ but host/ and compat/: each compiles alone, freestanding, with only the compiler's own
#              headers (-nostdinc and the compiler's include directory: stdint.h, stdbool.h, stddef.h,
#              stdatomic.h) from a copy of include/ that has no amplink/host/ and no amplink/compat/, so a portable
#              header that includes a host header, or a C library header (stdio.h, sys/types.h), fails here
#   plain      the portable and the host headers (amplink/host/) define none of the Zephyr and Linux compatibility
#              names (struct device, device_get_binding, device_is_ready, k_timeout_t, K_NO_WAIT, K_FOREVER,
#              K_MSEC, K_USEC, K_TIMEOUT_EQ, ERR_PTR, PTR_ERR, IS_ERR, IS_ERR_OR_NULL): checked on each header's
#              preprocessed text and macro definitions
#   compat     <amplink/compat/zephyr/device_names.h>, <amplink/compat/zephyr/sys_clock.h> and
#              <amplink/compat/linux/err.h> give those names, the same types as amplink's (a `struct device *` is
#              a `struct ampl_device *`, a k_timeout_t an ampl_timeout_t)
# usage: test_audience.sh SRCDIR OUTDIR HOSTCC CROSSCC [CROSSFLAG...]
# Exit: 0 all held; 1 some did not (each printed); 77 the cross compiler is not installed.
set -u
src=$1 out=$2 hostcc=$3 crosscc=$4
shift 4
if ! command -v "$crosscc" >/dev/null 2>&1; then
	echo "test_audience: $crosscc is not installed: skipped"
	exit 77
fi
rm -rf "$out"
mkdir -p "$out/portable"
fail=0
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}

# portable: a copy of include/ without the host and compatibility headers.
cp -r "$src/include/amplink" "$out/portable/"
rm -rf "$out/portable/amplink/host" "$out/portable/amplink/compat"
mapfile -t portable < <(cd "$out/portable" && find amplink -name '*.h' | LC_ALL=C sort)
[ ${#portable[@]} -ge 25 ] || bad "only ${#portable[@]} portable headers under $src/include/amplink"
ccinc=$("$crosscc" -print-file-name=include)
for h in "${portable[@]}"; do
	case $h in amplink/port/riscv.h) continue ;; esac # a port for another CPU (#error elsewhere)
	base=$(echo "$h" | tr '/.' '__')
	printf '#include <%s>\n' "$h" >"$out/$base.c"
	if ! msg=$("$crosscc" "$@" -ffreestanding -nostdinc -isystem "$ccinc" -std=c11 -Wall -Wextra -Werror \
		-I"$out/portable" -c "$out/$base.c" -o "$out/$base.o" 2>&1); then
		bad "$h is not portable (freestanding, without amplink/host/ and amplink/compat/):"
		echo "$msg" | head -5
	fi
done

# plain: no compatibility name from a portable or host header.
names='device_get_binding|device_is_ready|k_timeout_t|K_NO_WAIT|K_FOREVER|K_MSEC|K_USEC|K_TIMEOUT_EQ|ERR_PTR|PTR_ERR|IS_ERR|IS_ERR_OR_NULL'
mapfile -t plain < <(cd "$src/include" && find amplink -name '*.h' -not -path 'amplink/compat/*' | LC_ALL=C sort)
for h in "${plain[@]}"; do
	case $h in amplink/port/cortex_m.h | amplink/port/riscv.h) continue ;; esac
	base=$(echo "$h" | tr '/.' '__')
	printf '#include <%s>\n' "$h" >"$out/plain_$base.c"
	if ! "$hostcc" -std=c11 -E -dD -I"$src/include" "$out/plain_$base.c" -o "$out/plain_$base.i" 2>"$out/err"; then
		bad "$h does not preprocess: $(head -3 "$out/err")"
		continue
	fi
	hits=$(grep -E "^#define ($names|device)\b|\bstruct device\b|\b($names)\b" "$out/plain_$base.i" | grep -v '^#' | head -3)
	defs=$(grep -E "^#define ($names|device)\b" "$out/plain_$base.i" | head -3)
	if [ -n "$hits$defs" ]; then
		bad "$h gives a compatibility name:"
		printf '%s\n%s\n' "$defs" "$hits" | sed '/^$/d'
	fi
done

# compat: the names, the same types as amplink's.
cat >"$out/compat.c" <<'EOF'
#include <amplink/compat/linux/err.h>
#include <amplink/compat/zephyr/device_names.h>
#include <amplink/compat/zephyr/sys_clock.h>

int compat_names(const struct ampl_device *a, ampl_timeout_t t);
int compat_names(const struct ampl_device *a, ampl_timeout_t t)
{
	const struct device *d = a;             /* the same struct: no cast, no warning */
	const struct ampl_device *back = d;
	k_timeout_t k = t;
	void *p = ERR_PTR(-EINVAL);

	if (device_get_binding("x") == back || device_is_ready(d))
		return 1;
	if (K_TIMEOUT_EQ(k, K_FOREVER) || K_TIMEOUT_EQ(k, K_NO_WAIT) || K_MSEC(1).us != K_USEC(1000).us)
		return 2;
	return IS_ERR(p) && !IS_ERR_OR_NULL(&k) ? (int)PTR_ERR(p) : 0;
}
EOF
if ! msg=$("$hostcc" -std=c11 -pedantic-errors -Wall -Wextra -Werror -I"$src/include" -c "$out/compat.c" \
	-o "$out/compat.o" 2>&1); then
	bad "the compatibility headers do not give the Zephyr and Linux names as amplink's types:"
	echo "$msg" | head -10
fi
echo "${#portable[@]} portable headers, ${#plain[@]} plain headers, $fail failures"
[ "$fail" -eq 0 ]
