# ember-jail's cgroup v2 limits (docs/jail.md). With --cgroup under
# /sys/fs/cgroup (two new levels), cpu.max, memory.max and pids.max read
# back as given while the jailed guest runs, ember is in the cgroup (with
# only KVM's kernel threads), and SIGTERM to the jailer reaches ember (which stops the VM and
# exits 0); the cgroups it created and the jail directory are removed. Then
# the limits bite: memory.max far below the guest's RAM ends the VM (ember is
# OOM-killed: status 137), pids.max 1 leaves no room for vCPU threads.
# e2e-timeout: 300
. "$E2E_LIB"
need_ember
need_kvm
if [ -z "${EMBER_JAIL:-}" ] || [ ! -x "$EMBER_JAIL" ]; then skip "ember-jail is not built (no build/ember-jail)"; fi
awk '$2 == "/sys/fs/cgroup" && $3 == "cgroup2" { f = 1 } END { exit !f }' /proc/mounts ||
	skip "/sys/fs/cgroup is not cgroup v2"

make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo CGROUP-GUEST-UP
while :; do sleep 1; done
GUEST
base=$E2E_TMP/jails
mkdir "$base"
top=/sys/fs/cgroup/ember-e2e
cg=$top/vm1
[ ! -e "$top" ] || rmdir "$top"/* "$top" 2>/dev/null
jail() { # ID [OPTION...] -- : run ember-jail with the lab kernel and our initrd
	id=$1
	shift
	"$EMBER_JAIL" --id "$id" --exec-file "$EMBER" --uid 1234 --gid 1234 --chroot-base-dir "$base" \
		--file "$LAB_KERNEL:/vmlinuz" --file "$E2E_TMP/initrd:/initrd" "$@" -- \
		-kernel /vmlinuz -initrd /initrd -m 256 -append "$E2E_APPEND"
}

log=$E2E_TMP/limits.log
jail limits --cgroup "$cg" --cpu-max "50000 100000" --memory-max 512M --pids-max 64 \
	</dev/null >"$log" 2>&1 &
bg=$!
wait_for "$log" CGROUP-GUEST-UP 150
expect_eq "$(cat "$cg/memory.max")" 536870912 "memory.max"
expect_eq "$(cat "$cg/pids.max")" 64 "pids.max"
expect_eq "$(cat "$cg/cpu.max")" "50000 100000" "cpu.max"
# ember, and the kernel threads KVM makes for its VM (they join their creator's cgroups)
epid=
for p in $(cat "$cg/cgroup.procs"); do
	note "in the cgroup: $p $(cat "/proc/$p/comm") (parent $(awk '$1 == "PPid:" { print $2 }' "/proc/$p/status"))"
	if [ "$(cat "/proc/$p/comm")" = ember ]; then
		epid=$p
	else
		case "$(cat "/proc/$p/comm")" in kvm*) ;; *) fail "an unexpected process in the cgroup: $p" ;; esac
	fi
done
[ -n "$epid" ] || fail "ember is not in the cgroup"
jpid=$(awk '$1 == "PPid:" { print $2 }' "/proc/$epid/status")
expect_eq "$(tr '\0' ' ' <"/proc/$jpid/cmdline" | cut -d' ' -f1)" "$EMBER_JAIL" "ember's parent"
note "memory.current $(cat "$cg/memory.current"), pids.current $(cat "$cg/pids.current")"
[ "$(cat "$cg/pids.current")" -ge 2 ] || fail "pids.current: ember's threads are not counted"
kill -TERM "$jpid"
wait "$bg"
rc=$?
sed 's/^/| /' "$log"
expect_eq "$rc" 0 "exit status after SIGTERM"
expect_in "$log" "ember: terminating on signal 15"
[ ! -e "$cg" ] && [ ! -e "$top" ] || fail "the cgroups were left behind"
[ -z "$(ls -A "$base/ember")" ] || fail "the jail directory was left behind"

# memory.max far below the guest's RAM: the guest's pages are charged to
# the cgroup and, shmem having no swap here, ember is OOM-killed.
log=$E2E_TMP/oom.log
jail oom --cgroup "$cg" --memory-max 24M </dev/null >"$log" 2>&1
rc=$?
sed 's/^/| oom: /' "$log"
expect_not_in "$log" CGROUP-GUEST-UP
expect_eq "$rc" 137 "exit status with memory.max 24M (SIGKILL by the OOM killer)"
[ ! -e "$cg" ] || fail "the cgroup was left behind"

# pids.max 1: ember alone, no vCPU thread can start.
log=$E2E_TMP/pids.log
jail pids --cgroup "$cg" --pids-max 1 </dev/null >"$log" 2>&1
rc=$?
sed 's/^/| pids: /' "$log"
expect_not_in "$log" CGROUP-GUEST-UP
[ "$rc" != 0 ] || fail "pids.max 1: exit status $rc"
expect_in "$log" "Resource temporarily unavailable"
[ ! -e "$cg" ] && [ ! -e "$top" ] || fail "the cgroups were left behind"
