# QEMU's character-device multiplexer, as a user of -serial mon:stdio or
# -nographic meets it: keys typed on ember's stdin (a fifo) reach the
# guest's console; Ctrl-a c switches to the human monitor (its banner
# only then), where `info status` says running and nothing reaches the
# guest; Ctrl-a h prints QEMU's help; Ctrl-a c goes back; Ctrl-a Ctrl-a
# sends one Ctrl-a to the guest; Ctrl-a x ends ember with status 0. Then
# -nographic alone does the same (COM1 on mon:stdio), and QEMU's long form
# (-chardev stdio,mux=on, -serial chardev:, -mon) with -echr. Last, ember on a
# pty: the terminal is raw while ember runs and as before once it ends,
# after Ctrl-a x, after SIGTERM, and after an error once stdio was set up
# (a missing kernel).
# e2e-timeout: 300
# e2e-needs: python3
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"	# ember_exit
need_ember
need_kvm
# the lab ships python3.11 by that name
PY=$(command -v python3.11 || command -v python3) || skip "python3 was not shipped (e2e-needs: python3)"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
exec </dev/ttyS0 >/dev/ttyS0 2>&1
stty -echo
echo GUEST-UP
# each line the console gets, back with its Ctrl-a shown as @
while read -r l; do echo "GOT:$l" | tr '\001' @; done
GUEST

# mux_run NAME ARGS...: ember in the background, stdin on fd 7 (a fifo), output in NAME.out.
mux_run() {
	_n=$1
	shift
	rm -f "$E2E_TMP/$_n.in"
	mkfifo "$E2E_TMP/$_n.in"
	exec 7<>"$E2E_TMP/$_n.in"	# read-write: opening it does not wait for ember
	EMBER_LOG=$E2E_TMP/$_n.out
	"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M -append "$E2E_APPEND" \
		"$@" <"$E2E_TMP/$_n.in" >"$EMBER_LOG" 2>&1 &
	EMBER_PID=$!
	# shellcheck disable=SC2064
	trap "kill $EMBER_PID 2>/dev/null" EXIT
}

# count FILE PATTERN: lines matching
count() { grep -c -e "$2" "$1" 2>/dev/null; }

mux_run mon -serial mon:stdio
wait_for "$EMBER_LOG" GUEST-UP 120
# the console has the input first: a line reaches the guest
printf 'first\r' >&7
wait_for "$EMBER_LOG" "GOT:first" 30
# the monitor keeps quiet until it has the focus, as QEMU's does
expect_not_in "$EMBER_LOG" "monitor - type 'help'"
printf '\001c' >&7
wait_for "$EMBER_LOG" "QEMU 7.2.0 monitor - type 'help' for more information" 30
wait_for "$EMBER_LOG" "(qemu) " 10
printf 'info status\r' >&7
wait_for "$EMBER_LOG" "VM status: running" 30
# the monitor echoes what is typed; the guest got none of it
expect_in "$EMBER_LOG" "(qemu) info status"
printf '\001h' >&7
wait_for "$EMBER_LOG" "C-a x    exit emulator" 10
expect_in "$EMBER_LOG" "C-a c    switch between console and monitor"
expect_in "$EMBER_LOG" "C-a C-a  sends C-a"
# back to the console: a prompt-less newline from the monitor, input to the guest
printf '\001c' >&7
sleep 0.5
printf 'second\r' >&7
wait_for "$EMBER_LOG" "GOT:second" 30
# Ctrl-a Ctrl-a: one Ctrl-a reaches the guest
printf 'a\001\001b\r' >&7
wait_for "$EMBER_LOG" "GOT:a@b" 30
expect_not_in "$EMBER_LOG" "GOT:info"
expect_not_in "$EMBER_LOG" "GOT:.*status"
# a second visit to the monitor: a prompt, no second banner
printf '\001c' >&7
sleep 0.5
printf 'info status\r' >&7
_t0=$(now)
while [ "$(count "$EMBER_LOG" "VM status: running")" -lt 2 ]; do
	[ "$(awk -v a="$(elapsed "$_t0")" 'BEGIN { print (a >= 30) }')" = 1 ] &&
		fail "no second 'VM status: running'"
	sleep 0.2
done
expect_eq "$(count "$EMBER_LOG" "monitor - type 'help'")" 1 "monitor banners"
printf '\001x' >&7
wait_for "$EMBER_LOG" "QEMU: Terminated" 30
ember_exit 0
exec 7>&-
expect_in "$EMBER_LOG" "ember: terminating on Ctrl-a x"
expect_not_in "$EMBER_LOG" "GOT:info"

# -nographic with no -serial and no monitor: QEMU's mon:stdio
mux_run nographic -nographic
wait_for "$EMBER_LOG" GUEST-UP 120
printf '\001c' >&7
wait_for "$EMBER_LOG" "(qemu) " 30
printf 'info status\r' >&7
wait_for "$EMBER_LOG" "VM status: running" 30
printf '\001c' >&7
sleep 0.5
printf 'third\r' >&7
wait_for "$EMBER_LOG" "GOT:third" 30
printf '\001x' >&7
ember_exit 0
exec 7>&-

# QEMU's long form, -chardev stdio,mux=on shared by -serial and -mon, with -echr 0x14 (Ctrl-t)
expect_usage_error echr-bad "-echr 300: expected the escape key's code, 0 to 255" \
	-kernel "$LAB_KERNEL" -echr 300
mux_run long -chardev stdio,id=s,mux=on -serial chardev:s -mon chardev=s -echr 0x14
wait_for "$EMBER_LOG" GUEST-UP 120
printf '\001c\r' >&7	# Ctrl-a is no escape key now: the guest gets it
wait_for "$EMBER_LOG" "GOT:@c" 30
printf '\024c' >&7
wait_for "$EMBER_LOG" "(qemu) " 30
printf 'info status\r\024c' >&7
wait_for "$EMBER_LOG" "VM status: running" 30
printf 'fourth\r' >&7
wait_for "$EMBER_LOG" "GOT:fourth" 30
printf '\024x' >&7
ember_exit 0
exec 7>&-

# On a pty: raw while ember runs, the settings of before once it ends.
for how in quit term error; do
	# error: the kernel is missing, found once stdio is raw already
	kernel=$LAB_KERNEL
	[ $how = error ] && kernel=$E2E_TMP/no-such-kernel
	"$PY" -S "$E2E_DIR/pty_console.py" $how "$EMBER" -kernel "$kernel" -initrd "$E2E_TMP/initrd" \
		-m 256M -append "$E2E_APPEND" -serial mon:stdio >"$E2E_TMP/pty-$how.out" 2>&1
	sed "s/^/| pty $how: /" "$E2E_TMP/pty-$how.out" | tail -n 8
	expect_in "$E2E_TMP/pty-$how.out" "^RESTORED"
	case $how in
	quit) expect_in "$E2E_TMP/pty-$how.out" "^RAW-WHILE-RUNNING"
		expect_in "$E2E_TMP/pty-$how.out" "^EXIT:0"
		expect_in "$E2E_TMP/pty-$how.out" "QEMU: Terminated" ;;
	term) expect_in "$E2E_TMP/pty-$how.out" "^RAW-WHILE-RUNNING"
		expect_in "$E2E_TMP/pty-$how.out" "^EXIT:" ;;
	error) expect_in "$E2E_TMP/pty-$how.out" "^EXIT:1"
		expect_in "$E2E_TMP/pty-$how.out" "no-such-kernel" ;;
	esac
done
