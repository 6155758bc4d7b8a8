# virtio-balloon: the guest (-m 512M) fills and frees 360 MiB so that its RAM
# is populated; balloon to 384 MiB over QMP: the guest's MemTotal drops by
# ~128 MiB, query-balloon reports 384 MiB and ember's RSS drops by >= 96 MiB
# (the pages are dropped from guest RAM: anonymous, or a memfd for
# balloon-pci); balloon back to 512 MiB
# restores MemTotal. The guest's statistics come through qom-get; the
# guest sees the statistics feature and not deflate-on-oom.
# e2e-timeout: 300
. "$E2E_LIB"
. "$E2E_DIR/balloon-lib.sh"
need_ember
need_kvm
balloon_transport
bal_guest >"$E2E_TMP/guest.sh"
make_initrd "$E2E_TMP/initrd" --script "$E2E_TMP/guest.sh"
bal_start $BAL_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 512M \
	-append "$E2E_APPEND" -device "$BAL_DEV,id=bal0,guest-stats-polling-interval=1"
trap 'kill $EMBER_PID 2>/dev/null' EXIT
bal_filled
# Features bit 0 up: statistics (1), no deflate on OOM (2), no reporting (5).
expect_in "$EMBER_LOG" '^FEAT 010000'
wait_for "$EMBER_LOG" '^MEM ' 30
sleep 2
t0=$(mem_total)
rss0=$(rss_kib)
note "before: MemTotal $t0 KiB, ember RSS $rss0 KiB"
[ "$rss0" -ge $((300 * 1024)) ] || fail "the guest's RAM was not populated (RSS $rss0 KiB)"
expect_eq "$(qmp '{"execute": "query-balloon"}')" '{"return":{"actual":536870912}}' "query-balloon before"

expect_eq "$(qmp '{"execute": "balloon", "arguments": {"value": 402653184}, "id": 7}')" \
	'{"return":{},"id":7}' "balloon reply"
shrunk() { t=$(mem_total); [ "$t" -le $((t0 - 120 * 1024)) ]; }
poll_until 90 shrunk || fail "MemTotal stayed at $(mem_total) KiB (was $t0) after the inflate"
actual_is() { [ "$(qmp '{"execute": "query-balloon"}')" = "{\"return\":{\"actual\":$1}}" ]; }
poll_until 30 actual_is 402653184 || fail "query-balloon: $(qmp '{"execute": "query-balloon"}')"
sleep 1
t1=$(mem_total)
rss1=$(rss_kib)
note "inflated: MemTotal $t1 KiB ($(((t0 - t1) / 1024)) MiB less), ember RSS $rss1 KiB ($(((rss0 - rss1) / 1024)) MiB less)"
[ $((t0 - t1)) -le $((136 * 1024)) ] || fail "MemTotal dropped by more than 128 MiB: $t0 -> $t1"
[ $((rss0 - rss1)) -ge $((96 * 1024)) ] || fail "ember's RSS dropped by only $(((rss0 - rss1) / 1024)) MiB"

stats=$(qmp '{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/bal0", "property": "guest-stats"}}')
note "guest-stats: $stats"
echo "$stats" | grep -q '"stat-total-memory":[1-9]' || fail "no stat-total-memory in $stats"

expect_eq "$(qmp '{"execute": "balloon", "arguments": {"value": 536870912}}')" '{"return":{}}' "deflate reply"
restored() { t=$(mem_total); [ "$t" -ge $((t0 - 4 * 1024)) ]; }
poll_until 90 restored || fail "MemTotal is $(mem_total) KiB after the deflate (was $t0)"
poll_until 30 actual_is 536870912 || fail "query-balloon after deflate: $(qmp '{"execute": "query-balloon"}')"
note "deflated: MemTotal $(mem_total) KiB"
bal_stop
