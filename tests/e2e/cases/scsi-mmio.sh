# virtio-scsi-device (virtio-mmio) with a scsi-hd and a scsi-cd at other
# targets: the guest sees the disk (type 0, its size) and the CD-ROM (sr_mod:
# type 5, read-only, 2048-byte blocks, an MMC drive from its capabilities
# page), reads a known pattern from the CD-ROM, and a write to it fails; the
# disk takes a write that L1 reads back.
# The disk's node can discard (discard=unmap): the guest sees thin
# provisioning (UNMAP), blkdiscard of 8 MiB of random data reads back zeroes
# and leaves a hole in the image on L1.
# e2e-timeout: 180
. "$E2E_LIB"
need_ember
need_kvm
disk=$E2E_TMP/disk.img cd=$E2E_TMP/cd.iso
truncate -s 32M "$disk"
yes EMBER-CD-PATTERN | head -c 4194304 >"$cd"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
dev() { # TARGET: the block device of 0:0:TARGET:0
	for b in /sys/bus/scsi/devices/*:0:$1:0/block/*; do [ -e "$b" ] && basename "$b"; done
}
i=0
while [ -z "$(dev 3)" ] || [ -z "$(dev 5)" ]; do
	i=$((i + 1)); [ $i -gt 50 ] && { echo "NO-DEVICES-FAILED $(ls /sys/bus/scsi/devices)"; break; }
	sleep 0.1
done
hd=$(dev 3) cd=$(dev 5)
echo "HD $hd size=$(cat /sys/block/$hd/size) type=$(cat /sys/block/$hd/device/type) ro=$(cat /sys/block/$hd/ro)"
echo "CD $cd size=$(cat /sys/block/$cd/size) type=$(cat /sys/block/$cd/device/type) ro=$(cat /sys/block/$cd/ro) bs=$(cat /sys/block/$cd/queue/logical_block_size)"
echo "CDCAPS $(dmesg | grep -o 'scsi3-mmc drive: [^ ]*')"
echo "CDSUM $(dd if=/dev/$cd bs=2048 count=2048 2>/dev/null | sha256sum | cut -d' ' -f1)"
echo x | dd of=/dev/$cd bs=2048 count=1 conv=fsync 2>/dev/null && echo CD-WRITE-ACCEPTED
q=/sys/block/$hd/queue
echo "HDQ prov=$(cat /sys/class/scsi_disk/*:0:3:0/provisioning_mode) dmax=$(cat $q/discard_max_bytes)"
dd if=/dev/urandom of=/dev/$hd bs=1M count=8 seek=8 conv=fsync 2>/dev/null || echo RANDOM-FAILED
blkdiscard -o 8388608 -l 8388608 /dev/$hd || echo BLKDISCARD-FAILED
echo "DISCARDED $(dd if=/dev/$hd bs=1M count=8 skip=8 2>/dev/null | sha256sum | cut -d' ' -f1)"
yes EMBER-HD | head -c 65536 | dd of=/dev/$hd bs=4096 conv=fsync 2>/dev/null || echo HD-WRITE-FAILED
echo GUEST-DONE
GUEST
run_ember --timeout 120 -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" \
	-blockdev driver=file,node-name=hd,filename="$disk",discard=unmap \
	-blockdev driver=file,node-name=cd,filename="$cd",read-only=on \
	-device virtio-scsi-device,id=s0 \
	-device scsi-hd,drive=hd,scsi-id=3 -device scsi-cd,drive=cd,bus=s0.0,scsi-id=5
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "HD sd[a-z] size=65536 type=0 ro=0"
expect_in "$EMBER_LOG" "CD sr0 size=8192 type=5 ro=1 bs=2048"
expect_in "$EMBER_LOG" "CDCAPS scsi3-mmc drive: 50x/50x"
expect_in "$EMBER_LOG" "CDSUM $(sha256sum "$cd" | cut -d' ' -f1)"
expect_in "$EMBER_LOG" "HDQ prov=unmap dmax=1073741824"
expect_in "$EMBER_LOG" "DISCARDED $(head -c 8388608 /dev/zero | sha256sum | cut -d' ' -f1)"
expect_in "$EMBER_LOG" GUEST-DONE
expect_not_in "$EMBER_LOG" "FAILED"
expect_not_in "$EMBER_LOG" "CD-WRITE-ACCEPTED"
expect_eq "$(head -c 65536 "$disk" | sha256sum | cut -d' ' -f1)" \
	"$(yes EMBER-HD | head -c 65536 | sha256sum | cut -d' ' -f1)" "the disk's pattern read back on the host"
used=$(du -k "$disk" | cut -f1)
note "the 32 MiB image holds $used KiB after 8 MiB written and discarded"
[ "$used" -lt 2048 ] || fail "the discarded 8 MiB still take room in the image ($used KiB)"
