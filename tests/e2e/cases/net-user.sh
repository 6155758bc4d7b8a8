# -netdev user (libslirp, dlopen()ed by the static ember): the guest takes
# its address by DHCP (busybox udhcpc), reaches a TCP server on L1's
# 127.0.0.1 through the gateway 10.0.2.2, moves 8 MiB each way through
# slirp (sha256 checked), then serves one connection on port 22 that L1
# reaches through hostfwd=tcp::5555-:22. The guest negotiates no checksum
# or segmentation offload. virtio-net-pci (-netdev user plus -device), then
# virtio-net-device (mmio) from QEMU's shorthand -nic user,hostfwd=...
# With the sandbox on (the default). L1 has no network card: all of it is
# loopback inside L1. An ember without a user netdev maps neither libslirp
# nor a dynamic loader. Then bad hostfwd= values.
# e2e-timeout: 500
. "$E2E_LIB"
# shellcheck source=../net-lib.sh
. "$E2E_DIR/net-lib.sh"
need_ember
need_kvm
ip link set lo up 2>/dev/null
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
ip link set lo up
ip link set eth0 up
cat >/tmp/dhcp.sh <<'EOF'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
ip route add default via "$router"
echo "DHCP ip=$ip router=$router dns=$dns" >/tmp/lease
EOF
chmod +x /tmp/dhcp.sh
udhcpc -i eth0 -n -q -t 10 -T 2 -s /tmp/dhcp.sh >/tmp/udhcpc.log 2>&1 ||
	{ cat /tmp/udhcpc.log; echo DHCP-FAILED; }
cat /tmp/lease
echo "ADDR $(ip addr show dev eth0 | awk '/inet / { print $2 }')"
echo "FEATURES $(cat /sys/bus/virtio/devices/*/features | head -n 1)"
# An ICMP echo and a DNS query: their answers depend on L1 (no ICMP sockets,
# no resolver), but slirp's calls for them must pass the sandbox.
timeout 5 ping -c 1 -W 2 10.0.2.2 >/dev/null 2>&1
timeout 10 nslookup example.com 10.0.2.3 >/dev/null 2>&1
echo ICMP-DNS-TRIED
timeout 30 nc 10.0.2.2 6001 -e sh -c 'cat >/tmp/gw'
echo "GW $(cat /tmp/gw)"
t0=$(cut -d' ' -f1 /proc/uptime)
timeout 150 nc 10.0.2.2 6002 -e sh -c 'cat >/tmp/rx'
echo "RXSUM $(sha256sum </tmp/rx | cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/tx bs=1M count=8 2>/dev/null
echo "TXSUM $(sha256sum </tmp/tx | cut -d' ' -f1)"
timeout 150 nc 10.0.2.2 6003 -e cat /tmp/tx
echo "BULK-SECONDS $t0 $(cut -d' ' -f1 /proc/uptime)"
echo LISTENING
timeout 60 nc -l -p 22 -e echo HELLO-FROM-GUEST
echo SERVED
GUEST
dd if=/dev/urandom of="$E2E_TMP/l1data" bs=1M count=8 2>/dev/null
l1sum=$(sha256sum <"$E2E_TMP/l1data" | cut -d' ' -f1)

# user NAME DEVICE ARGS...: boot with a user netdev, serve the guest's
# connections in L1, reach the guest through the forward, check it all.
user() {
	_name=$1 _log=$E2E_TMP/ember-$1.log
	_dev=$2
	shift 2
	rm -f "$E2E_TMP/in" "$E2E_TMP/fwd"
	timeout 300 nc -l -p 6001 -e echo HELLO-FROM-L1 &
	timeout 300 nc -l -p 6002 -e cat "$E2E_TMP/l1data" &
	timeout 300 nc -l -p 6003 >"$E2E_TMP/in" &
	if [ "$_name" = nic ]; then
		# QEMU's quick-start shorthand: -nic picks the machine's virtio-net.
		set -- "$@" -nic user,hostfwd=tcp::5555-:22,mac=52:54:00:aa:bb:02
	else
		set -- "$@" -netdev user,id=n0,hostfwd=tcp::5555-:22 \
			-device "$_dev,netdev=n0,mac=52:54:00:aa:bb:02"
	fi
	"$EMBER" "$@" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
		-append "$E2E_APPEND" </dev/null >"$_log" 2>&1 &
	_pid=$!
	# The guest says when it listens; a connection before that is reset by it.
	_i=0
	while kill -0 "$_pid" 2>/dev/null && ! grep -q '^LISTENING' "$_log"; do
		_i=$((_i + 1))
		[ "$_i" -lt 3000 ] || break
		sleep 0.1
	done
	grep -c libslirp "/proc/$_pid/maps" >"$E2E_TMP/maps-$_name" 2>/dev/null
	_i=0
	while kill -0 "$_pid" 2>/dev/null && ! grep -q HELLO-FROM-GUEST "$E2E_TMP/fwd" 2>/dev/null; do
		_i=$((_i + 1))
		[ "$_i" -lt 30 ] || break
		timeout 10 nc 127.0.0.1 5555 -e sh -c "cat >$E2E_TMP/fwd"
		sleep 1
	done
	net_ember_end "$_pid" "$_log" "$_dev" 1200
	expect_in "$_log" "DHCP ip=10.0.2.15 router=10.0.2.2 dns=10.0.2.3"
	expect_in "$_log" "ADDR 10.0.2.15/24"
	# Feature bits 0 and 1 (CSUM, GUEST_CSUM) off: slirp deals in plain frames.
	expect_in "$_log" "FEATURES 00"
	expect_in "$_log" ICMP-DNS-TRIED
	expect_in "$_log" "GW HELLO-FROM-L1"
	expect_in "$_log" "RXSUM $l1sum"
	expect_in "$_log" "TXSUM $(sha256sum <"$E2E_TMP/in" | cut -d' ' -f1)"
	expect_in "$E2E_TMP/fwd" HELLO-FROM-GUEST
	expect_in "$_log" SERVED
	[ "$(cat "$E2E_TMP/maps-$_name")" -gt 0 ] || fail "$_dev: libslirp is not mapped in ember"
	note "$_dev: 16 MiB through slirp in $(awk '/^BULK-SECONDS/ { printf "%.1f", $3 - $2 }' "$_log") s"
}
user pci virtio-net-pci -M pci
user nic virtio-net-device

# Without a user netdev libslirp (and GLib) is never loaded: no resident cost.
make_initrd "$E2E_TMP/initrd-idle" --script - <<'GUEST'
echo IDLE-UP
sleep 4
GUEST
"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd-idle" -m 256 -append "$E2E_APPEND" \
	</dev/null >"$E2E_TMP/ember-idle.log" 2>&1 &
idle=$!
wait_for "$E2E_TMP/ember-idle.log" IDLE-UP 60
grep -q /ember "/proc/$idle/maps" || fail "cannot read the idle ember's /proc/PID/maps"
grep -q ld-linux "/proc/$idle/maps" && fail "ember without a user netdev mapped a dynamic loader"
grep -q libslirp "/proc/$idle/maps" && fail "ember without a user netdev mapped libslirp"
wait "$idle"
expect_eq "$?" 0 "ember exit status (no netdev)"

# Bad input: one clear line each, exit status 1, before the guest.
expect_usage_error port "hostfwd=tcp::99999-:22: the host port is not a number 0..65535" \
	-kernel "$LAB_KERNEL" -netdev user,id=n0,hostfwd=tcp::99999-:22
expect_usage_error proto "hostfwd=sctp::5555-:22: the protocol is tcp or udp" \
	-kernel "$LAB_KERNEL" -netdev user,id=n0,hostfwd=sctp::5555-:22
timeout 60 nc -l -p 5556 >/dev/null &
busy=$!
sleep 0.5
expect_usage_error in-use "hostfwd=tcp::5556-:22: cannot listen on tcp 0.0.0.0:5556: Address already in use" \
	-kernel "$LAB_KERNEL" -netdev user,id=n0,hostfwd=tcp::5556-:22
kill "$busy" 2>/dev/null
expect_usage_error net "net= has bits set outside its prefix" \
	-kernel "$LAB_KERNEL" -netdev user,id=n0,net=10.0.2.1/24
