# Shared by the vfio cases of the IOMMU lab: edu and the NVMe function
# together (vfio-two, vfio-hostile), edu alone (vfio-reboot, jail-vfio).

# vfio_pair_setup: finds both functions ($edu, $nvme; $dev, $blk the NVMe's
# sysfs directory and L1 block device), writes 4 MiB of known data through
# L1's nvme driver ($l1sum), binds both to vfio-pci.
vfio_pair_setup() {
	edu= nvme=
	for d in /sys/bus/pci/devices/*; do
		case "$(cat "$d/vendor"):$(cat "$d/device")" in
		0x1234:0x11e8) edu=$(basename "$d") ;;
		0x1b36:0x0010) nvme=$(basename "$d") ;;
		esac
	done
	if [ -z "$edu" ] || [ -z "$nvme" ]; then
		[ "$LAB_MODE" = l1 ] && fail "L1 lacks edu ($edu) or NVMe ($nvme): the lab did not honour '# e2e-lab: iommu'"
		skip "this host has no edu and NVMe functions"
	fi
	note "edu is $edu (IOMMU group $(vfio_group "$edu")), NVMe is $nvme (IOMMU group $(vfio_group "$nvme"))"
	dev=/sys/bus/pci/devices/$nvme
	# a case before may have left it with vfio-pci: L1's nvme driver first
	if [ "$(basename "$(readlink "$dev/driver")")" != nvme ]; then
		echo >"$dev/driver_override"
		[ -e "$dev/driver" ] && echo "$nvme" >"$dev/driver/unbind"
		echo "$nvme" >/sys/bus/pci/drivers_probe
		i=0
		while ! ls "$dev"/nvme/nvme*/nvme*n1 >/dev/null 2>&1 && [ $i -lt 60 ]; do
			sleep 0.5
			i=$((i + 1))
		done
	fi
	blk=
	for n in "$dev"/nvme/nvme*/nvme*n1; do
		[ -e "$n" ] && blk=$(basename "$n")
	done
	[ -n "$blk" ] && [ -b "/dev/$blk" ] || fail "L1's nvme driver gave no namespace for $nvme"
	dd if=/dev/urandom of="$E2E_TMP/l1.bin" bs=1M count=4 2>/dev/null
	dd if="$E2E_TMP/l1.bin" of="/dev/$blk" bs=1M conv=fsync 2>/dev/null || fail "write to /dev/$blk"
	l1sum=$(md5sum <"$E2E_TMP/l1.bin" | cut -d' ' -f1)
	modprobe vfio-pci && modprobe vfio_iommu_type1 || fail "modprobe vfio-pci vfio_iommu_type1"
	for f in "$edu" "$nvme"; do
		[ -e "/sys/bus/pci/devices/$f/driver" ] && echo "$f" >"/sys/bus/pci/devices/$f/driver/unbind"
		echo vfio-pci >"/sys/bus/pci/devices/$f/driver_override"
		echo "$f" >/sys/bus/pci/drivers_probe
		expect_eq "$(basename "$(readlink "/sys/bus/pci/devices/$f/driver")")" vfio-pci "$f's driver in L1"
	done
}
vfio_group() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }

# vfio_pair_check LOG: one guest with edu at 00:05.0 and the NVMe at 00:06.0
# (run_ember arguments after LOG's): edu answers and does DMA, the guest's nvme
# driver binds with MSI-X and reads L1's data.
vfio_pair_check() {
	_log=$1
	shift
	make_initrd "$E2E_TMP/initrd-pair" --file "$E2E_DIR/hostile/bin/pci_edu:/bin/pci_edu" --script - <<'GUEST'
d=/sys/bus/pci/devices/0000:00:05.0
echo "EDU-IDS $(cat $d/vendor):$(cat $d/device)"
pci_edu $d read 0
pci_edu $d fact 6
pci_edu $d dma
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
[ -b /dev/nvme0n1 ] || { echo NVME-MISSING; dmesg | grep -i nvme | tail -n 20; exit 1; }
n=/sys/bus/pci/devices/0000:00:06.0
echo "NVME-AT $(cat $n/class) driver=$(basename $(readlink $n/driver)) msi=$(ls $n/msi_irqs | wc -l)"
echo "NVME-READ $(dd if=/dev/nvme0n1 bs=1M count=4 2>/dev/null | md5sum | cut -d' ' -f1)"
GUEST
	run_ember --timeout 200 --log "$_log" -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd-pair" \
		-m 256 -append "$E2E_APPEND" -device "vfio-pci,host=$edu,addr=5" \
		-device "vfio-pci,host=$nvme,addr=6" "$@"
	expect_eq "$?" 0 "ember exit status ($_log)"
	expect_in "$_log" "EDU-IDS 0x1234:0x11e8"
	expect_in "$_log" "READ 0 0x010000ed"
	expect_in "$_log" "FACT 6 720"
	expect_in "$_log" "DMA-OK 1024 bytes"
	expect_in "$_log" "NVME-AT 0x010802 driver=nvme msi=[1-9]"
	expect_in "$_log" "NVME-READ $l1sum"
	expect_not_in "$_log" "PCI-EDU-FAIL"
}

# vfio_nvme_back [SKIP COUNT SUM WHAT]: L1 takes the NVMe function back and
# finds SUM in COUNT MiB at SKIP MiB (default: L1's own 4 MiB at 0).
vfio_nvme_back() {
	echo >"$dev/driver_override"
	echo "$nvme" >"$dev/driver/unbind"
	echo "$nvme" >/sys/bus/pci/drivers_probe
	i=0
	while [ ! -b "/dev/$blk" ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
	[ -b "/dev/$blk" ] || fail "L1's nvme driver did not take $nvme back"
	expect_eq "$(dd if="/dev/$blk" bs=1M skip="${1:-0}" count="${2:-4}" 2>/dev/null |
		md5sum | cut -d' ' -f1)" "${3:-$l1sum}" "${4:-L1's data, read in L1 after the guest}"
}

# vfio_edu_find: the lab's edu function in $edu (skip without one, outside L1).
vfio_edu_find() {
	edu=
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] && edu=$(basename "$d")
	done
	if [ -z "$edu" ]; then
		[ "$LAB_MODE" = l1 ] && fail "L1 has no edu function: the lab did not honour '# e2e-lab: iommu'"
		skip "this host has no edu PCI function"
	fi
}

# vfio_edu_bind: vfio_edu_find, and edu bound to vfio-pci.
vfio_edu_bind() {
	vfio_edu_find
	modprobe vfio-pci && modprobe vfio_iommu_type1 || fail "modprobe vfio-pci vfio_iommu_type1"
	if [ "$(basename "$(readlink "/sys/bus/pci/devices/$edu/driver")")" != vfio-pci ]; then
		[ -e "/sys/bus/pci/devices/$edu/driver" ] && echo "$edu" >"/sys/bus/pci/devices/$edu/driver/unbind"
		echo vfio-pci >"/sys/bus/pci/devices/$edu/driver_override"
		echo "$edu" >/sys/bus/pci/drivers_probe
	fi
	expect_eq "$(basename "$(readlink "/sys/bus/pci/devices/$edu/driver")")" vfio-pci "edu's driver in L1"
}
