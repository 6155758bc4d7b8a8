# Snapshot and restore of a guest with virtio-net on a tap, on virtio-mmio
# and on virtio-pci: the guest pings L1 through tap0, QMP migrate "file:"
# saves it, ember is killed (its tap goes), a new ember restores it with
# -incoming and makes tap0 again from its own command line; L1 gives the
# new tap the same address and MAC, and the restored guest pings again
# without losing a reply, its count going on from where it was.
# e2e-timeout: 420
# e2e-needs: socat ip
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
# shellcheck source=../net-lib.sh
. "$E2E_DIR/net-lib.sh"
need_kvm
need_cmd socat
net_ns
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
ip link set eth0 up
ip addr add 10.0.2.2/24 dev eth0
ping -c 2 -W 5 10.0.2.1 >/tmp/p 2>&1 && echo PING1-OK
( i=0; while :; do i=$((i + 1)); echo "COUNT $i"; sleep 1; done ) &
echo READY-FOR-INPUT
while read -r line; do
	echo "GOT:$line:END"
	if [ "$line" = ping ]; then
		ping -c 3 -W 3 10.0.2.1 >/tmp/p 2>&1
		if grep -q ' 0% packet loss' /tmp/p; then echo PING2-OK; else cat /tmp/p; fi
	fi
	[ "$line" = off ] && break
done
poweroff -f
GUEST

# tap_up: L1's end of tap0, the same each time (address and MAC).
tap_up() {
	_i=0
	while ! "$NET_IP" link show dev tap0 >/dev/null 2>&1; do
		[ $_i -lt 150 ] || { cat "$EMBER_LOG"; fail "no tap0"; }
		sleep 0.2
		_i=$((_i + 1))
	done
	"$NET_IP" link set tap0 address 02:e2:00:00:00:01 &&
		"$NET_IP" addr add 10.0.2.1/24 dev tap0 && "$NET_IP" link set tap0 up ||
		fail "cannot set tap0 up"
}

# start NAME ARGS...: ember with the guest and tap0 (qmp_ember_typed).
start() {
	_n=$1
	shift
	# shellcheck disable=SC2086 # $machine: words
	qmp_ember_typed "$_n" $machine -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M \
		-smp 2 -append "$E2E_APPEND" -serial stdio -netdev tap,id=n0,ifname=tap0 \
		-device "$dev,netdev=n0,mac=52:54:00:e2:00:01,id=nic0" \
		-qmp "unix:$QMP_SOCK,server=on,wait=off" "$@"
	tap_up
	wait_sock "$QMP_SOCK"
}

for transport in mmio pci; do
	if [ $transport = pci ]; then machine="-M pci" dev=virtio-net-pci; else machine='' dev=virtio-net-device; fi
	snap=$E2E_TMP/snap-$transport
	note "transport $transport"
	start src-$transport
	wait_for "$EMBER_LOG" PING1-OK 180
	wait_for "$EMBER_LOG" "COUNT 3" 60
	client_open a 3 "$QMP_SOCK"
	expect_reply a 3 a0 '{"execute": "qmp_capabilities", "id": "a0"}' '{"return":{},"id":"a0"}'
	expect_reply a 3 a1 "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"file:$snap\"}, \"id\": \"a1\"}" \
		'{"return":{},"id":"a1"}'
	n=$(sed -n 's/^COUNT \([0-9]*\).*/\1/p' "$EMBER_LOG" | tail -n 1)
	exec 3>&-
	kill -9 "$EMBER_PID"
	wait "$EMBER_PID" 2>/dev/null
	exec 7>&-
	_i=0
	while "$NET_IP" link show dev tap0 >/dev/null 2>&1 && [ $_i -lt 50 ]; do sleep 0.2; _i=$((_i + 1)); done

	start dst-$transport -incoming "file:$snap"
	wait_for "$EMBER_LOG" "COUNT $((n + 1))" 60
	expect_eq "$(sed -n 's/^COUNT \([0-9]*\).*/\1/p' "$EMBER_LOG" | head -n 1)" "$((n + 1))" \
		"first count after the restore ($transport)"
	printf 'ping\n' >&7
	wait_for "$EMBER_LOG" "GOT:ping:END" 30
	wait_for "$EMBER_LOG" "PING2-OK\|packet loss" 60
	expect_in "$EMBER_LOG" PING2-OK
	printf 'off\n' >&7
	ember_exit 0
	exec 7>&-
done
