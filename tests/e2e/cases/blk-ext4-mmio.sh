# virtio-blk: the guest sees /dev/vda with the right size and serial, makes
# an ext4 file system, writes a 64 MiB file with a known checksum, syncs and
# powers off; then L1 checks the image (e2fsck -fn) and reads the file back
# with debugfs: same checksum.
# e2e-timeout: 240
# e2e-needs: mkfs.ext4 e2fsck debugfs
. "$E2E_LIB"
. "$E2E_DIR/blk-lib.sh"
need_ember
need_kvm
need_cmd mkfs.ext4 e2fsck debugfs
blk_transport
img=$E2E_TMP/disk.img
truncate -s 256M "$img"
make_initrd "$E2E_TMP/initrd" --bin mkfs.ext4 --script - <<'GUEST'
echo "VDA size=$(cat /sys/block/vda/size) serial=$(cat /sys/block/vda/serial)"
mkfs.ext4 -q -F /dev/vda || echo MKFS-FAILED
mkdir -p /mnt && mount -t ext4 /dev/vda /mnt || echo MOUNT-FAILED
dd if=/dev/urandom of=/mnt/data bs=1M count=64 2>/dev/null
echo "SUM $(sha256sum /mnt/data | cut -d' ' -f1)"
sync
umount /mnt
echo GUEST-DONE
GUEST
run_ember --timeout 180 $BLK_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 512 \
	-append "$E2E_APPEND" -blockdev driver=file,node-name=f0,filename="$img" \
	-blockdev driver=raw,node-name=d0,file=f0 -device "$BLK_DEV,drive=d0,serial=EMBER-SN-1,id=disk0"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "VDA size=524288 serial=EMBER-SN-1"
blk_check_ext4 "$img"
