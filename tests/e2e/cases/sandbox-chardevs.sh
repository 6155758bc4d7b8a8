# Sandboxed (the default) chardev paths no other case takes: a socket
# server that accepts on the loop (wait=off), a socket client, a pty, and
# their teardown (close, unlink). COM3 is a client of COM2's server, so a
# line the guest writes on ttyS2 comes back on ttyS1; a line written on the
# pty's slave reaches ttyS3.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
for t in 1 2 3; do stty -F /dev/ttyS$t -echo; done
timeout 30 head -n 1 /dev/ttyS1 >/tmp/sock &
sleep 1
echo via-socket >/dev/ttyS2
wait
echo "GOT-SOCK:$(cat /tmp/sock)"
echo to-the-pty >/dev/ttyS3
timeout 30 head -n 1 /dev/ttyS3 >/tmp/pty &
sleep 1
echo PTY-WAITING
wait
echo "GOT-PTY:$(tr -d '\r' </tmp/pty)"
GUEST
sock=$E2E_TMP/com2.sock
log=$E2E_TMP/ember.log
timeout 90 "$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	-chardev socket,id=srv,path="$sock",server=on,wait=off \
	-chardev socket,id=cli,path="$sock",server=off \
	-serial stdio -serial chardev:srv -serial chardev:cli -serial pty \
	</dev/null >"$log" 2>&1 &
pid=$!
wait_for "$log" PTY-WAITING 80
pts=$(sed -n 's/.*char device redirected to \(\/dev\/pts\/[0-9]*\).*/\1/p' "$log" | head -n 1)
[ -n "$pts" ] || { sed 's/^/| /' "$log"; fail "ember did not say which pty it made"; }
echo via-pty >"$pts"
wait $pid
rc=$?
sed 's/^/| /' "$log"
expect_eq "$rc" 0 "ember exit status"
expect_in "$log" "GOT-SOCK:via-socket"
expect_in "$log" "GOT-PTY:via-pty"
expect_not_in "$log" "seccomp"
[ ! -e "$sock" ] || fail "the server socket $sock was not removed at exit"
