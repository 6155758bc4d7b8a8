# -M pci: virtio-blk-pci functions land at the slots addr= asks for (hex,
# as in QEMU), with virtio's modern ids; a taken slot, an unknown bus and a
# PCI device on the machine without PCI are refused with one line each.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
truncate -s 8M "$E2E_TMP/a.img"
truncate -s 8M "$E2E_TMP/b.img"
disks="-blockdev driver=file,node-name=a,filename=$E2E_TMP/a.img -blockdev driver=file,node-name=b,filename=$E2E_TMP/b.img"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
for d in /sys/bus/pci/devices/*; do
	echo "PCIDEV $(basename $d) $(cat $d/vendor):$(cat $d/device) class=$(cat $d/class)"
done
GUEST
run_ember -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	$disks -device virtio-blk-pci,drive=a,addr=4 -device virtio-blk-pci,drive=b,bus=pci.0,addr=1f.0
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "PCIDEV 0000:00:00.0 0x1b36:0x0008 class=0x060000"
expect_in "$EMBER_LOG" "PCIDEV 0000:00:04.0 0x1af4:0x1042 class=0x018000"
expect_in "$EMBER_LOG" "PCIDEV 0000:00:1f.0 0x1af4:0x1042 class=0x018000"

expect_usage_error slot-taken "slot 4 of pci.0 is taken" -kernel "$LAB_KERNEL" -M pci $disks \
	-device virtio-blk-pci,drive=a,addr=4 -device virtio-blk-pci,drive=b,addr=4
expect_usage_error unknown-bus "no bus 'pci.7'" -kernel "$LAB_KERNEL" -M pci $disks -device virtio-blk-pci,drive=a,bus=pci.7
expect_usage_error no-pci "this machine has no PCI bus" -kernel "$LAB_KERNEL" $disks -device virtio-blk-pci,drive=a
