# A QEMU q35 quick start where only the machine differs (-M pci): a raw
# disk through -drive if=virtio (a virtio-blk-pci device), a network card
# through -nic tap (a virtio-net-pci device with its mac=), -enable-kvm,
# -name, -uuid, -m 1G,slots=2,maxmem=4G, -serial mon:stdio, and QEMU's
# options that only tune QEMU itself (accepted, changing nothing):
# -no-user-config, -nographic, aio=native, -M dump-guest-core/mem-merge,
# -rtc driftfix=slew, -name debug-threads, -smp's topology keys. The guest
# sees the disk on PCI, 1 GiB of RAM and its console; -msg timestamp=on
# stamps ember's lines.
# e2e-timeout: 240
# shellcheck source=../lib.sh
. "$E2E_LIB"
need_ember
need_kvm
modprobe tun 2>/dev/null
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing after modprobe tun"
truncate -s 8M disk.img
printf 'QUICKSTART-DISK-4567' | dd of=disk.img conv=notrunc 2>/dev/null
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "DISK:$(head -c 20 /dev/vda)"
# the disk's device is a PCI function of virtio's vendor
echo "VDA-ON:$(cat "$(readlink -f /sys/block/vda/device)/../vendor")"
echo "NIC:$(cat /sys/class/net/eth0/address) $(cat "$(readlink -f /sys/class/net/eth0/device)/../vendor")"
echo "MEM:$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
echo "CPUS:$(grep -c ^processor /proc/cpuinfo)"
GUEST
run_ember --timeout 200 -M pci,accel=kvm,dump-guest-core=off,mem-merge=off,usb=off \
	-enable-kvm -cpu host -smp 2,sockets=1,cores=2,threads=1,maxcpus=2 -m 1G,slots=2,maxmem=4G \
	-name quickstart,debug-threads=on -uuid 6a6b3c2e-1d4f-4e5a-9b8c-7d6e5f4a3b2c \
	-kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" \
	-drive file=disk.img,if=virtio,format=raw,cache=writeback,aio=native \
	-nic tap,script=no,downscript=no,model=virtio-net-pci,mac=52:54:00:ab:cd:ef \
	-rtc base=utc,driftfix=slew -msg timestamp=on \
	-no-user-config -nographic -serial mon:stdio
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "DISK:QUICKSTART-DISK-4567"
expect_in "$EMBER_LOG" "VDA-ON:0x1af4"
expect_in "$EMBER_LOG" "NIC:52:54:00:ab:cd:ef 0x1af4"
expect_in "$EMBER_LOG" "CPUS:2"
mem=$(sed -n 's/^MEM:\([0-9]*\).*/\1/p' "$EMBER_LOG")
[ -n "$mem" ] && [ "$mem" -gt 900000 ] && [ "$mem" -le 1048576 ] ||
	fail "the guest's MemTotal is '$mem' kB, not about 1 GiB"
expect_in "$EMBER_LOG" "^20[0-9-]*T[0-9:.]*Z ember: guest powered off"
