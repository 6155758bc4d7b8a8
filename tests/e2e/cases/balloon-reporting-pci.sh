# virtio-balloon free page reporting: the guest fills a 360 MiB tmpfs file,
# holds it, then deletes it; with free-page-reporting=on the guest reports
# the freed blocks and ember's RSS drops by >= 200 MiB with no inflate at all.
# e2e-timeout: 240
. "$E2E_LIB"
. "$E2E_DIR/balloon-lib.sh"
need_ember
need_kvm
balloon_transport
bal_guest hold >"$E2E_TMP/guest.sh"
make_initrd "$E2E_TMP/initrd" --script "$E2E_TMP/guest.sh"
bal_start $BAL_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 512M \
	-append "$E2E_APPEND" -device "$BAL_DEV,free-page-reporting=on"
trap 'kill $EMBER_PID 2>/dev/null' EXIT
bal_filled
expect_in "$EMBER_LOG" '^FEAT 010001'
sleep 2
rss0=$(rss_kib)
note "file in the guest: ember RSS $rss0 KiB"
[ "$rss0" -ge $((340 * 1024)) ] || fail "the guest's RAM was not populated (RSS $rss0 KiB)"
wait_for "$EMBER_LOG" FREED 30
dropped() { [ "$(rss_kib)" -le $((rss0 - 200 * 1024)) ]; }
poll_until 60 dropped || fail "ember's RSS is $(rss_kib) KiB after the guest freed 360 MiB (was $rss0)"
note "after the guest freed it: ember RSS $(rss_kib) KiB ($((($rss0 - $(rss_kib)) / 1024)) MiB less)"
expect_eq "$(qmp '{"execute": "query-balloon"}')" '{"return":{"actual":536870912}}' "nothing inflated"
bal_stop
