# shellcheck shell=sh
# Shared by the qmp-* cases: a guest that shows what the VMM does to it,
# ember in the background with QMP, and QMP clients made of socat on a fifo,
# which stay connected (events arrive between commands).

QMP_SOCK=$E2E_TMP/qmp.sock

# qmp_guest OUT: an initramfs whose guest prints GUEST-UP, then "TICK n"
# each second (so a pause shows as silence), and powers off once its ACPI
# power button is pressed (the key event of Linux's button driver, through
# evdev), printing GUEST-POWER-BUTTON.
qmp_guest() {
	make_initrd "$1" --script - <<'GUEST'
echo GUEST-UP
( i=0; while :; do i=$((i + 1)); echo "TICK $i"; sleep 1; done ) &
ev=
for d in /sys/class/input/input*; do
	[ "$(cat "$d/name" 2>/dev/null)" = "Power Button" ] || continue
	for e in "$d"/event*; do ev=${e##*/}; done
done
echo "BUTTON ${ev:-none}"
[ -n "$ev" ] && dd if="/dev/input/$ev" of=/dev/null bs=24 count=1 2>/dev/null
echo GUEST-POWER-BUTTON
poweroff -f
GUEST
}

# qmp_ember ARGS...: ember in the background (log $EMBER_LOG, pid $EMBER_PID).
qmp_ember() {
	need_ember
	EMBER_LOG=$E2E_TMP/ember.log
	"$EMBER" "$@" </dev/null >"$EMBER_LOG" 2>&1 &
	EMBER_PID=$!
	# shellcheck disable=SC2064
	trap "kill $EMBER_PID 2>/dev/null" EXIT
}

# qmp_ember_typed NAME ARGS...: as qmp_ember, but stdin is the fifo NAME.in,
# held open on fd 7 (printf ... >&7 types on the guest's console), and the
# log NAME.log.
qmp_ember_typed() {
	_n=$1
	shift
	need_ember
	rm -f "$E2E_TMP/$_n.in" "$QMP_SOCK"
	mkfifo "$E2E_TMP/$_n.in"
	exec 7<>"$E2E_TMP/$_n.in"
	EMBER_LOG=$E2E_TMP/$_n.log
	"$EMBER" "$@" <"$E2E_TMP/$_n.in" >"$EMBER_LOG" 2>&1 &
	EMBER_PID=$!
	# shellcheck disable=SC2064
	trap "kill $EMBER_PID 2>/dev/null" EXIT
}

# wait_sock PATH: until ember listens there.
wait_sock() {
	_i=0
	while [ ! -S "$1" ] && [ $_i -lt 150 ]; do sleep 0.2; _i=$((_i + 1)); done
	[ -S "$1" ] || { sed 's/^/| /' "$EMBER_LOG"; fail "no socket $1"; }
}

# client_open NAME FD SOCKET: socat connected to SOCKET, fed from fd FD
# (3-9) through a fifo, everything it receives in $E2E_TMP/NAME.out.
client_open() {
	rm -f "$E2E_TMP/$1.in"
	mkfifo "$E2E_TMP/$1.in"
	socat -t 5 "UNIX-CONNECT:$3" - <"$E2E_TMP/$1.in" >"$E2E_TMP/$1.out" 2>&1 &
	eval "exec $2>\"\$E2E_TMP/\$1.in\""
	wait_for "$E2E_TMP/$1.out" '"QMP":' 30
}

# send FD JSON: one command to the client on FD.
send() { eval "printf '%s\n' \"\$2\" >&$1"; }

# reply NAME ID: waits for the reply with "id": "ID" and prints it.
reply() {
	wait_for "$E2E_TMP/$1.out" "\"id\":\"$2\"" 60
	grep "\"id\":\"$2\"" "$E2E_TMP/$1.out"
}

# expect_reply NAME FD ID JSON PART: sends JSON (whose id is ID), checks that
# the reply contains PART.
expect_reply() {
	send "$2" "$4"
	_r=$(reply "$1" "$3")
	note "$1 <- $4"
	note "$1 -> $_r"
	case "$_r" in
	*"$5"*) ;;
	*) fail "$1: reply to $4 lacks $5: $_r" ;;
	esac
}

# count NAME PATTERN: lines of NAME's output with PATTERN (fixed string).
count() { grep -cF -e "$2" "$E2E_TMP/$1.out"; }

# wait_count NAME PATTERN N: until NAME has received N lines with PATTERN.
wait_count() {
	_i=0
	while [ "$(count "$1" "$2")" -lt "$3" ] && [ $_i -lt 300 ]; do sleep 0.2; _i=$((_i + 1)); done
	[ "$(count "$1" "$2")" -ge "$3" ] || { sed 's/^/  > /' "$E2E_TMP/$1.out" >&2;
		fail "$1: expected $3 of $2"; }
}

# ticks: the guest's TICK lines so far.
ticks() { grep -c '^TICK ' "$EMBER_LOG"; }

# ember_exit RC: ember must exit with RC within 60 s.
ember_exit() {
	_i=0
	while kill -0 "$EMBER_PID" 2>/dev/null && [ $_i -lt 300 ]; do sleep 0.2; _i=$((_i + 1)); done
	kill -0 "$EMBER_PID" 2>/dev/null && { kill "$EMBER_PID"; fail "ember did not exit"; }
	wait "$EMBER_PID"
	_rc=$?
	sed 's/^/| /' "$EMBER_LOG" | grep -v '^| TICK ' | tail -n 30
	expect_eq "$_rc" "$1" "ember exit status"
}
