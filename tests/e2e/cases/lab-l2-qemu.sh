# The lab boots an L2 Linux guest with KVM: QEMU (the reference VMM) boots the
# Debian cloud kernel and the lab's L2 initramfs, whose test script prints a marker.
# e2e-timeout: 120
# e2e-needs: qemu
# shellcheck source=../lib.sh
. "$E2E_LIB"

need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'SCRIPT'
echo "L2-GUEST-UP $(uname -r) cpus=$(nproc)"
ls /sys/bus/virtio/drivers | tr '\n' ' '
echo
SCRIPT
t0=$(now)
run_qemu --timeout 90 -M microvm,rtc=on -cpu host -m 256 -serial stdio \
	-kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" ||
	fail "qemu exited $?"
note "qemu booted and powered off the L2 guest in $(elapsed "$t0") s"
expect_in "$QEMU_LOG" "L2-GUEST-UP"
expect_in "$QEMU_LOG" "virtio_blk"
expect_not_in "$QEMU_LOG" "exited with status"
