# Rate limits, measured from L1 with iperf3 over 8 s (after 2 s left out,
# which absorb the full bucket at the start; the unlimited directions over 3 s): eth0 has tx-bps=10000000 (guest
# to L1), eth1 rx-bps=10000000 (L1 to guest). Each limited direction must
# carry at most 11 MB/s (the limit +10 %) and at least 5 MB/s (it flows); the
# other direction of each NIC is unlimited and must carry at least 12.5 MB/s
# (so that the lab is fast enough for the test to mean something, and each
# limit holds only where it is set). The limiter's accuracy is test_ratelimit's
# (a fake clock); here a loaded machine only slows the lab, which the lower
# bound allows for (7.3 MB/s was seen with three L1s on two cores).
# e2e-timeout: 300
# e2e-needs: iperf3 ip ethtool qemu
. "$E2E_LIB"
. "$E2E_DIR/net-lib.sh"
need_kvm
net_ns
net_bridge br0 10.0.0.1/24
net_bridge br1 10.0.1.1/24
net_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
. /net-guest.sh
net_config
net_ping 10.0.0.1 && net_ping 10.0.1.1 || exit 1
iperf3 -s -D -p 5201
net_hold
GUEST
m0=52:54:00:e2:00:01 m1=52:54:00:e2:00:02
net_vm_start -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND e2e.net=$m0=10.0.0.2/24,$m1=10.0.1.2/24" \
	-netdev tap,id=n0,ifname=tap0,tx-bps=10000000 -device virtio-net-pci,netdev=n0,mac=$m0 \
	-netdev tap,id=n1,ifname=tap1,rx-bps=10000000 -device virtio-net-pci,netdev=n1,mac=$m1
net_attach tap0 br0
net_attach tap1 br1
net_wait_line "^HOLDING"
# NAME GUEST-ADDR SECS [-R]: SECS measured after 2 s omitted; MB/s received.
# A run that stalls (once seen on the rx-limited NIC) ends after 60 s and fails.
NET_IPERF_TIMEOUT=60
measure() {
	net_iperf "$1" "$2" 5201 -t "$3" -O 2 $4 | tee "$E2E_TMP/$1.line" >&2
	awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^mbps=/) { sub(/mbps=/, "", $i); printf "%.2f\n", $i / 8 } }' \
		"$E2E_TMP/$1.line"
}
tx=$(measure tx-limited 10.0.0.2 8 -R)
rx0=$(measure rx-unlimited 10.0.0.2 3)
rx=$(measure rx-limited 10.0.1.2 8)
tx1=$(measure tx-unlimited 10.0.1.2 3 -R)
net_release 10.0.0.2
net_vm_wait
expect_eq "$?" 0 "VM exit status"
note "MB/s: tx-limited=$tx rx-unlimited=$rx0 rx-limited=$rx tx-unlimited=$tx1 (limit 10)"
for n in tx-limited rx-unlimited rx-limited tx-unlimited; do
	grep -q "^IPERF $n rc=0 " "$E2E_TMP/$n.line" || fail "iperf3 $n did not complete: $(cat "$E2E_TMP/$n.line")"
done
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }
within "$tx" 5 11 || fail "tx-bps=10000000: guest -> L1 at $tx MB/s, not between 5 and 11"
within "$rx" 5 11 || fail "rx-bps=10000000: L1 -> guest at $rx MB/s, not between 5 and 11"
# Without a limit the lab must be clearly faster than the band, or a limit
# that does nothing would pass: then the case fails and says so.
within "$rx0" 12.5 100000 ||
	fail "L1 -> guest without a limit (the tx-limited NIC) reaches only $rx0 MB/s: too slow here to check a 10 MB/s limit"
within "$tx1" 12.5 100000 ||
	fail "guest -> L1 without a limit (the rx-limited NIC) reaches only $tx1 MB/s: too slow here to check a 10 MB/s limit"
