# Block options that are wrong: each a one-line error naming the problem,
# exit status 1. An image locked by another ember is refused.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
truncate -s 16M "$E2E_TMP/d.img"
expect_usage_error missing-file "/nonexistent/disk.img" -kernel "$LAB_KERNEL" -blockdev driver=file,node-name=f0,filename=/nonexistent/disk.img
expect_usage_error unknown-node "no -blockdev with node-name 'nope'" -kernel "$LAB_KERNEL" -device virtio-blk-device,drive=nope
expect_usage_error bad-queue-size "queue-size" -kernel "$LAB_KERNEL" -blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img" \
	-device virtio-blk-device,drive=f0,queue-size=100
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo HOLDING; sleep 30
GUEST
"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	-blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img" -device virtio-blk-device,drive=f0 \
	</dev/null >"$E2E_TMP/holder.log" 2>&1 &
holder=$!
wait_for "$E2E_TMP/holder.log" HOLDING 80
expect_usage_error locked "in use by another process" -kernel "$LAB_KERNEL" -blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img" \
	-device virtio-blk-device,drive=f0
kill $holder
wait $holder
