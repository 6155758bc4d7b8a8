# QMP against hostile clients (tests/e2e/qmp_hostile.py) while a guest runs:
# a silent client (dropped after the 10 s handshake timeout, locking nobody
# out meanwhile), a flood of bytes after a syntax error (cut off at 64 KiB),
# a NUL inside a command (refused, not run as quit), a client that never
# reads (hung up on at 1 MiB of replies), and a normal client answered
# throughout that sees the guest running. Then ember under a low ulimit -n:
# the clients beyond the limit wait while the listener rests (the loop
# thread does not spin) and are served once the first leave; and a low soft
# limit alone is raised to the hard one.
# e2e-timeout: 300
# e2e-needs: python3
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
need_kvm
PY=$(command -v python3.11 || command -v python3) || skip "python3 was not shipped (e2e-needs: python3)"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo GUEST-UP
i=0; while :; do i=$((i + 1)); echo "TICK $i"; sleep 1; done
GUEST
ARGS="-kernel $LAB_KERNEL -initrd $E2E_TMP/initrd -m 256M -append"

qmp_ember $ARGS "$E2E_APPEND" -serial stdio -qmp "unix:$QMP_SOCK,server=on,wait=off"
wait_sock "$QMP_SOCK"
wait_for "$EMBER_LOG" GUEST-UP 60
"$PY" -S "$E2E_DIR/qmp_hostile.py" hostile "$QMP_SOCK" "$EMBER_LOG" >"$E2E_TMP/client.log" 2>&1
rc=$?
sed 's/^/| /' "$E2E_TMP/client.log"
[ "$rc" = 0 ] || { grep -v '^TICK' "$EMBER_LOG" | tail -15 | sed 's/^/| ember: /'; kill -0 "$EMBER_PID" 2>/dev/null || note "ember is gone"; }
expect_eq "$rc" 0 "qmp_hostile.py hostile exit status"
expect_in "$E2E_TMP/client.log" QMP-HOSTILE-OK
expect_in "$EMBER_LOG" "sent no qmp_capabilities within 10000 ms"
expect_in "$EMBER_LOG" "leaves .* bytes of replies unread"
ember_exit 0

# A low soft limit alone: ember raises it to the hard one.
rm -f "$QMP_SOCK"
EMBER_LOG=$E2E_TMP/ember-soft.log
(ulimit -Sn 64 && exec "$EMBER" $ARGS "$E2E_APPEND" -serial stdio \
	-qmp "unix:$QMP_SOCK,server=on,wait=off" </dev/null >"$EMBER_LOG" 2>&1) &
EMBER_PID=$!
wait_sock "$QMP_SOCK"
lim=$(grep 'Max open files' "/proc/$EMBER_PID/limits")
note "ulimit -Sn 64, hard $(ulimit -Hn): $lim"
set -- $lim
[ "$4" = "$5" ] && [ "$4" -gt 64 ] || fail "the soft limit was not raised to the hard one: $lim"
kill "$EMBER_PID"
wait "$EMBER_PID"

# How many descriptors ember holds once the guest runs; then a limit just above.
rm -f "$QMP_SOCK"
EMBER_LOG=$E2E_TMP/ember-probe.log
"$EMBER" $ARGS "$E2E_APPEND" -serial stdio -qmp "unix:$QMP_SOCK,server=on,wait=off" \
	</dev/null >"$EMBER_LOG" 2>&1 &
EMBER_PID=$!
wait_sock "$QMP_SOCK"
wait_for "$EMBER_LOG" GUEST-UP 60
sleep 1
used=$(ls "/proc/$EMBER_PID/fd" | wc -l)
kill "$EMBER_PID"
wait "$EMBER_PID"
limit=$((used + 3))
note "ember holds $used descriptors with its guest running; ulimit -n $limit"

rm -f "$QMP_SOCK"
EMBER_LOG=$E2E_TMP/ember-low.log
(ulimit -n "$limit" && exec "$EMBER" $ARGS "$E2E_APPEND" -serial stdio \
	-qmp "unix:$QMP_SOCK,server=on,wait=off" </dev/null >"$EMBER_LOG" 2>&1) &
EMBER_PID=$!
trap 'kill $EMBER_PID 2>/dev/null' EXIT
wait_sock "$QMP_SOCK"
wait_for "$EMBER_LOG" GUEST-UP 60
mkfifo "$E2E_TMP/go"
"$PY" -S "$E2E_DIR/qmp_hostile.py" fdlimit "$QMP_SOCK" 8 <"$E2E_TMP/go" >"$E2E_TMP/low.log" 2>&1 &
py=$!
exec 3>"$E2E_TMP/go"
wait_for "$E2E_TMP/low.log" SERVED-FIRST 30
# The main (loop) thread's CPU time while clients wait: it must rest, not spin.
cpu() { awk '{ print $14 + $15 }' "/proc/$EMBER_PID/task/$EMBER_PID/stat"; }
c0=$(cpu)
sleep 3
c1=$(cpu)
note "loop thread CPU while clients waited: $((c1 - c0)) ticks in 3 s (spinning would be ~300)"
[ $((c1 - c0)) -lt 60 ] || fail "the QMP listener spun: $((c1 - c0)) ticks of CPU in 3 s"
wait_for "$E2E_TMP/low.log" WAITED 30
echo go >&3
wait "$py"
rc=$?
sed 's/^/| /' "$E2E_TMP/low.log"
expect_eq "$rc" 0 "qmp_hostile.py fdlimit exit status"
expect_in "$E2E_TMP/low.log" QMP-HOSTILE-OK
n=$(grep -c "cannot accept a client" "$EMBER_LOG")
note "accept-failure warnings: $n"
expect_eq "$n" 1 "warnings about accept failures (once, not per attempt)"
ember_exit 0
