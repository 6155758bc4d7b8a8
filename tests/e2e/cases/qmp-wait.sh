# -qmp ...,wait=on (QEMU's default for servers): the guest does not start
# until a QMP client connects; then it boots and the client is served.
# e2e-timeout: 150
. "$E2E_LIB"
. "$E2E_DIR/balloon-lib.sh"
need_ember
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo GUEST-UP
sleep 300
GUEST
EMBER_LOG=$E2E_TMP/ember.log
"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M -append "$E2E_APPEND" \
	-qmp "unix:$QMP_SOCK,server=on" </dev/null >"$EMBER_LOG" 2>&1 &
EMBER_PID=$!
trap 'kill $EMBER_PID 2>/dev/null' EXIT
wait_for "$EMBER_LOG" "waiting for a client on $QMP_SOCK" 30
sleep 8
expect_not_in "$EMBER_LOG" GUEST-UP
expect_eq "$(qmp '{"execute": "query-status"}')" \
	'{"return":{"status":"running","singlestep":false,"running":true}}' "query-status"
wait_for "$EMBER_LOG" GUEST-UP 120
# Without a balloon: QEMU's error for it.
expect_eq "$(qmp '{"execute": "query-balloon"}')" \
	'{"error":{"class":"DeviceNotActive","desc":"No balloon device has been activated"}}' \
	"query-balloon without a balloon"
bal_stop
