# -device vfio-pci across a guest reboot (reset in place): the guest drives
# the lab's edu function, reboots, and on its second boot finds the
# function again at the same place, answering and doing DMA. edu has no
# function reset, so the value the first boot left in its liveness
# register tells the second boot apart.
# e2e-timeout: 240
# e2e-lab: iommu
. "$E2E_LIB"
need_ember
need_kvm
edu=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] && edu=$(basename "$d")
done
if [ -z "$edu" ]; then
	[ "$LAB_MODE" = l1 ] && fail "L1 has no edu function: the lab did not honour '# e2e-lab: iommu'"
	skip "this host has no edu PCI function"
fi
modprobe vfio-pci && modprobe vfio_iommu_type1 || fail "modprobe vfio-pci vfio_iommu_type1"
if [ "$(basename "$(readlink "/sys/bus/pci/devices/$edu/driver")")" != vfio-pci ]; then
	[ -e "/sys/bus/pci/devices/$edu/driver" ] && echo "$edu" >"/sys/bus/pci/devices/$edu/driver/unbind"
	echo vfio-pci >"/sys/bus/pci/devices/$edu/driver_override"
	echo "$edu" >/sys/bus/pci/drivers_probe
fi
expect_eq "$(basename "$(readlink "/sys/bus/pci/devices/$edu/driver")")" vfio-pci "edu's driver in L1"
# 0x0badf00d (read back as 0xf45207f2) is written by no other case
make_initrd "$E2E_TMP/initrd" --file "$E2E_DIR/hostile/bin/pci_edu:/bin/pci_edu" --script - <<'GUEST'
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] || continue
	if [ "$(pci_edu $d read 4)" = "READ 0x4 0xf45207f2" ]; then
		echo "EDU-BOOT2 $(basename $d)"
		pci_edu $d read 0
		pci_edu $d dma
		pci_edu $d write 4 0
		exit 0
	fi
	echo "EDU-BOOT1 $(basename $d)"
	pci_edu $d read 0
	pci_edu $d write 4 0x0badf00d
	reboot -f
	sleep 30
done
GUEST
run_ember -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	-device "vfio-pci,host=$edu,addr=6"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "EDU-BOOT1 0000:00:06.0"
expect_in "$EMBER_LOG" "EDU-BOOT2 0000:00:06.0"
expect_eq "$(grep -c 'READ 0 0x010000ed' "$EMBER_LOG")" 2 "identity reads, one per boot"
expect_in "$EMBER_LOG" "DMA-OK 1024 bytes"
expect_not_in "$EMBER_LOG" "PCI-EDU-FAIL"
