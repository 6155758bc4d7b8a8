# virtio-scsi-pci with two LUNs on one target (scsi-hd at scsi-id=0 lun=0
# and lun=1): the guest's sd_mod finds both (REPORT LUNS), with the vendor,
# model and serial given (INQUIRY, VPD 0x80) and the right sizes (READ
# CAPACITY); it makes ext4 on LUN 1, writes a 32 MiB file with a known
# checksum, writes a pattern on LUN 0, syncs and powers off; then L1 checks
# the image (e2fsck -fn), reads the file back with debugfs (same checksum)
# and reads LUN 0's pattern back from its image.
# e2e-timeout: 240
# e2e-needs: mkfs.ext4 e2fsck debugfs
. "$E2E_LIB"
. "$E2E_DIR/blk-lib.sh"
need_ember
need_kvm
need_cmd mkfs.ext4 e2fsck debugfs
img0=$E2E_TMP/lun0.img img1=$E2E_TMP/lun1.img
truncate -s 64M "$img0"
truncate -s 256M "$img1"
make_initrd "$E2E_TMP/initrd" --bin mkfs.ext4 --script - <<'GUEST'
disk() { # LUN: the block device of 0:0:0:LUN
	for b in /sys/bus/scsi/devices/*:0:0:$1/block/*; do [ -e "$b" ] && basename "$b"; done
}
i=0
while [ -z "$(disk 1)" ] || [ -z "$(disk 0)" ]; do
	i=$((i + 1)); [ $i -gt 50 ] && { echo "NO-DISKS-FAILED $(ls /sys/bus/scsi/devices)"; break; }
	sleep 0.1
done
for l in 0 1; do
	d=$(disk $l) s=/sys/block/$(disk $l)
	echo "LUN$l size=$(cat $s/size) vendor=$(echo $(cat $s/device/vendor)) model=$(echo $(cat $s/device/model))" \
		"serial=$(tail -c +5 $s/device/vpd_pg80 2>/dev/null) type=$(cat $s/device/type)" \
		"ro=$(cat $s/ro) wc=$(cat /sys/class/scsi_disk/*:0:0:$l/cache_type)"
done
d1=/dev/$(disk 1)
mkfs.ext4 -q -F "$d1" || echo MKFS-FAILED
mkdir -p /mnt && mount -t ext4 "$d1" /mnt || echo MOUNT-FAILED
dd if=/dev/urandom of=/mnt/data bs=1M count=32 2>/dev/null
echo "SUM $(sha256sum /mnt/data | cut -d' ' -f1)"
sync
umount /mnt
yes EMBER-LUN0 | head -c 1048576 | dd of=/dev/$(disk 0) bs=64k seek=16 conv=fsync 2>/dev/null || echo DD-FAILED
sync
echo GUEST-DONE
GUEST
run_ember --timeout 180 -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 512 \
	-append "$E2E_APPEND" \
	-blockdev driver=file,node-name=f0,filename="$img0" -blockdev driver=raw,node-name=d0,file=f0 \
	-blockdev driver=file,node-name=f1,filename="$img1" -blockdev driver=raw,node-name=d1,file=f1 \
	-device virtio-scsi-pci,id=scsi0 \
	-device scsi-hd,drive=d0,bus=scsi0.0,scsi-id=0,lun=0,serial=EMBER-SN-0,vendor=ACME,product=DISK-ZERO \
	-device scsi-hd,drive=d1,bus=scsi0.0,scsi-id=0,lun=1,serial=EMBER-SN-1
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "LUN0 size=131072 vendor=ACME model=DISK-ZERO serial=EMBER-SN-0 type=0 ro=0 wc=write back"
expect_in "$EMBER_LOG" "LUN1 size=524288 vendor=EMBER model=EMBER HARDDISK serial=EMBER-SN-1 type=0 ro=0 wc=write back"
blk_check_ext4 "$img1"
expect_eq "$(dd if="$img0" bs=64k skip=16 count=16 2>/dev/null | sha256sum | cut -d' ' -f1)" \
	"$(yes EMBER-LUN0 | head -c 1048576 | sha256sum | cut -d' ' -f1)" "LUN 0's pattern read back on the host"
