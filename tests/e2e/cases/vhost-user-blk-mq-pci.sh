# vhost-user-blk with two request queues (daemon num-queues=2, ember
# num-queues=2, two vCPUs): the guest's blk-mq has two hardware queues,
# and data written from each CPU reaches the image intact.
# e2e-timeout: 180
# e2e-needs: qemu-storage-daemon
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
vub_setup 32M
vub_daemon "$img" "$sock" num-queues=2
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "HWQ $(ls /sys/block/vda/mq | wc -l)"
for c in 0 1; do
	dd if=/dev/urandom of=/w$c bs=1M count=2 2>/dev/null
	echo "WROTE$c $(sha256sum /w$c | cut -d' ' -f1)"
	taskset -c $c dd if=/w$c of=/dev/vda bs=1M seek=$((4 * c)) conv=fsync 2>/dev/null || echo WRITE-FAILED
done
echo GUEST-DONE
GUEST
vub_run_guest ,num-queues=2 -smp 2
expect_in "$EMBER_LOG" "HWQ 2"
for c in 0 1; do
	sum=$(sed -n "s/^WROTE$c \([0-9a-f]*\).*/\1/p" "$EMBER_LOG" | head -n 1)
	[ -n "$sum" ] || fail "the guest printed no checksum for CPU $c"
	expect_eq "$(dd if="$img" bs=1M skip=$((4 * c)) count=2 2>/dev/null | sha256sum | cut -d' ' -f1)" \
		"$sum" "checksum of CPU $c's data in the image"
done
