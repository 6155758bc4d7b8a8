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
run_ember --timeout 120 -object memory-backend-memfd,id=mem,size=256M,share=on \
	-M pci,memory-backend=mem -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" \
	-append "$E2E_APPEND" -chardev socket,id=c0,path="$sock" \
	-device vhost-user-fs-pci,chardev=c0,id=fs0,tag=hostshare
rc=$?
kill "$VFSD_PID" 2>/dev/null
wait "$VFSD_PID" 2>/dev/null
sed 's/^/| virtiofsd: /' "$E2E_TMP/virtiofsd.log" | tail -n 20
expect_eq "$rc" 0 "ember exit status"
expect_in "$EMBER_LOG" GUEST-DONE
expect_not_in "$EMBER_LOG" FAILED
expect_not_in "$EMBER_LOG" "vhost-user back end:"
expect_in "$EMBER_LOG" "READ1 $l1_sum"
expect_in "$EMBER_LOG" "READ2 $l1_sum"
expect_eq "$(cat "$share/after.txt" 2>/dev/null)" "after the reset" "the guest's file written after the reset, read in L1"
