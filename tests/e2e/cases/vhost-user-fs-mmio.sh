# vhost-user-fs against the real virtiofsd (QEMU 7.2's, /usr/lib/qemu/virtiofsd)
# sharing an L1 directory: the guest mounts it (-t virtiofs by its tag),
# reads 4 MiB that L1 wrote (same checksum), writes 4 MiB of its own and a
# small file, unmounts and powers off; L1 then finds the guest's files in
# the directory (same checksum, same text).
# e2e-timeout: 180
# e2e-needs: /usr/lib/qemu/virtiofsd
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
vufs_setup 4
case "$E2E_CASE" in
*-pci) dev=vhost-user-fs-pci machine=pci ;;
*) dev=vhost-user-fs-device machine=microvm ;;
esac
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
mkdir -p /mnt
mount -t virtiofs hostshare /mnt || echo MOUNT-FAILED
grep virtiofs /proc/mounts
echo "READ $(sha256sum /mnt/from-l1 | cut -d' ' -f1)"
dd if=/dev/urandom of=/w bs=1M count=4 2>/dev/null
echo "WROTE $(sha256sum /w | cut -d' ' -f1)"
cp /w /mnt/from-guest || echo WRITE-FAILED
echo "hello from the guest" >/mnt/note.txt || echo WRITE-FAILED
sync
umount /mnt || echo UMOUNT-FAILED
echo GUEST-DONE
GUEST
vufs_run "$machine" "$dev"
expect_in "$EMBER_LOG" "^hostshare /mnt virtiofs"
expect_in "$EMBER_LOG" "READ $l1_sum"
guest_sum=$(sed -n 's/^WROTE \([0-9a-f]*\).*/\1/p' "$EMBER_LOG" | head -n 1)
[ -n "$guest_sum" ] || fail "the guest printed no checksum"
[ -f "$share/from-guest" ] || fail "the guest's file is not in L1's directory"
expect_eq "$(sha256sum "$share/from-guest" | cut -d' ' -f1)" "$guest_sum" \
	"checksum of the guest's file read in L1"
expect_eq "$(cat "$share/note.txt")" "hello from the guest" "the guest's note read in L1"
