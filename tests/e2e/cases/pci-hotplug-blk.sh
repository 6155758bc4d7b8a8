# Native PCIe hot-plug of a disk through QMP: blockdev-add opens the image
# (raw over a nested file node), device_add puts a virtio-blk-pci on it
# into the empty slot of pcie-root-port rp1; the guest's pciehp sees it
# arrive (01:00.0), the guest writes 1 MiB to it (L1 finds the same bytes
# in the image); device_del presses the slot's attention button, the guest
# lets go and powers the slot off, ember deletes the device
# (DEVICE_DELETED), the guest no longer sees it, and blockdev-del closes
# the image (refused while the disk used it). Repeated
# E2E_HOTPLUG_CYCLES times (default 3 in the suite; the issue asks 50:
# E2E_HOTPLUG_CYCLES=50 tests/e2e/run pci-hotplug-blk): ember's open fds and RSS end where they
# were after the first cycle. Bad input gets one clear error each: a second
# device_del before the guest let go, a missing back end, a taken slot, a
# bus that is not a hot-plug slot, a device that cannot be hot-plugged,
# device_del of an unknown id and of a device not in a hot-plug slot.
# e2e-timeout: 300
# e2e-needs: socat
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
need_kvm
need_cmd socat
cycles=${E2E_HOTPLUG_CYCLES:-3}
truncate -s 8M "$E2E_TMP/hot.img" "$E2E_TMP/boot.img"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo GUEST-UP
c=0
while :; do
	c=$((c + 1))
	vd=
	while [ -z "$vd" ]; do
		vd=$(ls /sys/bus/pci/devices/0000:01:00.0/virtio*/block 2>/dev/null)
		sleep 0.1
	done
	dd if=/dev/urandom of=/tmp/p bs=64k count=16 2>/dev/null
	dd if=/tmp/p of="/dev/$vd" bs=64k conv=fsync 2>/dev/null || echo "WRITE-FAILED $c"
	echo "ADD $c $vd $(sha256sum </tmp/p | cut -d' ' -f1)"
	while [ -e /sys/bus/pci/devices/0000:01:00.0 ]; do sleep 0.1; done
	echo "DEL $c $(ls /sys/block | grep -c vd)"
done
GUEST
qmp_ember -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M \
	-append "$E2E_APPEND" -serial stdio \
	-device pcie-root-port,id=rp1,chassis=1,slot=1 -device pcie-root-port,id=rp2,chassis=1,slot=2 \
	-blockdev driver=file,node-name=boot,filename="$E2E_TMP/boot.img" \
	-device virtio-blk-pci,drive=boot,id=boot0 \
	-qmp "unix:$QMP_SOCK,server=on,wait=off"
# shellcheck disable=SC2064
trap "kill $EMBER_PID 2>/dev/null; tail -n 40 '$EMBER_LOG' | sed 's/^/| /'" EXIT
wait_sock "$QMP_SOCK"
client_open a 3 "$QMP_SOCK"
expect_reply a 3 n '{"execute": "qmp_capabilities", "id": "n"}' '{"return":{},"id":"n"}'
wait_for "$EMBER_LOG" GUEST-UP 60
# pciehp took the slot at boot.
sleep 1

add='{"execute": "device_add", "arguments": {"driver": "virtio-blk-pci", "drive": "hot", "bus": "rp1", "id": "hd1"}'
fds0= rss0=
i=1
blockdev_add='{"execute": "blockdev-add", "arguments": {"driver": "raw", "node-name": "hot", "file": {"driver": "file", "filename": "'"$E2E_TMP/hot.img"'"}}'
while [ $i -le "$cycles" ]; do
	expect_reply a 3 "bd$i" "$blockdev_add, \"id\": \"bd$i\"}" "{\"return\":{},\"id\":\"bd$i\"}"
	expect_reply a 3 "add$i" "$add, \"id\": \"add$i\"}" "{\"return\":{},\"id\":\"add$i\"}"
	wait_for "$EMBER_LOG" "^ADD $i vd" 60
	sum=$(head -c 1048576 "$E2E_TMP/hot.img" | sha256sum | cut -d' ' -f1)
	expect_in "$EMBER_LOG" "^ADD $i vd[a-z]* $sum"
	if [ $i = 1 ]; then
		expect_reply a 3 busy '{"execute": "blockdev-del", "arguments": {"node-name": "hot"}, "id": "busy"}' \
			"\"desc\":\"blockdev-del: drive 'hot' is busy: -device virtio-blk-pci"
		expect_reply a 3 taken '{"execute": "device_add", "arguments": {"driver": "virtio-blk-pci", "drive": "boot", "bus": "rp1", "id": "hd9"}, "id": "taken"}' \
			'"desc":"device_add virtio-blk-pci: the slot of rp1 is taken by virtio-blk hd1'
	fi
	expect_reply a 3 "del$i" "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"hd1\"}, \"id\": \"del$i\"}" \
		"{\"return\":{},\"id\":\"del$i\"}"
	if [ $i = 1 ]; then
		expect_reply a 3 again '{"execute": "device_del", "arguments": {"id": "hd1"}, "id": "again"}' \
			'"desc":"device_del hd1: an unplug is already in progress: the guest has not let go of it'
	fi
	wait_count a '"event":"DEVICE_DELETED","data":{"device":"hd1","path":"/machine/peripheral/hd1"}' $i
	wait_for "$EMBER_LOG" "^DEL $i 1" 30
	expect_reply a 3 "bdd$i" "{\"execute\": \"blockdev-del\", \"arguments\": {\"node-name\": \"hot\"}, \"id\": \"bdd$i\"}" \
		"{\"return\":{},\"id\":\"bdd$i\"}"
	if [ $i = 1 ]; then
		fds0=$(ls /proc/$EMBER_PID/fd | wc -l)
		rss0=$(awk '/^VmRSS/ { print $2 }' /proc/$EMBER_PID/status)
	fi
	i=$((i + 1))
done
fds=$(ls /proc/$EMBER_PID/fd | wc -l)
rss=$(awk '/^VmRSS/ { print $2 }' /proc/$EMBER_PID/status)
note "$cycles cycles: open fds $fds0 -> $fds, RSS $rss0 -> $rss KiB"
expect_eq "$fds" "$fds0" "ember's open fds after $cycles add/remove cycles"
[ "$rss" -le $((rss0 + 2048)) ] || fail "RSS grew from $rss0 to $rss KiB over $cycles cycles"
expect_not_in "$EMBER_LOG" WRITE-FAILED

expect_reply a 3 gone '{"execute": "device_del", "arguments": {"id": "hd1"}, "id": "gone"}' \
	'{"error":{"class":"DeviceNotFound","desc":"Device '"'hd1'"' not found"},"id":"gone"}'
expect_reply a 3 nodrive '{"execute": "device_add", "arguments": {"driver": "virtio-blk-pci", "drive": "nope", "bus": "rp1", "id": "hd2"}, "id": "nodrive"}' \
	"nope"
expect_reply a 3 notslot '{"execute": "device_add", "arguments": {"driver": "virtio-blk-pci", "drive": "hot", "bus": "pci.0", "id": "hd2"}, "id": "notslot"}' \
	"bus 'pci.0' is not a pcie-root-port with hotplug=on"
expect_reply a 3 nohot '{"execute": "device_add", "arguments": {"driver": "virtio-rng-pci", "bus": "rp2", "id": "rng"}, "id": "nohot"}' \
	'"desc":"device_add virtio-rng-pci: this device cannot be hot-plugged'
expect_reply a 3 nodel '{"execute": "device_del", "arguments": {"id": "boot0"}, "id": "nodel"}' \
	"bus 'pci.0' is not a pcie-root-port with hotplug=on"
expect_reply a 3 nonode '{"execute": "blockdev-del", "arguments": {"node-name": "hot"}, "id": "nonode"}' \
	"\"desc\":\"blockdev-del: no node 'hot'"
# After the failed adds the slot is still free and works.
expect_reply a 3 bdlast "$blockdev_add, \"id\": \"bdlast\"}" '{"return":{},"id":"bdlast"}'
expect_reply a 3 last '{"execute": "device_add", "arguments": {"driver": "virtio-blk-pci", "drive": "hot", "bus": "rp1", "id": "hd3"}, "id": "last"}' \
	'{"return":{},"id":"last"}'
wait_for "$EMBER_LOG" "^ADD $i vd" 60
expect_reply a 3 q '{"execute": "quit", "id": "q"}' '{"return":{},"id":"q"}'
ember_exit 0
