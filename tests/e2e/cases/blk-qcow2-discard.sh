# qcow2 discards: a 64 MiB qcow2 image on a node with discard=unmap. The
# guest writes 8 MiB of random bytes to /dev/vda, discards them with
# blkdiscard and reads zeroes back; then it makes ext4 (without its own
# discard), writes a 24 MiB file, deletes it and runs fstrim. On L1
# qemu-img check is clean and counts fewer data clusters (64 KiB) than the
# 384 the guest's file took, qemu-img map shows at least 256 zero clusters,
# and the image takes less room on the disk than the file did.
# e2e-timeout: 240
# e2e-needs: qemu-img mkfs.ext4
. "$E2E_LIB"
. "$E2E_DIR/blk-lib.sh"
need_ember
need_kvm
need_cmd qemu-img mkfs.ext4
blk_transport
cd "$E2E_TMP"
qemu-img create -q -f qcow2 d.qcow2 64M || fail "qemu-img create"
zero_sum=$(head -c 8388608 /dev/zero | sha256sum | cut -d' ' -f1)
make_initrd "$E2E_TMP/initrd" --bin mkfs.ext4 --script - <<'GUEST'
dd if=/dev/urandom of=/dev/vda bs=1M count=8 2>/dev/null || echo DD-FAILED
sync
echo "SUM-WRITTEN $(dd if=/dev/vda bs=1M count=8 2>/dev/null | sha256sum | cut -d' ' -f1)"
blkdiscard -o 0 -l 8388608 /dev/vda || echo BLKDISCARD-FAILED
echo 3 >/proc/sys/vm/drop_caches
echo "SUM-DISCARDED $(dd if=/dev/vda bs=1M count=8 2>/dev/null | sha256sum | cut -d' ' -f1)"
mkfs.ext4 -q -F -E nodiscard /dev/vda || echo MKFS-FAILED
mkdir -p /mnt && mount -t ext4 /dev/vda /mnt || echo MOUNT-FAILED
dd if=/dev/urandom of=/mnt/data bs=1M count=24 2>/dev/null || echo FILE-FAILED
sync
rm /mnt/data
sync
fstrim -v /mnt || echo FSTRIM-FAILED
umount /mnt
echo GUEST-DONE
GUEST
sum_of() { sed -n "s/^$1 \([0-9a-f]*\).*/\1/p" "$EMBER_LOG" | head -n 1; }

run_ember --timeout 180 $BLK_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" \
	-blockdev driver=qcow2,node-name=d0,discard=unmap,file.driver=file,file.filename=d.qcow2 \
	-device "$BLK_DEV,drive=d0"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" GUEST-DONE
expect_not_in "$EMBER_LOG" "FAILED"
written=$(sum_of SUM-WRITTEN)
[ -n "$written" ] && [ "$written" != "$zero_sum" ] || fail "the guest's 8 MiB were not written"
expect_eq "$(sum_of SUM-DISCARDED)" "$zero_sum" "the 8 MiB after blkdiscard"

qemu-img check --output=json d.qcow2 >check.json 2>&1 || { cat check.json; fail "qemu-img check"; }
clusters=$(sed -n 's/.*"allocated-clusters": \([0-9]*\).*/\1/p' check.json)
echo "data clusters after fstrim: $clusters (64 KiB each); on disk: $(du -k d.qcow2 | cut -f1) KiB"
# ext4's metadata and journal stay; the 24 MiB file (384 clusters) must not
[ -n "$clusters" ] && [ "$clusters" -lt 256 ] || fail "$clusters data clusters after fstrim"
[ "$(du -k d.qcow2 | cut -f1)" -lt 20480 ] || fail "the image takes $(du -k d.qcow2 | cut -f1) KiB"
qemu-img map --output=json d.qcow2 >map.json || fail "qemu-img map"
# zero clusters (present, zero, no data): what blkdiscard and fstrim freed
zeroed=$(awk -F'[:,]' '/"present": true/ && /"zero": true/ && /"data": false/ {
	n += $4 / 65536 } END { print n + 0 }' map.json)
echo "zero clusters: $zeroed"
[ "$zeroed" -ge 256 ] || { cat map.json; fail "$zeroed zero clusters after fstrim"; }
