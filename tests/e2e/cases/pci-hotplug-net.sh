# Native PCIe hot-plug of a NIC through QMP, twice: device_add puts a
# virtio-net-pci on netdev n0 (tap0, bridged with L1's 10.0.0.1) into the
# empty slot of pcie-root-port rp1; the guest's pciehp sees it arrive
# (01:00.0), the guest configures it and pings L1 through it; device_del:
# the guest lets go, DEVICE_DELETED comes, and the guest no longer has it.
# e2e-timeout: 240
# e2e-needs: socat ip
. "$E2E_LIB"
. "$E2E_DIR/net-lib.sh"
. "$E2E_DIR/qmp-lib.sh"
need_kvm
need_cmd socat
net_ns
net_bridge br0 10.0.0.1/24
make_initrd "$E2E_TMP/initrd" --file "$NET_GUEST:/net-guest.sh" --script - <<'GUEST'
. /net-guest.sh
echo GUEST-UP
c=0
while :; do
	c=$((c + 1))
	nic=
	while [ -z "$nic" ]; do
		nic=$(ls /sys/bus/pci/devices/0000:01:00.0/virtio*/net 2>/dev/null)
		sleep 0.1
	done
	ip addr add 10.0.0.2/24 dev "$nic" && ip link set "$nic" up
	echo "ADD $c $nic $(net_ping 10.0.0.1)"
	while [ -e /sys/bus/pci/devices/0000:01:00.0 ]; do sleep 0.1; done
	echo "DEL $c $(ls /sys/class/net | grep -c eth)"
done
GUEST
qmp_ember -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M \
	-append "$E2E_APPEND" -serial stdio \
	-device pcie-root-port,id=rp1,chassis=1,slot=1 \
	-netdev tap,id=n0,ifname=tap0 \
	-qmp "unix:$QMP_SOCK,server=on,wait=off"
# shellcheck disable=SC2064
trap "kill $EMBER_PID 2>/dev/null; tail -n 40 '$EMBER_LOG' | sed 's/^/| /'" EXIT
VM_PID=$EMBER_PID
net_attach tap0 br0
wait_sock "$QMP_SOCK"
client_open a 3 "$QMP_SOCK"
expect_reply a 3 n '{"execute": "qmp_capabilities", "id": "n"}' '{"return":{},"id":"n"}'
wait_for "$EMBER_LOG" GUEST-UP 60
sleep 1
for i in 1 2; do
	expect_reply a 3 "add$i" "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"virtio-net-pci\", \"netdev\": \"n0\", \"bus\": \"rp1\", \"id\": \"nic1\", \"mac\": \"52:54:00:e2:00:01\"}, \"id\": \"add$i\"}" \
		"{\"return\":{},\"id\":\"add$i\"}"
	wait_for "$EMBER_LOG" "^ADD $i " 90
	expect_in "$EMBER_LOG" "^ADD $i eth0 PING 10.0.0.1 ok"
	expect_reply a 3 "del$i" "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"nic1\"}, \"id\": \"del$i\"}" \
		"{\"return\":{},\"id\":\"del$i\"}"
	wait_count a '"event":"DEVICE_DELETED","data":{"device":"nic1","path":"/machine/peripheral/nic1"}' $i
	wait_for "$EMBER_LOG" "^DEL $i 0" 30
done
expect_reply a 3 q '{"execute": "quit", "id": "q"}' '{"return":{},"id":"q"}'
ember_exit 0
