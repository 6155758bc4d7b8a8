# -device nvme: the stock guest's nvme driver (built into its kernel) finds
# namespace 1 of an ember NVMe controller with MSI-X, makes an ext4 file
# system, writes a 64 MiB file with a known checksum and 96 MiB it then
# deletes, discards (fstrim),
# syncs and powers off; a second namespace (-device nvme-ns) is
# /dev/nvme0n2 with its own size and data. Then L1 checks the image
# (e2fsck -fn), reads the file back with debugfs (same checksum) and finds
# what the guest wrote on namespace 2.
# e2e-timeout: 240
# e2e-needs: mkfs.ext4 e2fsck debugfs
. "$E2E_LIB"
. "$E2E_DIR/blk-lib.sh"
need_ember
need_kvm
need_cmd mkfs.ext4 e2fsck debugfs
# nvme-ext4-sgl: the guest's driver describes every I/O buffer with SGLs.
append=$E2E_APPEND
case "$E2E_CASE" in
*-sgl)
	append="$append nvme.sgl_threshold=1"
	EMBER_DEBUG=1
	export EMBER_DEBUG
	;;
esac
img=$E2E_TMP/disk.img
img2=$E2E_TMP/ns2.img
truncate -s 256M "$img"
truncate -s 32M "$img2"
make_initrd "$E2E_TMP/initrd" --bin mkfs.ext4 --script - <<'GUEST'
i=0
while [ ! -b /dev/nvme0n2 ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
echo "NVME n1=$(cat /sys/block/nvme0n1/size) n2=$(cat /sys/block/nvme0n2/size) serial=$(cat /sys/class/nvme/nvme0/serial | tr -d ' ')"
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/class)" = 0x010802 ] && echo "NVME-MSI $(ls $d/msi_irqs 2>/dev/null | wc -l)"
done
echo "NVME-QUEUES $(ls -d /sys/block/nvme0n1/mq/* | wc -l)"
mkfs.ext4 -q -F /dev/nvme0n1 || echo MKFS-FAILED
mkdir -p /mnt && mount -t ext4 -o discard /dev/nvme0n1 /mnt || echo MOUNT-FAILED
dd if=/dev/urandom of=/mnt/data bs=1M count=64 2>/dev/null
echo "SUM $(sha256sum /mnt/data | cut -d' ' -f1)"
dd if=/dev/urandom of=/mnt/junk bs=1M count=96 2>/dev/null
sync
rm /mnt/junk
# The delete must be committed before fstrim, or its blocks are not free yet.
sync
fstrim -v /mnt || echo FSTRIM-FAILED
sync
umount /mnt
yes ember-ns2 | head -c 1048576 | dd of=/dev/nvme0n2 bs=64k seek=16 oflag=direct 2>/dev/null || echo NS2-WRITE-FAILED
echo "NS2 $(dd if=/dev/nvme0n2 bs=64k skip=16 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
echo GUEST-DONE
GUEST
run_ember --timeout 180 -M pci -smp 2 -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 512 \
	-append "$append" -blockdev driver=file,node-name=f0,filename="$img",discard=unmap \
	-blockdev driver=raw,node-name=d0,file=f0,discard=unmap \
	-blockdev driver=file,node-name=f1,filename="$img2" \
	-device nvme,drive=d0,serial=EMBER-NV-1,id=nv0 -device nvme-ns,drive=f1,bus=nv0
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "NVME n1=524288 n2=65536 serial=EMBER-NV-1"
expect_in "$EMBER_LOG" "NVME-MSI [2-9]"
blk_check_ext4 "$img"
ns2=$(yes ember-ns2 | head -c 1048576 | md5sum | cut -d' ' -f1)
expect_in "$EMBER_LOG" "NS2 $ns2"
expect_eq "$(dd if="$img2" bs=64k skip=16 count=16 2>/dev/null | md5sum | cut -d' ' -f1)" "$ns2" \
	"namespace 2's data read back on the host"
# fstrim deallocated blocks: the image is sparser than what was written.
# Without deallocation it holds at least data, junk and journal (64 + 96 +
# 8 MiB = 172032 KiB); with it, 83-123 MB were seen (how much the file
# system's own lazy writes allocate varies from run to run).
used=$(du -k "$img" | cut -f1)
note "disk image uses $used KiB after fstrim"
[ "$used" -lt 140000 ] || fail "fstrim left $used KiB allocated (expected < 140000 KiB)"
if [ -n "${EMBER_DEBUG:-}" ]; then
	sgl=$(sed -n 's/.* I\/O commands (\([0-9]*\) with SGLs).*/\1/p' "$EMBER_LOG" | head -n 1)
	note "${sgl:-no} I/O commands with SGLs"
	[ "${sgl:-0}" -gt 100 ] || fail "the guest sent ${sgl:-no} commands with SGLs"
fi
