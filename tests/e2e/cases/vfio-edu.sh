# -device vfio-pci: QEMU's edu function of the IOMMU lab (scripts/lab --iommu),
# bound to vfio-pci in L1 and passed to an L2 guest. Inside the guest: the
# function shows edu's ids, its BAR 0 answers edu's identity (0x010000ed),
# liveness (~value) and factorial registers, and its DMA engine copies a page
# of guest RAM into the device and back (guest RAM mapped in L1's IOMMU);
# 40000 accesses to BAR 0 take no MMIO exit (ember maps it into the guest),
# and every one of them exits with x-no-mmap=on.
# Interrupts: the guest (no driver owns edu, so its program writes the MSI
# capability itself: APIC 0, vector 208) gets edu's factorial and DMA
# interrupts through MSI (L1 counts them on vfio-msi[0] of edu, the guest
# kernel reports vector 208 arriving); with MSI turned off again they come
# through INTx (L1 counts them on vfio-intx of edu). Meanwhile ember holds
# one fd on KVM's VFIO device (anon_inode:kvm-vfio), which has edu's group.
# Then the bad inputs: an unbound device, no such device, a bad address, the
# same device twice, the MMIO-only machine: one line each, exit status 1.
# e2e-timeout: 240
# e2e-lab: iommu
. "$E2E_LIB"
. "$E2E_DIR/vfio-lib.sh"
need_ember
need_kvm
vfio_edu_find
note "edu is $edu, IOMMU group $(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")"


# Unbound first: the message names the driver and how to rebind.
if [ -e "/sys/bus/pci/devices/$edu/driver" ]; then
	echo "$edu" >"/sys/bus/pci/devices/$edu/driver/unbind"
fi
expect_usage_error not-bound "$edu is bound to no driver, not to vfio-pci; rebind it" \
	-M pci -kernel "$LAB_KERNEL" -device "vfio-pci,host=$edu"

modprobe vfio-pci && modprobe vfio_iommu_type1 || fail "modprobe vfio-pci vfio_iommu_type1"
echo vfio-pci >"/sys/bus/pci/devices/$edu/driver_override"
echo "$edu" >/sys/bus/pci/drivers_probe
expect_eq "$(basename "$(readlink "/sys/bus/pci/devices/$edu/driver")")" vfio-pci "edu's driver in L1"
ls -l /dev/vfio

make_initrd "$E2E_TMP/initrd" --file "$E2E_DIR/hostile/bin/pci_edu:/bin/pci_edu" --script - <<'GUEST'
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] || continue
	echo "EDU-FOUND $(basename $d) class=$(cat $d/class)"
	pci_edu $d read 0
	pci_edu $d write 4 0x12345678
	pci_edu $d read 4
	pci_edu $d fact 5
	pci_edu $d fact 10
	pci_edu $d dma
	echo MMIO-BEFORE
	sleep 2
	pci_edu $d loop 20000
	echo MMIO-AFTER
	sleep 2
done
GUEST
# BAR 0 is mmap'd into the guest: 40000 accesses to it cost no MMIO exits.
# KVM's own count (debugfs, the VM's directory) is read around them.
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug ||
	fail "cannot mount debugfs for KVM's exit counts"
mmio_exits() { cat /sys/kernel/debug/kvm/[0-9]*-[0-9]*/mmio_exits 2>/dev/null | head -n 1; }
# loop_exits LOG DEVICE: runs the guest above with -device DEVICE, log in LOG;
# sets $exits to KVM's MMIO exits between MMIO-BEFORE and MMIO-AFTER.
loop_exits() {
	run_ember --log "$1" -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
		-append "$E2E_APPEND" -device "$2" &
	pid=$!
	wait_for "$1" MMIO-BEFORE 120
	before=$(mmio_exits)
	wait_for "$1" MMIO-AFTER 120
	after=$(mmio_exits)
	wait "$pid"
	expect_eq "$?" 0 "ember exit status (-device $2)"
	expect_in "$1" "LOOP 20000 ok"
	[ -n "$before" ] && [ -n "$after" ] || fail "no KVM mmio_exits count in debugfs for the VM"
	exits=$((after - before))
}
loop_exits "$E2E_TMP/ember.log" "vfio-pci,host=$edu,id=edu0,addr=5"
EMBER_LOG=$E2E_TMP/ember.log
note "MMIO exits during 40000 BAR accesses: $exits"
[ "$exits" -lt 4000 ] ||
	fail "$exits MMIO exits for 40000 accesses to BAR 0: it is trapped, not mapped"
expect_in "$EMBER_LOG" "EDU-FOUND 0000:00:05.0 class=0x00ff00"
expect_in "$EMBER_LOG" "READ 0 0x010000ed"
expect_in "$EMBER_LOG" "READ 0x4 0xedcba987"
expect_in "$EMBER_LOG" "FACT 5 120"
expect_in "$EMBER_LOG" "FACT 10 3628800"
expect_in "$EMBER_LOG" "DMA-OK 1024 bytes"
expect_not_in "$EMBER_LOG" "PCI-EDU-FAIL"

# x-no-mmap=on: the same loop traps every access (QEMU's meaning).
loop_exits "$E2E_TMP/nommap.log" "vfio-pci,host=$edu,addr=5,x-no-mmap=on"
expect_in "$E2E_TMP/nommap.log" "DMA-OK 1024 bytes"
note "MMIO exits during 40000 BAR accesses with x-no-mmap=on: $exits"
[ "$exits" -ge 40000 ] ||
	fail "$exits MMIO exits for 40000 accesses with x-no-mmap=on: BAR 0 is still mapped"

# A second run: the device was reset and released at exit, so it opens again.
run_ember --log "$E2E_TMP/again.log" -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" \
	-m 256 -append "$E2E_APPEND" -device "vfio-pci,sysfsdev=/sys/bus/pci/devices/$edu"
expect_eq "$?" 0 "ember exit status (second run, sysfsdev=)"
expect_in "$E2E_TMP/again.log" "READ 0 0x010000ed"

# MSI, then INTx once MSI is off. No guest driver binds edu, so vector 208
# has no handler: the guest kernel says so, which shows the message arrived
# with the guest's address and data.
make_initrd "$E2E_TMP/initrd-irq" --file "$E2E_DIR/hostile/bin/pci_edu:/bin/pci_edu" --script - <<'GUEST'
d=/sys/bus/pci/devices/0000:00:05.0
pci_edu $d msi 208
pci_edu $d fact-irq 6
pci_edu $d dma-irq
echo MSI-DONE
sleep 2
pci_edu $d msi off
pci_edu $d fact-irq 7
echo INTX-DONE
sleep 2
dmesg | grep 'No irq handler for vector' | sed 's/^/GUEST-DMESG /'
GUEST
# L1's count of an interrupt line of edu's (all CPUs), 0 when it is not there.
l1_irqs() {
	grep -F "$1" /proc/interrupts | awk '{ s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s; exit }'
}
run_ember --log "$E2E_TMP/irq.log" -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd-irq" \
	-m 256 -append "$E2E_APPEND" -device "vfio-pci,host=$edu,addr=5" &
pid=$!
wait_for "$E2E_TMP/irq.log" MSI-DONE 120
# edu's IOMMU group joined KVM's VFIO device: ember holds its fd.
kvm_vfio=
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/exe")" = "$EMBER" ] || continue
	kvm_vfio=$(ls -l "$p/fd" | grep -c 'anon_inode:kvm-vfio')
	note "ember (pid ${p#/proc/}) holds $kvm_vfio anon_inode:kvm-vfio fd(s)"
done
grep -F "($edu)" /proc/interrupts | sed 's/^/L1 /' >&2
msi=$(l1_irqs "vfio-msi[0]($edu)")
wait_for "$E2E_TMP/irq.log" INTX-DONE 120
grep -F "($edu)" /proc/interrupts | sed 's/^/L1 /' >&2
intx=$(l1_irqs "vfio-intx($edu)")
wait "$pid"
expect_eq "$?" 0 "ember exit status (interrupts)"
expect_eq "$kvm_vfio" 1 "ember's fds on KVM's VFIO device (anon_inode:kvm-vfio)"
expect_in "$E2E_TMP/irq.log" "MSI-ON cap=0x[0-9a-f]* vector=208 control=0x8[0-9a-f]"
expect_in "$E2E_TMP/irq.log" "FACT-IRQ 6 720 status=0x1"
expect_in "$E2E_TMP/irq.log" "DMA-IRQ status=0x100"
expect_in "$E2E_TMP/irq.log" "FACT-IRQ 7 5040 status=0x1"
expect_not_in "$E2E_TMP/irq.log" "PCI-EDU-FAIL"
expect_in "$E2E_TMP/irq.log" "0\.208 No irq handler for vector"
note "L1 counted ${msi:-0} MSI and ${intx:-0} INTx interrupts of edu"
[ "${msi:-0}" -ge 2 ] || fail "L1 saw ${msi:-no} MSI interrupts of edu (want the factorial's and the DMA's)"
[ "${intx:-0}" -ge 1 ] || fail "L1 saw no INTx interrupt of edu after the guest turned MSI off"

expect_usage_error no-device "no PCI device 0000:00:1e.5 on this host" \
	-M pci -kernel "$LAB_KERNEL" -device vfio-pci,host=0000:00:1e.5
expect_usage_error bad-bdf "not a PCI address" \
	-M pci -kernel "$LAB_KERNEL" -device "vfio-pci,host=../$edu"
expect_usage_error twice "$edu is already passed through by another -device vfio-pci" \
	-M pci -m 64 -kernel "$LAB_KERNEL" -device "vfio-pci,host=$edu" -device "vfio-pci,host=$edu"
expect_usage_error mmio-machine "this machine has no PCI bus" \
	-kernel "$LAB_KERNEL" -device "vfio-pci,host=$edu"
expect_usage_error no-host "give host=DDDD:BB:DD.F or sysfsdev=PATH" \
	-M pci -kernel "$LAB_KERNEL" -device vfio-pci
