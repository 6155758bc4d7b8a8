# shellcheck shell=sh
# tests/e2e/lib.sh: helpers for e2e cases (tests/e2e/cases/*.sh).
# A case is a POSIX sh script (busybox ash inside the lab's L1) that starts with
#     . "$E2E_LIB"
# and exits 0 (pass), 77 (skip: call `skip REASON`) or anything else (fail).
# Optional header lines in the case file:
#     # e2e-timeout: SECS      per-case timeout (default 300)
#     # e2e-needs: qemu PROG   ship qemu-system-x86_64 (+ firmware) / host PROGs into L1
#                              (python3: the interpreter and the stdlib tests/e2e/*.py use)
#     # e2e-smp: N             L1 vCPUs this case wants (the run takes the largest;
#                              default 1, which boots L2 guests fastest)
#     # e2e-unit: test_NAME... unit test binaries of build/ to ship in ($LAB_FILES/unit)
#     # e2e-lab: iommu         L1 with an emulated IOMMU, edu and NVMe (scripts/lab --iommu)
#
# Environment set by the lab and the driver:
#   EMBER        ember binary (unset when it was not built)
#   LAB_KERNEL   Debian cloud kernel bzImage;  LAB_VMLINUX: the same as ELF (PVH note)
#   LAB_L2_BASE  base L2 initramfs (busybox, virtio modules, /init)
#   LAB_MKINITRD tool behind make_initrd;  LAB_MODE: l1 or direct
#   E2E_CASE     case name;  E2E_TMP: a fresh directory (the cwd), removed afterwards
#   E2E_DIR      tests/e2e inside the lab;  E2E_TIMEOUT: this case's timeout
#   TMPDIR       a tmpfs

# Default kernel command line for L2 guests: serial console, no reboot on panic.
E2E_APPEND=${E2E_APPEND:-"console=ttyS0 panic=-1 quiet"}

# Say something in the case's log.
note() { echo "e2e: $*" >&2; }

# Stop the case as skipped / failed.
skip() {
	[ -n "${E2E_TMP:-}" ] && echo "$*" >"$E2E_TMP/.skip-reason"
	echo "skip: $*" >&2
	exit 77
}
fail() {
	echo "FAILED: $*" >&2
	exit 1
}

need_ember() {
	if [ -z "${EMBER:-}" ] || [ ! -x "$EMBER" ]; then skip "ember is not built (no build/ember)"; fi
}
need_cmd() { # CMD...: skip unless every command exists
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || skip "$_c is not available in the lab (add '# e2e-needs: $_c')"
	done
}
need_kvm() {
	[ -c /dev/kvm ] || fail "/dev/kvm is missing"
}

# make_initrd OUT [--script FILE|-] [--file SRC[:DST]]... [--bin PROG]... [--gzip]
# Builds an L2 initramfs: busybox, virtio modules, an /init that runs /test.sh
# (--script) and powers off. `--script -` reads the script from stdin:
#     make_initrd "$E2E_TMP/initrd" --script - <<'EOF'
#     echo GUEST-OK
#     EOF
make_initrd() {
	_out=$1
	shift
	"$LAB_MKINITRD" -o "$_out" "$@" || fail "make_initrd $_out failed"
}

# now: seconds since boot, with fractions (for timing inside a case).
now() { cut -d' ' -f1 /proc/uptime; }
# elapsed START: seconds since START (a value of `now`), 2 decimals.
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.2f\n", e - s }'; }

# run_timeout SECS LOG CMD ARGS...: run CMD with stdin from /dev/null, its stdout and
# stderr into LOG, killed after SECS; then print LOG into the case's log. Returns
# CMD's status, or 124 on timeout.
run_timeout() {
	_secs=$1 _log=$2
	shift 2
	_t0=$(now)
	timeout "$_secs" "$@" </dev/null >"$_log" 2>&1
	_rc=$?
	sed 's/^/| /' "$_log"
	if [ "$_rc" != 0 ] && [ "$(awk -v a="$(elapsed "$_t0")" -v b="$_secs" 'BEGIN { print (a >= b) }')" = 1 ]; then
		echo "e2e: '$1' timed out after $_secs s" >&2
		return 124
	fi
	return "$_rc"
}

# run_ember [--timeout SECS] [--log FILE] ARGS...: run ember (default timeout 120 s,
# log $E2E_TMP/ember.log, also in $EMBER_LOG). Returns ember's status (124: timeout).
#     run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND"
#     expect_in "$EMBER_LOG" GUEST-OK
run_ember() {
	need_ember
	_to=120 EMBER_LOG=$E2E_TMP/ember.log
	while :; do
		case "${1:-}" in
		--timeout) _to=$2; shift 2 ;;
		--log) EMBER_LOG=$2; shift 2 ;;
		*) break ;;
		esac
	done
	run_timeout "$_to" "$EMBER_LOG" "$EMBER" "$@"
}

# run_qemu [--timeout SECS] [--log FILE] ARGS...: the reference VMM, QEMU with KVM
# (needs '# e2e-needs: qemu'), log in $QEMU_LOG. Prepends -accel kvm -nodefaults
# -no-user-config -display none -no-reboot; pass -M, -kernel, -serial stdio, ...
run_qemu() {
	need_cmd qemu-system-x86_64
	_to=120 QEMU_LOG=$E2E_TMP/qemu.log
	while :; do
		case "${1:-}" in
		--timeout) _to=$2; shift 2 ;;
		--log) QEMU_LOG=$2; shift 2 ;;
		*) break ;;
		esac
	done
	run_timeout "$_to" "$QEMU_LOG" qemu-system-x86_64 -accel kvm -nodefaults -no-user-config \
		-display none -no-reboot "$@"
}

# expect_in FILE PATTERN / expect_not_in FILE PATTERN (grep basic regex)
expect_in() {
	grep -q -e "$2" "$1" 2>/dev/null && return 0
	echo "expected /$2/ in $1; it ends with:" >&2
	tail -n 20 "$1" 2>/dev/null | sed 's/^/  > /' >&2
	fail "/$2/ not found in $1"
}
expect_not_in() {
	grep -q -e "$2" "$1" 2>/dev/null || return 0
	grep -n -e "$2" "$1" | head -n 5 | sed 's/^/  > /' >&2
	fail "/$2/ found in $1"
}

# expect_eq ACTUAL EXPECTED [WHAT]
expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

# wait_for FILE PATTERN [SECS]: wait until PATTERN shows up in FILE (default 60 s).
wait_for() {
	_t0=$(now)
	while ! grep -q -e "$2" "$1" 2>/dev/null; do
		if [ "$(awk -v a="$(elapsed "$_t0")" -v b="${3:-60}" 'BEGIN { print (a >= b) }')" = 1 ]; then
			expect_in "$1" "$2"
		fi
		sleep 0.2
	done
}

# run_typed [--early] LOG LINE WAIT CMD...: runs CMD with its stdin on a fifo
# and its output in LOG; once LOG shows READY-FOR-INPUT (within WAIT s) types
# LINE into it (--early: at once, before the guest has booted). Waits for CMD,
# echoes LOG and returns CMD's status.
run_typed() {
	_early=
	[ "$1" = --early ] && { _early=1; shift; }
	_rlog=$1 _rline=$2 _rwait=$3
	shift 3
	rm -f "$E2E_TMP/typed.in"
	mkfifo "$E2E_TMP/typed.in"
	"$@" <"$E2E_TMP/typed.in" >"$_rlog" 2>&1 &
	_rpid=$!
	exec 3>"$E2E_TMP/typed.in"
	[ -n "$_early" ] && printf '%s\n' "$_rline" >&3
	wait_for "$_rlog" READY-FOR-INPUT "$_rwait"
	[ -z "$_early" ] && printf '%s\n' "$_rline" >&3
	wait $_rpid
	_rrc=$?
	exec 3>&-
	sed 's/^/| /' "$_rlog"
	return $_rrc
}

# expect_usage_error NAME PATTERN ARGS...: ember ARGS must fail at once with
# exit status 1 and exactly one line of output matching PATTERN (bad input
# gets one clear line, never a crash). Output in $E2E_TMP/NAME.out.
expect_usage_error() {
	_name=$1 _pat=$2
	shift 2
	need_ember
	"$EMBER" "$@" </dev/null >"$E2E_TMP/$_name.out" 2>&1
	_rc=$?
	sed "s/^/| $_name: /" "$E2E_TMP/$_name.out"
	expect_eq "$_rc" 1 "$_name: exit status"
	expect_eq "$(wc -l <"$E2E_TMP/$_name.out" | tr -d ' ')" 1 "$_name: lines of output"
	expect_in "$E2E_TMP/$_name.out" "$_pat"
}
