# virtio-net smoke test: in a fresh network namespace of L1, ember creates
# tap0 (-netdev tap,ifname=tap0), L1 gives it 10.0.2.1, the guest takes
# 10.0.2.2 on eth0 and pings L1 five times; all five answers must come back.
# Then 16 MiB each way over TCP (busybox nc), checked with sha256: large
# segments exercise TSO, checksum offload and mergeable receive buffers.
# Then the same over virtio-mmio. With the sandbox on (the default).
# e2e-timeout: 400
. "$E2E_LIB"
# shellcheck source=../net-lib.sh
. "$E2E_DIR/net-lib.sh"
need_ember
need_kvm
# The whole case runs in its own network namespace: only the taps are there.
if [ -z "${NET_SMOKE_NS:-}" ]; then
	modprobe tun 2>/dev/null
	[ -c /dev/net/tun ] || fail "/dev/net/tun is missing after modprobe tun"
	NET_SMOKE_NS=1 exec unshare -n sh "$0"
fi
ip link set lo up
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
ip link set eth0 up
ip addr add 10.0.2.2/24 dev eth0
echo "MAC $(cat /sys/class/net/eth0/address)"
echo "QUEUES $(ls /sys/class/net/eth0/queues | tr '\n' ' ')"
echo "FEATURES $(cat /sys/class/net/eth0/device/features 2>/dev/null || cat /sys/bus/virtio/devices/*/features | head -n 1)"
ping -c 5 -W 3 10.0.2.1 >/tmp/ping.log 2>&1
cat /tmp/ping.log
grep -q ' 0% packet loss' /tmp/ping.log && echo PING-OK
dd if=/dev/urandom of=/tmp/tx bs=1M count=16 2>/dev/null
echo "TXSUM $(sha256sum </tmp/tx | cut -d' ' -f1)"
t0=$(cut -d' ' -f1 /proc/uptime)
timeout 120 nc 10.0.2.1 5001 -e cat /tmp/tx
t1=$(cut -d' ' -f1 /proc/uptime)
timeout 120 nc 10.0.2.1 5002 -e sh -c 'cat >/tmp/rx'
t2=$(cut -d' ' -f1 /proc/uptime)
echo "RXSUM $(sha256sum </tmp/rx | cut -d' ' -f1)"
echo "BULK-SECONDS $t0 $t2"
echo "TX-SECONDS $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
echo "RX-SECONDS $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')"
GUEST
dd if=/dev/urandom of="$E2E_TMP/l1data" bs=1M count=16 2>/dev/null
l1sum=$(sha256sum <"$E2E_TMP/l1data" | cut -d' ' -f1)

# smoke NAME NETDEV_OPTS DEVICE ARGS...: boot, configure tap0 once ember made
# it, check the ping and the transfers.
smoke() {
	_log=$E2E_TMP/ember-$1.log
	_nd=$2
	_dev=$3
	shift 3
	"$EMBER" "$@" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
		-append "$E2E_APPEND" -netdev "tap,id=n0,ifname=tap0$_nd" \
		-device "$_dev,netdev=n0,mac=52:54:00:aa:bb:01" </dev/null >"$_log" 2>&1 &
	_pid=$!
	_i=0
	until ip link show tap0 >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ "$_i" -lt 100 ] || { kill "$_pid"; cat "$_log"; fail "ember made no tap0"; }
		sleep 0.1
	done
	ip addr add 10.0.2.1/24 dev tap0 && ip link set tap0 up || fail "cannot configure tap0"
	rm -f "$E2E_TMP/in"
	timeout 200 nc -l -p 5001 >"$E2E_TMP/in" &
	timeout 200 nc -l -p 5002 -e cat "$E2E_TMP/l1data" &
	net_ember_end "$_pid" "$_log" "$_dev" 1500
	expect_in "$_log" "MAC 52:54:00:aa:bb:01"
	expect_in "$_log" PING-OK
	expect_in "$_log" "TXSUM $(sha256sum <"$E2E_TMP/in" | cut -d' ' -f1)"
	expect_in "$_log" "RXSUM $l1sum"
	note "$_dev: 32 MiB in $(awk '/^BULK-SECONDS/ { printf "%.1f", $3 - $2 }' "$_log") s"
	# The tap went away with ember.
	! ip link show tap0 >/dev/null 2>&1 || fail "tap0 outlived ember"
}
case "$E2E_CASE" in
net-smoke)
	smoke pci "" virtio-net-pci -M pci
	smoke mmio "" virtio-net-device
	# Bad input: one clear line each, exit status 1.
	expect_usage_error ifname "ifname 'a-very-long-tap-name': a tap name has 1 to 15" \
		-kernel "$LAB_KERNEL" -netdev tap,id=n0,ifname=a-very-long-tap-name
	expect_usage_error not-tap "cannot open tap 'lo': the name is taken" \
		-kernel "$LAB_KERNEL" -netdev tap,id=n0,ifname=lo
	expect_usage_error mac "mac=52:54:00:zz:00:01: use six hex bytes" -kernel "$LAB_KERNEL" \
		-netdev tap,id=n0 -device virtio-net-device,netdev=n0,mac=52:54:00:zz:00:01
	expect_usage_error queues "2 queue pairs but 1 vCPUs" -kernel "$LAB_KERNEL" \
		-netdev tap,id=n0,queues=2 -device virtio-net-device,netdev=n0,mq=on
	;;
net-mq-vhost)
	# Two queue pairs for two vCPUs: the guest uses both.
	smoke mq ",queues=2" virtio-net-pci,mq=on -M pci -smp 2
	expect_in "$E2E_TMP/ember-mq.log" "QUEUES rx-0 rx-1 tx-0 tx-1"
	# The kernel's vhost-net, on both transports, then with two pairs.
	modprobe vhost_net 2>/dev/null
	[ -c /dev/vhost-net ] || fail "/dev/vhost-net is missing after modprobe vhost_net"
	# (vhost on virtio-mmio is the two-pair run: a separate one-pair boot
	# cost the CI 18 s for nothing that run does not show)
	smoke vhost-pci ",vhost=on" virtio-net-pci -M pci
	smoke vhost-mq ",vhost=on,queues=2" virtio-net-device,mq=on -smp 2
	expect_in "$E2E_TMP/ember-vhost-mq.log" "QUEUES rx-0 rx-1 tx-0 tx-1"
	;;
*) fail "no scenario for $E2E_CASE" ;;
esac
