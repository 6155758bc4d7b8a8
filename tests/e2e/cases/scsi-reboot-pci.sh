# virtio-scsi-pci with two request queues on two vCPUs, across a guest
# reboot (the machine is reset in place, the controller with it): boot 1
# sees two hardware queues, finds no marker on the scsi-hd, writes one from
# each vCPU's queue and runs `reboot -f`; boot 2 finds the marker, writes a
# second one and powers off; L1 reads it from the image.
# e2e-timeout: 240
. "$E2E_LIB"
need_ember
need_kvm
img=$E2E_TMP/disk.img
truncate -s 16M "$img"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
i=0
while [ ! -e /sys/bus/scsi/devices/0:0:1:0/block ]; do
	i=$((i + 1)); [ $i -gt 50 ] && { echo "NO-DISK-FAILED"; break; }
	sleep 0.1
done
d=/dev/$(ls /sys/bus/scsi/devices/0:0:1:0/block)
echo "HWQ $(cat /sys/class/scsi_host/host0/nr_hw_queues 2>/dev/null) CPUS $(grep -c ^processor /proc/cpuinfo)"
m=$(dd if=$d bs=64 count=1 2>/dev/null | tr -d '\000')
echo "GUEST-INIT marker=[$m]"
case "$m" in
"")
	echo BOOT-ONE
	# Writes from both vCPUs: each goes down its own request queue.
	for c in 0 1; do
		taskset -c $c dd if=/dev/urandom of=$d bs=64k count=16 seek=$((16 + c * 16)) \
			conv=fsync 2>/dev/null || echo "WRITE-$c-FAILED"
	done
	printf 'EMBER-BOOT-1' | dd of=$d conv=fsync 2>/dev/null
	reboot -f
	sleep 30
	;;
EMBER-BOOT-1)
	echo BOOT-TWO
	printf 'EMBER-BOOT-2' | dd of=$d conv=fsync 2>/dev/null
	echo GUEST-DONE
	;;
*)
	echo "BOOT-UNEXPECTED-FAILED [$m]"
	;;
esac
GUEST
run_ember --timeout 180 -M pci -smp 2 -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" \
	-blockdev driver=file,node-name=f0,filename="$img" \
	-device virtio-scsi-pci,id=scsi0,num_queues=2 -device scsi-hd,drive=f0,scsi-id=1
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "HWQ 2 CPUS 2"
expect_in "$EMBER_LOG" BOOT-ONE
expect_in "$EMBER_LOG" BOOT-TWO
expect_in "$EMBER_LOG" GUEST-DONE
expect_not_in "$EMBER_LOG" FAILED
expect_eq "$(head -c 12 "$img")" EMBER-BOOT-2 "the marker of boot 2 in the image"
