# Network options that are wrong: each one line naming the problem and exit
# status 1, before any guest runs. A tap that cannot be opened (the name of a
# bridge; a descriptor that is not open), malformed MACs, more queue pairs
# than vCPUs, vhost=on where there is no /dev/vhost-net (a mount namespace
# whose /dev lacks it), an unknown -netdev id, an unknown back end.
# e2e-timeout: 120
# e2e-needs: ip
. "$E2E_LIB"
. "$E2E_DIR/net-lib.sh"
need_ember
need_kvm
net_ns
net_bridge br-notap 10.0.9.1/24
K="-kernel $LAB_KERNEL"
# shellcheck disable=SC2086 # $K is two words
{
expect_usage_error tap-is-a-bridge "br-notap" $K -M pci \
	-netdev tap,id=n0,ifname=br-notap -device virtio-net-pci,netdev=n0
expect_usage_error tap-fd-closed "77" $K -M pci \
	-netdev tap,id=n0,fd=77 -device virtio-net-pci,netdev=n0
expect_usage_error mac-not-hex "52:54:00:zz:00:01" $K -M pci \
	-netdev tap,id=n0,ifname=tap0 -device virtio-net-pci,netdev=n0,mac=52:54:00:zz:00:01
expect_usage_error mac-too-short "52:54:00:00:01" $K \
	-netdev tap,id=n0,ifname=tap0 -device virtio-net-device,netdev=n0,mac=52:54:00:00:01
expect_usage_error queues-over-vcpus "queues" $K -M pci -smp 1 \
	-netdev tap,id=n0,ifname=tap0,queues=4 -device virtio-net-pci,netdev=n0,mq=on
expect_usage_error unknown-netdev "nope" $K -M pci \
	-netdev tap,id=n0,ifname=tap0 -device virtio-net-pci,netdev=nope
expect_usage_error unknown-backend "bridge: unknown type (supported: tap, user" $K -M pci \
	-netdev bridge,id=n0 -device virtio-net-pci,netdev=n0
# Limits are ember's own data path, which vhost bypasses.
expect_usage_error rl-vhost "rate limits need vhost=off" $K \
	-netdev tap,id=n1,vhost=on,tx-bps=1M -device virtio-net-device,netdev=n1
}
# No /dev/vhost-net: ember runs in a mount namespace whose /dev is a tmpfs
# holding copies of the nodes it needs, and no vhost-net.
cat >"$E2E_TMP/novhost" <<'WRAP'
#!/bin/sh
exec unshare -m sh -c '
	mkdir -p /tmp/nodev && mount -t tmpfs nodev /tmp/nodev && mkdir /tmp/nodev/net &&
	cp -a /dev/kvm /dev/null /dev/zero /dev/urandom /dev/random /tmp/nodev/ &&
	cp -a /dev/net/tun /tmp/nodev/net/ && mount --move /tmp/nodev /dev || exit 99
	[ ! -e /dev/vhost-net ] || exit 98
	exec "$0" "$@"' "$REAL_EMBER" "$@"
WRAP
chmod +x "$E2E_TMP/novhost"
modprobe -q vhost_net 2>/dev/null # there on the host: only the namespace hides it
REAL_EMBER=$EMBER
export REAL_EMBER
EMBER=$E2E_TMP/novhost
# shellcheck disable=SC2086
expect_usage_error vhost-missing "vhost-net" $K -M pci \
	-netdev tap,id=n0,ifname=tap0,vhost=on -device virtio-net-pci,netdev=n0
EMBER=$REAL_EMBER
# Nothing was left behind.
"$NET_IP" link show tap0 >/dev/null 2>&1 && fail "tap0 was left behind"
true
