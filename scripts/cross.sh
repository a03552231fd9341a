#!/usr/bin/env bash
# Build the portable core freestanding with -Werror for Cortex-M4 and RV32 at -Os, and report its code size; then
# link one minimal firmware image per firmware/size/*.c and report what each IPC backend costs once linked.
set -eu
cd "$(dirname "$0")/.."
out=${CROSS_BUILD:-build-cross}
for target in cortex-m4 rv32; do
	# The toolchain file is read only when a build folder is first configured: start afresh when it changed.
	if [ -e "$out/$target/CMakeCache.txt" ] && [ "cmake/$target.cmake" -nt "$out/$target/CMakeCache.txt" ]; then
		rm -rf "${out:?}/$target"
	fi
	cmake -S . -B "$out/$target" -DAMPL_CORE_ONLY=ON -DCMAKE_BUILD_TYPE=MinSizeRel \
		-DCMAKE_C_FLAGS_MINSIZEREL="-Os -DNDEBUG" -DCMAKE_TOOLCHAIN_FILE="cmake/$target.cmake" >/dev/null
	cmake --build "$out/$target" -j "$(nproc)" >/dev/null
	echo "== $target: portable core built freestanding with -Werror (-Os)"
done
# Feature configurations (firmware/size/configs.txt): the portable core built again, Cortex-M4 only, with each
# configuration's flags; the images named there are linked against it too and get a row of their own.
size_src=firmware/size
declare -A cfg_flags=()
declare -A cfg_images=()
cfg_names=()
while read -r img cname flags; do
	case $img in '' | '#'*) continue ;; esac
	if [ -z "${cfg_flags[$cname]+x}" ]; then
		cfg_names+=("$cname")
		cfg_flags[$cname]=$flags
		# -flto: link-time optimisation of the core (the objects also carry plain code, so that the archive's
		# index needs no linker plugin); the images' own objects are built without it, so that what the link
		# optimises is amplink's code alone (see link_sizes).
		lto=
		case " $flags " in *" -flto "*) lto=-ffat-lto-objects ;; esac
		cmake -S . -B "$out/cortex-m4-$cname" -DAMPL_CORE_ONLY=ON -DCMAKE_BUILD_TYPE=MinSizeRel \
			-DCMAKE_C_FLAGS_MINSIZEREL="-Os -DNDEBUG $flags $lto" -DCMAKE_TOOLCHAIN_FILE=cmake/cortex-m4.cmake \
			>/dev/null
		cmake --build "$out/cortex-m4-$cname" -j "$(nproc)" >/dev/null
		echo "== cortex-m4, configuration $cname ($flags): portable core built freestanding with -Werror (-Os)"
	fi
	if [ "${cfg_flags[$cname]}" != "$flags" ]; then
		echo "cross.sh: configuration $cname has two sets of flags in $size_src/configs.txt" >&2
		exit 1
	fi
	cfg_images[$cname]="${cfg_images[$cname]:-} $img"
done < "$size_src/configs.txt"

echo
echo "Code size of the portable core, Cortex-M4 -Os (bytes; text includes read-only data):"
arm-none-eabi-size -t "$out/cortex-m4/libamplink_core.a" | sed 's/(ex .*)//'
echo
echo "Code size of the portable core, RV32IMAC -Os:"
riscv64-unknown-elf-size -t "$out/rv32/libamplink_core.a" | sed 's/(ex .*)//'

# ------------------------------------------------------------------------------------------------------------
# Linked size per IPC backend. Every firmware/size/*.c is one configuration: a program that opens an instance,
# registers one endpoint and echoes. Adding a file there (e.g. rpmsg_remote.c once the RPMsg remote API exists)
# is all it takes to get a row. firmware/size/common/ holds what every image shares: start-up and vector table,
# linker scripts, the trivial doorbell controller, the empty baseline, and the RV32 C-library stand-ins.
# Each image: -Os, -ffunction-sections -fdata-sections, --gc-sections, -nostartfiles; newlib-nano on Cortex-M4;
# on RV32 (no C library here) firmware/size/common/rv32_support.c. Warnings fail the build, linker ones too.
# ------------------------------------------------------------------------------------------------------------
gen_dir="$out/gen"
warn=(-std=c11 -Wall -Wextra -Werror -pedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes)
common=(-Os -DNDEBUG -ffreestanding -ffunction-sections -fdata-sections "${warn[@]}" -Iinclude -I"$size_src" \
	-I"$gen_dir")

# The images are configured from the default board's devicetree at build time: `amplink dt gen` (a host program,
# built here from the host build folder, AMPL_HOST_BUILD, default build/) writes board_gen.h / board_gen.c for
# RPU0. Receive buffers are capped at 512 bytes: a size image's RAM budget. Unused objects go with --gc-sections.
host_build=${AMPL_HOST_BUILD:-build}
if [ ! -e "$host_build/CMakeCache.txt" ]; then
	scripts/deps.sh build
	cmake -S . -B "$host_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$host_build" -j "$(nproc)" --target amplink_cli >/dev/null
mkdir -p "$gen_dir"
"$host_build/amplink" dt gen --agent rpu0 --rx-buf-max 512 dts/zynqmp-apu-rpu0.dts -o "$gen_dir/board_gen"
echo "== devicetree: $gen_dir/board_gen.{h,c} generated for rpu0 from dts/zynqmp-apu-rpu0.dts"
configs=()
for f in "$size_src"/*.c; do
	[ -e "$f" ] && configs+=("$(basename "$f" .c)")
done

# map_sizes MAP: from a GNU ld map, the bytes each input file placed in the image, as lines
# "amplink MEMBER FLASH RAM", "libc - FLASH RAM", "program - FLASH RAM" (FLASH: .text/.rodata/.ARM.exidx, code and
# constants, and .data, whose initial values are stored in flash and copied at start-up; RAM: .data/.bss). Only the
# memory map counts: sections --gc-sections discarded are listed before it. Padding (*fill*) and the linker script's own words count as program.
map_sizes() {
	awk '
	function hex(s,    v, i, c) {
		v = 0
		s = tolower(substr(s, 3))
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", substr(s, i, 1)) - 1
			v = v * 16 + c
		}
		return v
	}
	/^Linker script and memory map/ { inmap = 1; next }
	!inmap { next }
	/^[^ ]/ { sect = $1; end = 0; next }
	{
		if ($1 ~ /^0x/ && $2 ~ /^0x[0-9a-fA-F]+$/ && NF >= 3) { addr = hex($1); size = hex($2); file = $3 }
		else if ($2 ~ /^0x/ && $3 ~ /^0x[0-9a-fA-F]+$/) { addr = hex($2); size = hex($3); file = (NF >= 4 ? $4 : "") }
		else next
		# Merged constants (.rodata.*.str1.1) are listed at their size before merging, several at one address:
		# count each output byte once, in address order (the order of the map).
		if (addr < end) { size -= end - addr; addr = end }
		if (size <= 0) next
		end = addr + size
		if (sect == ".text" || sect == ".rodata" || sect == ".ARM.exidx") kind = "text"
		else if (sect == ".data") kind = "both"
		else if (sect == ".bss") kind = "ram"
		else next
		if (match(file, /libamplink_core\.a\(.*\)$/)) {
			key = "amplink " substr(file, RSTART + 18, RLENGTH - 19)
			sub(/\.obj$/, "", key)
		} else if (file ~ /\.ltrans[0-9]*\.ltrans\.o$/) {
			key = "amplink lto" # link-time optimised: only the core is built for it (link_sizes)
		} else if (file ~ /lib(c|c_nano|g|g_nano|gcc|nosys)\.a\(/ || file ~ /rv32_support\.o$/) {
			key = "libc -"
		} else {
			key = "program -"
		}
		if (kind != "ram") bytes[key, "text"] += size
		if (kind != "text") bytes[key, "ram"] += size
		keys[key] = 1
	}
	END { for (k in keys) print k, bytes[k, "text"] + 0, bytes[k, "ram"] + 0 }
	' "$1"
}

# link_sizes TARGET: build every configuration and the empty baseline for TARGET, print the tables.
link_sizes() {
	local target=$1 cc size arch ld lib obj name title
	local -a link_libs extra
	local dir="$out/size/$target"
	lib="$out/$target/libamplink_core.a"
	case $target in
	cortex-m4)
		cc=arm-none-eabi-gcc size=arm-none-eabi-size
		arch=(-mcpu=cortex-m4 -mthumb -mfloat-abi=soft -DAMPL_PORT_CORTEX_M)
		ld=(-nostartfiles --specs=nano.specs)
		link_libs=(-lc -lgcc)
		title="Cortex-M4"
		;;
	rv32)
		cc=riscv64-unknown-elf-gcc size=riscv64-unknown-elf-size
		arch=(-march=rv32imac -mabi=ilp32 -DAMPL_PORT_RISCV)
		ld=(-nostdlib -nostartfiles)
		link_libs=(-lgcc)
		title="RV32IMAC"
		;;
	esac
	mkdir -p "$dir"
	"$cc" "${arch[@]}" "${common[@]}" -c "$size_src/common/startup.c" -o "$dir/startup.o"
	"$cc" "${arch[@]}" "${common[@]}" -c "$gen_dir/board_gen.c" -o "$dir/board_gen.o"
	extra=()
	if [ "$target" = rv32 ]; then
		"$cc" "${arch[@]}" "${common[@]}" -fno-builtin -fno-tree-loop-distribute-patterns \
			-c "$size_src/common/rv32_support.c" -o "$dir/rv32_support.o"
		extra=("$dir/rv32_support.o")
	fi

	local -A text ram amp_text amp_ram prog libc objs
	local -a rows=(empty "${configs[@]}") cflags
	local c i img cfg row_lib board
	local -a lto_link
	if [ "$target" = cortex-m4 ]; then
		for c in "${cfg_names[@]}"; do
			for i in ${cfg_images[$c]}; do rows+=("$i@$c"); done
		done
	fi
	for name in "${rows[@]}"; do
		img=${name%@*} cfg=${name#*@} cflags=() row_lib=$lib
		[ "$cfg" = "$name" ] && cfg=default
		lto_link=()
		if [ "$cfg" != default ]; then
			read -r -a cflags <<< "${cfg_flags[$cfg]}"
			row_lib="$out/$target-$cfg/libamplink_core.a"
			# A link-time optimised core: the program's objects as usual, the link optimising the core's.
			for c in "${!cflags[@]}"; do
				if [ "${cflags[$c]}" = -flto ]; then
					unset 'cflags[c]'
					lto_link=(-flto -Os -ffunction-sections -fdata-sections)
				fi
			done
			cflags=("${cflags[@]}")
		fi
		if [ "$img" = empty ]; then src="$size_src/common/empty.c"; else src="$size_src/$img.c"; fi
		"$cc" "${arch[@]}" "${common[@]}" "${cflags[@]}" -c "$src" -o "$dir/$name.o"
		# The generated board file with the configuration's flags too (AMPL_XLNX_IPI_DIRECT picks its IPM devices).
		board=$dir/board_gen.o
		if [ "$cfg" != default ]; then
			board=$dir/board_gen@$cfg.o
			"$cc" "${arch[@]}" "${common[@]}" "${cflags[@]}" -c "$gen_dir/board_gen.c" -o "$board"
		fi
		"$cc" "${arch[@]}" "${ld[@]}" "${lto_link[@]}" -Wl,--gc-sections -Wl,--fatal-warnings \
			-T "$size_src/common/$target.ld" \
			-Wl,-Map="$dir/$name.map" "$dir/startup.o" "$dir/$name.o" "$board" "$row_lib" "${extra[@]}" \
			"${link_libs[@]}" -o "$dir/$name.elf"
		text[$name]=$("$size" "$dir/$name.elf" | awk 'NR == 2 { print $1 + $2 }') # flash: text and .data's values
		ram[$name]=$("$size" "$dir/$name.elf" | awk 'NR == 2 { print $2 + $3 }')
		amp_text[$name]=0 amp_ram[$name]=0 prog[$name]=0 libc[$name]=0
		local sum=0 kind member t r
		while read -r kind member t r; do
			sum=$((sum + t))
			case $kind in
			amplink)
				amp_text[$name]=$((amp_text[$name] + t))
				amp_ram[$name]=$((amp_ram[$name] + r))
				objs[$member,$name]=$t
				[ "$cfg" = default ] && objs[$member]=1
				;;
			libc) libc[$name]=$t ;;
			program) prog[$name]=$t ;;
			esac
		done < <(map_sizes "$dir/$name.map")
		# the map and the ELF must agree, or the attribution above is wrong
		if [ "$sum" -ne "${text[$name]}" ]; then
			echo "cross.sh: $dir/$name.map accounts for $sum flash bytes, $size says ${text[$name]}" >&2
			exit 1
		fi
	done

	echo
	echo "Linked size per IPC backend, $title -Os (bytes of flash: code, constants and initialised data's values;"
	echo " one image per $size_src/*.c, --gc-sections):"
	printf '%-30s %7s %8s %8s %12s %11s %6s %12s %7s\n' "image (configuration)" image amplink program \
		"libc+libgcc" "over empty" RAM "amplink RAM" budget
	local b label
	for name in "${rows[@]}"; do
		img=${name%@*} cfg=${name#*@}
		[ "$cfg" = "$name" ] && cfg=default
		label="$img ($cfg)"
		[ "$name" = empty ] && label="(empty image)"
		b=$(awk -v t="$target" -v i="$img" -v c="$cfg" '$1 == t && $2 == i && $3 == c { print $4 }' \
			"$size_src/budget.txt")
		printf '%-30s %7d %8d %8d %12d %11d %6d %12d %7s\n' "$label" "${text[$name]}" \
			"${amp_text[$name]}" "${prog[$name]}" "${libc[$name]}" $((${text[$name]} - ${text[empty]})) \
			"${ram[$name]}" "${amp_ram[$name]}" "${b:--}"
		if [ "$name" != empty ] && [ -z "$b" ]; then
			over+=("$target $img ($cfg): no budget in $size_src/budget.txt (amplink part: ${amp_text[$name]})")
		elif [ -n "$b" ] && [ "${amp_text[$name]}" -gt "$b" ]; then
			over+=("$target $img ($cfg): amplink part ${amp_text[$name]} bytes, budget $b")
		fi
	done
	echo "(image = amplink + program + libc+libgcc, from the linker map: amplink = input sections from"
	echo " libamplink_core.a; program = start-up, vector table, the configuration's code, constant configuration"
	echo " and trivial doorbell controller; an initialised variable counts in flash, for its values, and in RAM."
	echo " RAM = the image's .data + .bss: the instance state and buffers the"
	echo " program defines, and amplink's own globals, shown apart. budget = the most bytes the amplink part may take,
 from $size_src/budget.txt: make cross fails past it. Configurations other than default: $size_src/configs.txt.)"
	if [ "${#configs[@]}" -gt 0 ]; then
		echo "amplink objects linked into each image (flash bytes):"
		printf '  %-16s' object
		for name in "${configs[@]}"; do printf ' %12s' "$name"; done
		echo
		local m
		for m in $(for k in "${!objs[@]}"; do case $k in *,*) ;; *) echo "$k" ;; esac; done | sort); do
			printf '  %-16s' "$m"
			for name in "${configs[@]}"; do printf ' %12s' "${objs[$m,$name]:--}"; done
			echo
		done
	fi
	# The images ring a trivial doorbell; a real port links a vendor driver instead, reported on its own.
	echo "Mailbox drivers, not in the images (the library's objects, unlinked text): $(
		"$size" "$lib" | awk '
			$6 ~ /^(xlnx_ipi|ipm_xlnx_ipi|ipm_xlnx_ipi_direct|nxp_mu)\.c\.obj$/ { n = $6; sub(/\.obj$/, "", n); printf "%s%s %d", sep, n, $1; sep = ", " }'
	)"
}

over=()
link_sizes cortex-m4
link_sizes rv32
if [ "${#over[@]}" -gt 0 ]; then
	echo
	echo "cross.sh: over the size budget ($size_src/budget.txt):" >&2
	printf '  %s\n' "${over[@]}" >&2
	exit 1
fi
echo
echo "All images within their size budget ($size_src/budget.txt)."
