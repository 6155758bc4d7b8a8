# SIGTERM while the guest runs: ember stops its vCPUs, restores the
# terminal, says why and exits 0; a second ember started right after boots
# normally (no stale state).
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo RUNNING-FOREVER
while :; do sleep 1; done
GUEST
log=$E2E_TMP/ember.log
"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -smp 2 -append "$E2E_APPEND" \
	</dev/null >"$log" 2>&1 &
pid=$!
wait_for "$log" RUNNING-FOREVER 80
kill -TERM $pid
t0=$(now)
wait $pid
rc=$?
sed 's/^/| /' "$log"
expect_eq "$rc" 0 "exit status after SIGTERM"
expect_in "$log" "ember: terminating on signal 15"
[ "$(awk -v a="$(elapsed "$t0")" 'BEGIN { print (a < 5) }')" = 1 ] || fail "ember took more than 5 s to stop"
