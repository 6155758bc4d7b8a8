# virtio-balloon over hugetlb RAM (2 MiB pages): only huge pages the guest
# inflated completely go back to the host. The guest fills and frees
# 360 MiB, the balloon takes 128 MiB: L1's free huge pages grow (by at most
# 64), the guest's MemTotal drops by 128 MiB; deflating restores it.
# e2e-timeout: 240
. "$E2E_LIB"
. "$E2E_DIR/balloon-lib.sh"
need_ember
need_kvm
echo 300 >/proc/sys/vm/nr_hugepages
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 256 ] || skip "L1 could not reserve 256 huge pages"
hp_free() { awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo; }
bal_guest >"$E2E_TMP/guest.sh"
make_initrd "$E2E_TMP/initrd" --script "$E2E_TMP/guest.sh"
bal_start -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" \
	-object memory-backend-memfd,id=ram0,size=512M,hugetlb=on,hugetlbsize=2M \
	-M microvm,memory-backend=ram0 -device virtio-balloon-device
trap 'kill $EMBER_PID 2>/dev/null; wait; echo 0 >/proc/sys/vm/nr_hugepages' EXIT
bal_filled
wait_for "$EMBER_LOG" '^MEM ' 30
t0=$(mem_total)
f0=$(hp_free)
note "before: MemTotal $t0 KiB, $f0 free huge pages in L1"
expect_eq "$(qmp '{"execute": "balloon", "arguments": {"value": 402653184}}')" '{"return":{}}' "balloon"
shrunk() { t=$(mem_total); [ "$t" -le $((t0 - 120 * 1024)) ]; }
poll_until 90 shrunk || fail "MemTotal stayed at $(mem_total) KiB (was $t0) after the inflate"
sleep 2
f1=$(hp_free)
note "inflated: MemTotal $(mem_total) KiB, $f1 free huge pages ($((f1 - f0)) given back)"
[ $((f1 - f0)) -ge 16 ] || fail "only $((f1 - f0)) huge pages went back to L1"
[ $((f1 - f0)) -le 64 ] || fail "$((f1 - f0)) huge pages went back: more than the balloon holds"
expect_eq "$(qmp '{"execute": "balloon", "arguments": {"value": 536870912}}')" '{"return":{}}' "deflate"
restored() { t=$(mem_total); [ "$t" -ge $((t0 - 4 * 1024)) ]; }
poll_until 90 restored || fail "MemTotal is $(mem_total) KiB after the deflate (was $t0)"
bal_stop
