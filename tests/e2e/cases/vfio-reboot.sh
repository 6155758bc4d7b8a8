# -device vfio-pci across guest reboots (reset in place): each boot finds
# the lab's edu function at the same slot, reads its identity, runs a DMA
# through it and reboots; after at least two resets every boot still
# answers and does DMA.
# e2e-timeout: 240
# e2e-lab: iommu
. "$E2E_LIB"
. "$E2E_DIR/vfio-lib.sh"
need_ember
need_kvm
vfio_edu_bind
make_initrd "$E2E_TMP/initrd" --file "$E2E_DIR/hostile/bin/pci_edu:/bin/pci_edu" --script - <<'GUEST'
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] || continue
	echo "EDU-BOOT $(basename $d)"
	pci_edu $d read 0
	pci_edu $d dma
	reboot -f
	sleep 30
done
GUEST
# The guest reboots for ever; ember runs until the case's timeout ends it.
run_ember --timeout 40 -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" -device "vfio-pci,host=$edu,addr=6"
rc=$?
# SIGTERM ends ember cleanly (status 0, or 124 from run_ember's timer)
[ "$rc" = 0 ] || [ "$rc" = 124 ] || fail "ember exit status $rc"
expect_in "$EMBER_LOG" "ember: terminating on signal 15"
boots=$(grep -c 'EDU-BOOT 0000:00:06.0' "$EMBER_LOG")
resets=$(grep -c 'guest reset.*the machine resets' "$EMBER_LOG")
note "$boots boots, $resets resets in place"
[ "$resets" -ge 2 ] || fail "fewer than 2 resets in place"
[ "$(grep -c 'READ 0 0x010000ed' "$EMBER_LOG")" -ge 3 ] || fail "edu's identity missing after a reset"
[ "$(grep -c 'DMA-OK 1024 bytes' "$EMBER_LOG")" -ge 3 ] || fail "edu's DMA failed after a reset"
expect_not_in "$EMBER_LOG" "PCI-EDU-FAIL"
