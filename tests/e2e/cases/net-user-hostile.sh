# -netdev user against a hostile guest: tests/e2e/hostile/raw_frames sends
# IPv4 fragments through an AF_PACKET socket. A last fragment whose first
# never comes kills libslirp 4.7.0 (Debian 12's) with SIGSEGV/SIGBUS when it
# sees it; ember reassembles fragments itself and hands slirp only whole
# datagrams (backends/net_user_frag.c). Then an ICMP echo to the gateway in
# two fragments, last one first (answered whole), 3000 random frames with
# random fragment fields, and the guest kernel's own fragments (ping -s
# 3000): ember stays up, the guest still reaches slirp, ember exits 0.
# e2e-timeout: 120
. "$E2E_LIB"
# shellcheck source=../net-lib.sh
. "$E2E_DIR/net-lib.sh"
need_ember
need_kvm
raw=$E2E_DIR/hostile/bin/raw_frames
[ -x "$raw" ] || fail "$raw is missing (tests/e2e/run builds it on the host)"
make_initrd "$E2E_TMP/initrd" --file "$raw:/bin/raw_frames" --script - <<'GUEST'
ip link set eth0 up
cat >/tmp/dhcp.sh <<'EOF2'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
EOF2
chmod +x /tmp/dhcp.sh
udhcpc -i eth0 -n -q -t 10 -T 2 -s /tmp/dhcp.sh >/dev/null 2>&1 || echo DHCP-FAILED
ping -c 1 -W 2 10.0.2.2 >/dev/null 2>&1 && echo PING-BEFORE-OK
raw_frames eth0 lone-last
raw_frames eth0 ping-reversed
raw_frames eth0 random 3000 7
raw_frames eth0 lone-last
ping -c 2 -W 2 -s 3000 10.0.2.2 >/tmp/ping 2>&1 && echo BIG-PING-OK || cat /tmp/ping
echo GUEST-DONE
GUEST
log=$E2E_TMP/ember.log
"$EMBER" -M pci -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
	-kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	</dev/null >"$log" 2>&1 &
pid=$!
net_ember_end "$pid" "$log" virtio-net-pci 900
expect_in "$log" PING-BEFORE-OK
expect_in "$log" "SENT lone-last"
expect_in "$log" "REPLY len=1042 ok"
expect_in "$log" "SENT random 3000"
expect_in "$log" BIG-PING-OK
expect_in "$log" GUEST-DONE
expect_in "$log" "dropping malformed or overlapping IPv4 fragments from the guest"
