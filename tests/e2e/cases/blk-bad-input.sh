# Block options that are wrong: each a one-line error naming the problem,
# exit status 1. An image locked by another ember is refused.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
truncate -s 16M "$E2E_TMP/d.img"
check() { # NAME PATTERN ARGS...
	name=$1 pat=$2
	shift 2
	"$EMBER" -kernel "$LAB_KERNEL" "$@" </dev/null >"$E2E_TMP/$name.out" 2>&1
	rc=$?
	sed "s/^/| $name: /" "$E2E_TMP/$name.out"
	expect_eq "$rc" 1 "$name: exit status"
	expect_eq "$(grep -c 'error' "$E2E_TMP/$name.out")" 1 "$name: error lines"
	expect_in "$E2E_TMP/$name.out" "$pat"
}
check missing-file "/nonexistent/disk.img" -blockdev driver=file,node-name=f0,filename=/nonexistent/disk.img
check unknown-node "no -blockdev with node-name 'nope'" -device virtio-blk-device,drive=nope
check bad-queue-size "queue-size" -blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img" \
	-device virtio-blk-device,drive=f0,queue-size=100
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo HOLDING; sleep 30
GUEST
"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	-blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img" -device virtio-blk-device,drive=f0 \
	</dev/null >"$E2E_TMP/holder.log" 2>&1 &
holder=$!
wait_for "$E2E_TMP/holder.log" HOLDING 80
check locked "in use by another process" -blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img" \
	-device virtio-blk-device,drive=f0
kill $holder
wait $holder
