# Bad input to the balloon and to QMP: bad -qmp syntax and a socket in a
# missing directory get one clear line; at run time a negative, a too large
# and a non-integer balloon size, malformed JSON, unknown commands and
# arguments, a 100 kB line and a client that leaves mid-command each get a
# QMP error (or a closed connection) while ember and the guest stay up.
# e2e-timeout: 240
. "$E2E_LIB"
. "$E2E_DIR/balloon-lib.sh"
need_ember
need_kvm
K="-kernel $LAB_KERNEL"
expect_usage_error qmp-tcp "only unix sockets are supported" $K -qmp tcp:localhost:4444,server=on
expect_usage_error qmp-client "server=on is required" $K -qmp "unix:$E2E_TMP/q.sock"
expect_usage_error qmp-key "-qmp.*bogus" $K -qmp "unix:$E2E_TMP/q.sock,server=on,bogus=1"
expect_usage_error qmp-wait "wait=maybe: expected on or off" $K -qmp "unix:$E2E_TMP/q.sock,server=on,wait=maybe"
expect_usage_error qmp-dir "cannot bind '/nonexistent/dir/q.sock': No such file or directory" \
	$K -qmp unix:/nonexistent/dir/q.sock,server=on,wait=off
# Several -qmp are QEMU's (e2e qemu-monitors); one socket twice is not.
expect_usage_error qmp-twice "the socket '$E2E_TMP/a' is given twice" $K -qmp "unix:$E2E_TMP/a,server=on" \
	-qmp "unix:$E2E_TMP/a,server=on,wait=off"
expect_usage_error bal-two "only one balloon device" $K -device virtio-balloon-device \
	-device virtio-balloon-device
expect_usage_error bal-prop "deflate-on-oom" $K -device virtio-balloon-device,deflate-on-oom=maybe
expect_usage_error bal-addr "addr=zz" $K -M pci -device virtio-balloon-pci,addr=zz

make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "FEAT $(cat /sys/bus/virtio/drivers/virtio_balloon/*/features)"
echo GUEST-UP
i=0
while [ $i -lt 300 ]; do echo "ALIVE $i"; sleep 1; i=$((i + 1)); done
GUEST
bal_start -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M -append "$E2E_APPEND" \
	-device virtio-balloon-device,deflate-on-oom=on
trap 'kill $EMBER_PID 2>/dev/null' EXIT
wait_for "$EMBER_LOG" GUEST-UP 120
expect_in "$EMBER_LOG" '^FEAT 011000'	# deflate-on-oom=on: bit 2

check() { # NAME EXPECTED-REPLY-PATTERN JSON
	_r=$(qmp "$3")
	echo "| $1: $_r"
	echo "$_r" | grep -q -e "$2" || fail "$1: expected /$2/, got $_r"
}
G='"class":"GenericError"'
check negative "$G,\"desc\":\"Parameter 'value' expects a size" '{"execute": "balloon", "arguments": {"value": -1}}'
check zero "$G" '{"execute": "balloon", "arguments": {"value": 0}}'
check too-large "$G.*up to the guest's RAM (268435456 bytes)" '{"execute": "balloon", "arguments": {"value": 1099511627776}}'
check huge "$G.*too large" '{"execute": "balloon", "arguments": {"value": 99999999999999999999}}'
check float "$G.*expected: integer" '{"execute": "balloon", "arguments": {"value": 1e30}}'
check string "$G.*expected: integer" '{"execute": "balloon", "arguments": {"value": "1G"}}'
check missing "$G.*'value' is missing" '{"execute": "balloon"}'
check extra "$G.*'bogus' is unexpected" '{"execute": "balloon", "arguments": {"value": 1, "bogus": 2}}'
check unknown '"class":"CommandNotFound".*nosuch' '{"execute": "nosuch"}'
check no-exec "$G.*lacks member 'execute'" '{"arguments": {}}'
check not-object "$G.*must be a JSON object" '[1, 2]'
check malformed "$G.*JSON parse error" '{"execute": "query-status",,}'
check again-caps '"CommandNotFound".*already complete' '{"execute": "qmp_capabilities"}'
check qom-path '"DeviceNotFound"' '{"execute": "qom-get", "arguments": {"path": "/nope", "property": "guest-stats"}}'
# A 100 kB line: an error, then the connection is closed (no reply to what follows).
long=$(head -c 100000 /dev/zero | tr '\0' ' ')
"$QMP_CMD" "$QMP_SOCK" "{\"execute\": \"query-status\" $long}" '{"execute": "query-status"}' \
	>"$E2E_TMP/long.out" 2>&1 && fail "the connection stayed open after a 100 kB command"
sed 's/^/| long: /' "$E2E_TMP/long.out" | cut -c1-200
expect_in "$E2E_TMP/long.out" "longer than 65536 bytes"
# Clients that leave mid-command, and many in a row.
i=0
while [ $i -lt 20 ]; do
	timeout 10 "$QMP_CMD" -x "$QMP_SOCK" '{"execute": "balloon", "argu' >/dev/null 2>&1 ||
		fail "client $i: no greeting"
	i=$((i + 1))
done
check status '"return":{"status":"running"' '{"execute": "query-status"}'
check actual '"return":{"actual":268435456}' '{"execute": "query-balloon"}'
alive0=$(grep -c '^ALIVE' "$EMBER_LOG")
sleep 3
[ "$(grep -c '^ALIVE' "$EMBER_LOG")" -gt "$alive0" ] || fail "the guest stopped running"
kill -0 "$EMBER_PID" || fail "ember died"
bal_stop
