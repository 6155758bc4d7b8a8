# vhost-user-blk across a device reset: the guest unbinds virtio_blk (the
# driver resets the device: ember stops the daemon's rings with
# GET_VRING_BASE) and binds it again (DRIVER_OK: the rings start anew);
# /dev/vda then reads the data L1 wrote, as before the reset.
# e2e-timeout: 180
# e2e-needs: qemu-storage-daemon
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
vub_setup 16M
dd if=/dev/urandom of="$E2E_TMP/seed" bs=1M count=2 2>/dev/null
dd if="$E2E_TMP/seed" of="$img" bs=1M conv=notrunc 2>/dev/null
seed_sum=$(sha256sum "$E2E_TMP/seed" | cut -d' ' -f1)
vub_daemon "$img" "$sock"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "READ1 $(dd if=/dev/vda bs=1M count=2 2>/dev/null | sha256sum | cut -d' ' -f1)"
dev=$(basename "$(readlink /sys/block/vda/device)")
echo "$dev" >/sys/bus/virtio/drivers/virtio_blk/unbind || echo UNBIND-FAILED
[ -e /sys/block/vda ] && echo STILL-BOUND-FAILED
echo "$dev" >/sys/bus/virtio/drivers/virtio_blk/bind || echo BIND-FAILED
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
echo "READ2 $(dd if=/dev/vda bs=1M count=2 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
echo GUEST-DONE
GUEST
vub_run_guest
expect_in "$EMBER_LOG" "READ1 $seed_sum"
expect_in "$EMBER_LOG" "READ2 $seed_sum"
expect_not_in "$EMBER_LOG" "vhost-user back end:"
