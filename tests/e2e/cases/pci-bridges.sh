# -M pci with two pcie-root-ports and a pci-bridge: the guest finds the
# ports and the bridge on pci.0 and the devices behind them on the buses
# ember numbered (rp1 1, rp2 2, br1 3), each under its bridge in sysfs; it
# writes 1 MiB to the disk behind rp1 and the one behind the bridge (L1
# reads the same bytes from the images) and takes a DHCP lease through the
# NIC behind rp2; the kernel keeps the windows and BARs ember gave. Then
# impossible trees, refused with one line each; a PCI device without
# -M pci, whose error says to add it; -device help's bus kinds and
# hot-pluggable devices.
# e2e-timeout: 180
. "$E2E_LIB"
need_ember
need_kvm
truncate -s 8M "$E2E_TMP/a.img"
truncate -s 8M "$E2E_TMP/b.img"
disks="-blockdev driver=file,node-name=a,filename=$E2E_TMP/a.img -blockdev driver=file,node-name=b,filename=$E2E_TMP/b.img"
ports="-device pcie-root-port,id=rp1,chassis=1,slot=1,addr=2 -device pcie-root-port,id=rp2,chassis=1,slot=2,addr=3 -device pci-bridge,id=br1,chassis_nr=2,addr=5"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
for d in /sys/bus/pci/devices/*; do
	echo "PCIDEV $(basename $d) $(cat $d/vendor):$(cat $d/device) class=$(cat $d/class)"
	echo "PCIPATH $(readlink -f $d | sed 's|^/sys/devices/||')"
done
for d in 0000:01:00.0 0000:03:03.0; do
	vd=$(ls /sys/bus/pci/devices/$d/virtio*/block 2>/dev/null)
	[ -n "$vd" ] || { echo "NODISK $d"; continue; }
	dd if=/dev/urandom of=/tmp/p bs=64k count=16 2>/dev/null
	dd if=/tmp/p of=/dev/$vd bs=64k conv=fsync 2>/dev/null || echo "WRITE-FAILED $d"
	echo 3 >/proc/sys/vm/drop_caches
	echo "SHA $d $(sha256sum </tmp/p | cut -d' ' -f1) $(head -c 1048576 /dev/$vd | sha256sum | cut -d' ' -f1)"
done
dmesg | grep -iE "bridge window|BAR [0-9]|busn|pci_bus 0000:0[1-3]" | sed 's/^/KMSG /'
nic=$(ls /sys/bus/pci/devices/0000:02:00.0/virtio*/net 2>/dev/null)
echo "NIC 02:00.0 ${nic:-none}"
if [ -n "$nic" ]; then
	ip link set "$nic" up
	cat >/tmp/dhcp.sh <<'EOS'
#!/bin/sh
[ "$1" = bound ] && echo "LEASE $ip"
exit 0
EOS
	chmod +x /tmp/dhcp.sh
	udhcpc -i "$nic" -n -q -t 10 -T 2 -s /tmp/dhcp.sh 2>/dev/null | grep LEASE
fi
GUEST
# shellcheck disable=SC2086 # word lists
run_ember --timeout 150 -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" $disks $ports -netdev user,id=n0 \
	-device virtio-blk-pci,drive=a,bus=rp1 -device virtio-net-pci,netdev=n0,bus=rp2 \
	-device virtio-blk-pci,drive=b,bus=br1,addr=3
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "PCIDEV 0000:00:02.0 0x1b36:0x000c class=0x060400"
expect_in "$EMBER_LOG" "PCIDEV 0000:00:03.0 0x1b36:0x000c class=0x060400"
expect_in "$EMBER_LOG" "PCIDEV 0000:00:05.0 0x1b36:0x0001 class=0x060400"
expect_in "$EMBER_LOG" "PCIDEV 0000:01:00.0 0x1af4:0x1042 class=0x018000"
expect_in "$EMBER_LOG" "PCIDEV 0000:02:00.0 0x1af4:0x1041 class=0x020000"
expect_in "$EMBER_LOG" "PCIDEV 0000:03:03.0 0x1af4:0x1042 class=0x018000"
expect_in "$EMBER_LOG" "PCIPATH pci0000:00/0000:00:02.0/0000:01:00.0"
expect_in "$EMBER_LOG" "PCIPATH pci0000:00/0000:00:03.0/0000:02:00.0"
expect_in "$EMBER_LOG" "PCIPATH pci0000:00/0000:00:05.0/0000:03:03.0"
expect_not_in "$EMBER_LOG" "NODISK\|WRITE-FAILED"
# The kernel keeps firmware's windows and BARs: nothing to move or missing.
expect_not_in "$EMBER_LOG" "KMSG.*\(can't assign\|failed to assign\|no space\|not claimed\)"
for x in "0000:01:00.0 a" "0000:03:03.0 b"; do
	set -- $x
	sum=$(head -c 1048576 "$E2E_TMP/$2.img" | sha256sum | cut -d' ' -f1)
	expect_in "$EMBER_LOG" "SHA $1 $sum $sum"
done
expect_in "$EMBER_LOG" "NIC 02:00.0 eth0"
expect_in "$EMBER_LOG" "LEASE 10.0.2.15"

k="-kernel $LAB_KERNEL -M pci"
# shellcheck disable=SC2086
{
expect_usage_error unknown-bus "virtio-blk.*no bus 'rp9'" $k $disks $ports -device virtio-blk-pci,drive=a,bus=rp9
expect_usage_error rp-behind-bridge "pcie-root-port rp3: bus 'br1' is behind a bridge" $k $ports \
	-device pcie-root-port,id=rp3,chassis=3,bus=br1
expect_usage_error taken "virtio-blk.*slot 3 of br1 is taken by" $k $disks $ports \
	-device virtio-blk-pci,drive=a,bus=br1,addr=3 -device virtio-blk-pci,drive=b,bus=br1,addr=3
expect_usage_error one-slot "virtio-blk.*bus rp1 is a root port's: it has slot 0 only" $k $disks $ports \
	-device virtio-blk-pci,drive=a,bus=rp1,addr=1
expect_usage_error loop "pci-bridge br2: bus 'br2' is the one it adds (a loop)" $k -device pci-bridge,id=br2,bus=br2
expect_usage_error chassis-slot "pcie-root-port rp3: chassis 1 slot 2 is taken by rp2" $k $ports \
	-device pcie-root-port,id=rp3,chassis=1,slot=2
}
# Without -M pci there is no PCI bus: the one line says what to add.
# shellcheck disable=SC2086
expect_usage_error no-pci-machine "virtio-blk.*this machine has no PCI bus (add -M pci)" \
	-kernel "$LAB_KERNEL" $disks -device virtio-blk-pci,drive=a
expect_usage_error no-pci-machine-rp "pcie-root-port rp1: this machine has no PCI bus (add -M pci)" \
	-kernel "$LAB_KERNEL" -device pcie-root-port,id=rp1
# -device help: each device's bus kind, and which ones device_add takes.
"$EMBER" -device help >"$E2E_TMP/help.out" 2>&1
expect_in "$E2E_TMP/help.out" '^name "virtio-blk-pci", bus pci, hotpluggable, desc'
expect_in "$E2E_TMP/help.out" '^name "virtio-net-pci", bus pci, hotpluggable, desc'
expect_in "$E2E_TMP/help.out" '^name "pcie-root-port", bus pci, desc'
expect_in "$E2E_TMP/help.out" '^name "isa-serial", bus isa'
expect_not_in "$E2E_TMP/help.out" 'virtio-rng-pci", bus pci, hotpluggable'
