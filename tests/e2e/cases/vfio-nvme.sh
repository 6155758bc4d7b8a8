# -device vfio-pci: the NVMe function of the IOMMU lab (scripts/lab --iommu)
# passed to an L2 guest. L1 writes 4 MiB of known data through its own nvme
# driver first, then hands the function to vfio-pci; inside the guest the
# stock nvme driver binds with MSI-X, reads the same data back and writes
# 1 MiB of its own at 8 MiB; a second guest with pci=nomsi (INTx) reads
# both; after ember exits L1 takes the function back and finds the
# guest's data. The guest's config space of the function lists, at L1's
# offsets, only the capabilities ember supports (PM, MSI, MSI-X,
# vendor-specific): L1's PCI Express capability is not in it.
# e2e-timeout: 300
# e2e-lab: iommu
. "$E2E_LIB"
need_ember
need_kvm
nvme=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1b36:0x0010 ] && nvme=$(basename "$d")
done
if [ -z "$nvme" ]; then
	[ "$LAB_MODE" = l1 ] && fail "L1 has no QEMU NVMe function: the lab did not honour '# e2e-lab: iommu'"
	skip "this host has no QEMU NVMe function"
fi
dev=/sys/bus/pci/devices/$nvme
note "NVMe is $nvme, driver $(basename "$(readlink "$dev/driver")"), IOMMU group $(basename "$(readlink "$dev/iommu_group")")"
blk=
for n in "$dev"/nvme/nvme*/nvme*n1; do
	[ -e "$n" ] && blk=$(basename "$n")
done
if [ -z "$blk" ] || [ ! -b "/dev/$blk" ]; then
	fail "L1's nvme driver gave no namespace for $nvme"
fi

# 4 MiB L1 writes, 1 MiB the guest writes at 8 MiB: both sides know both.
dd if=/dev/urandom of="$E2E_TMP/l1.bin" bs=1M count=4 2>/dev/null
dd if="$E2E_TMP/l1.bin" of="/dev/$blk" bs=1M conv=fsync 2>/dev/null || fail "write to /dev/$blk"
l1sum=$(md5sum <"$E2E_TMP/l1.bin" | cut -d' ' -f1)
yes ember-l2-wrote-this | head -c 1048576 >"$E2E_TMP/l2.bin"
l2sum=$(md5sum <"$E2E_TMP/l2.bin" | cut -d' ' -f1)
note "L1 wrote $l1sum; the guest will write $l2sum"

modprobe vfio-pci && modprobe vfio_iommu_type1 || fail "modprobe vfio-pci vfio_iommu_type1"
echo "$nvme" >"$dev/driver/unbind"
echo vfio-pci >"$dev/driver_override"
echo "$nvme" >/sys/bus/pci/drivers_probe
expect_eq "$(basename "$(readlink "$dev/driver")")" vfio-pci "the NVMe function's driver in L1"
# cap_list CONFIG: the capability list of a config space file, "ID@OFF" (hex) each;
# the same in L1 and in the guest.
cap_list_sh=$(cat <<'EOF'
cap_list() {
	_off=$(od -An -tu1 -j 52 -N 1 "$1" | tr -d ' ') _n=0 _l=
	while [ -n "$_off" ] && [ "$_off" != 0 ] && [ $_n -lt 48 ]; do
		_l="$_l $(printf '%02x@%02x' "$(od -An -tu1 -j "$_off" -N 1 "$1" | tr -d ' ')" "$_off")"
		_off=$(od -An -tu1 -j $((_off + 1)) -N 1 "$1" | tr -d ' ')
		_n=$((_n + 1))
	done
	echo "${_l# }"
}
EOF
)
eval "$cap_list_sh"
l1caps=$(cap_list "$dev/config")
want=$(for c in $l1caps; do case $c in 01@* | 05@* | 11@* | 09@*) printf '%s ' "$c" ;; esac; done)
want=${want% }
note "L1 sees the capabilities $l1caps; the guest should see $want"
case " $l1caps " in *" 10@"*) ;; *) fail "L1's NVMe function has no PCI Express capability to hide: $l1caps" ;; esac

{
	echo "$cap_list_sh"
	cat <<'GUEST'
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
if [ ! -b /dev/nvme0n1 ]; then
	echo "NVME-MISSING"
	dmesg | grep -i nvme | tail -n 20
	exit 1
fi
echo "NVME-UP $(cat /sys/block/nvme0n1/size) sectors"
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/class)" = 0x010802 ] || continue
	echo "NVME-MSI $(ls $d/msi_irqs 2>/dev/null | wc -l)"
	echo "NVME-CAPS $(cap_list $d/config) END"
done
echo "NVME-READ $(dd if=/dev/nvme0n1 bs=1M count=4 2>/dev/null | md5sum | cut -d' ' -f1)"
echo "NVME-READ8 $(dd if=/dev/nvme0n1 bs=1M skip=8 count=1 2>/dev/null | md5sum | cut -d' ' -f1)"
if grep -q e2e.write /proc/cmdline; then
	yes ember-l2-wrote-this | head -c 1048576 | dd of=/dev/nvme0n1 bs=1M seek=8 conv=fsync 2>/dev/null &&
		echo "NVME-WROTE"
fi
GUEST
} >"$E2E_TMP/guest.sh"
make_initrd "$E2E_TMP/initrd" --script "$E2E_TMP/guest.sh"
# MSI-X: the guest's nvme driver takes vectors (ember's table, VFIO's eventfds as irqfds).
run_ember --timeout 200 -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND e2e.write" -device "vfio-pci,host=$nvme"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "NVME-UP 131072 sectors"
expect_in "$EMBER_LOG" "NVME-MSI [1-9]"
expect_in "$EMBER_LOG" "NVME-CAPS $want END"
expect_in "$EMBER_LOG" "NVME-READ $l1sum"
expect_in "$EMBER_LOG" "NVME-WROTE"

# INTx: the same guest with pci=nomsi reads both back over the resampled irqfd.
run_ember --timeout 200 --log "$E2E_TMP/intx.log" -M pci -kernel "$LAB_KERNEL" \
	-initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND pci=nomsi" -device "vfio-pci,host=$nvme"
expect_eq "$?" 0 "ember exit status (pci=nomsi)"
expect_in "$E2E_TMP/intx.log" "NVME-MSI 0"
expect_in "$E2E_TMP/intx.log" "NVME-READ $l1sum"
expect_in "$E2E_TMP/intx.log" "NVME-READ8 $l2sum"

# L1 takes the function back: the guest's megabyte is on the disk.
. "$E2E_DIR/vfio-lib.sh"
vfio_nvme_back 8 1 "$l2sum" "the guest's data, read in L1"
