# vhost-user-fs across a device reset: the guest mounts the share and reads a
# file, unmounts, unbinds virtiofs (the driver resets the device: ember
# stops virtiofsd's rings with GET_VRING_BASE), binds it again (DRIVER_OK:
# the rings start anew), mounts again, reads the file and writes one that L1
# then finds.
# e2e-timeout: 180
# e2e-needs: /usr/lib/qemu/virtiofsd
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
vufs_setup 2
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
mkdir -p /mnt
mount -t virtiofs hostshare /mnt || echo MOUNT1-FAILED
echo "READ1 $(sha256sum /mnt/from-l1 | cut -d' ' -f1)"
umount /mnt || echo UMOUNT1-FAILED
dev=$(ls /sys/bus/virtio/drivers/virtiofs | grep '^virtio' | head -n 1)
[ -n "$dev" ] || echo NO-DEVICE-FAILED
echo "$dev" >/sys/bus/virtio/drivers/virtiofs/unbind || echo UNBIND-FAILED
[ -e "/sys/bus/virtio/drivers/virtiofs/$dev" ] && echo STILL-BOUND-FAILED
echo "$dev" >/sys/bus/virtio/drivers/virtiofs/bind || echo BIND-FAILED
mount -t virtiofs hostshare /mnt || echo MOUNT2-FAILED
echo "READ2 $(sha256sum /mnt/from-l1 | cut -d' ' -f1)"
echo "after the reset" >/mnt/after.txt || echo WRITE-FAILED
umount /mnt || echo UMOUNT2-FAILED
echo GUEST-DONE
GUEST
vufs_run pci vhost-user-fs-pci
expect_not_in "$EMBER_LOG" "vhost-user back end:"
expect_in "$EMBER_LOG" "READ1 $l1_sum"
expect_in "$EMBER_LOG" "READ2 $l1_sum"
expect_eq "$(cat "$share/after.txt" 2>/dev/null)" "after the reset" "the guest's file written after the reset, read in L1"
