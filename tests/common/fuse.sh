# What the FUSE tests share (sourced after check.sh, with $amp the amplink binary, $soc a SoC name not yet created
# and $dir an empty mount point):
#   skip REASON...      print "SKIPPED: REASON" and exit 77
#   unmount [-z]        unmount $dir (fusermount3, or umount as root)
#   is_mounted          $dir is a FUSE mount
#   fuse_mount_apu      skip (77, with the reason) where FUSE cannot mount here; else create $soc and mount the
#                       apu's files at $dir (`amplink mount --timeout 2000`): its output in $out, the serving
#                       process in $server; a failure that is not the environment's prints FAIL and exits 1
skip() {
	echo "SKIPPED: $*"
	exit 77
}

unmount() {
	if command -v fusermount3 >/dev/null 2>&1; then
		fusermount3 -u "$@" "$dir" 2>/dev/null
	else
		umount "$@" "$dir" 2>/dev/null
	fi
}

is_mounted() {
	grep -q " $dir fuse" /proc/mounts
}

fuse_mount_apu() {
	[ -e /dev/fuse ] || skip "/dev/fuse is missing: FUSE is not available in this environment"
	[ -r /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse is not readable and writable by uid $(id -u)"
	if [ "$(id -u)" -ne 0 ] && ! command -v fusermount3 >/dev/null 2>&1; then
		skip "fusermount3 is missing (Debian package fuse3) and we are not root"
	fi
	if "$amp" mount --as apu "$dir" 2>&1 | grep -q "built without libfuse3"; then
		skip "amplink was built without libfuse3"
	fi
	"$amp" soc create "$soc" >/dev/null || { echo "FAIL: soc create"; exit 1; }
	local status
	out=$("$amp" mount "$dir" --as apu --soc "$soc" --timeout 2000 2>&1)
	status=$?
	if [ $status -ne 0 ]; then
		if grep -q "mounting failed" <<<"$out"; then
			skip "mounting is not permitted here: $(tr '\n' ' ' <<<"$out")"
		fi
		echo "FAIL: amplink mount: status $status: $out"
		exit 1
	fi
	server=$(sed -n 's/.*served by pid \([0-9]*\).*/\1/p' <<<"$out")
}
