# ember-jail's bad input (docs/jail.md): each is one line "ember-jail:
# error: ..." naming the problem, exit status 1, and nothing left behind (no
# jail directory, no cgroup). A missing base directory, a missing --file or
# --exec-file, an unknown user or group, root as the uid, a cgroup path
# outside cgroup v2 (/proc) or on a read-only cgroup2 mount, a stale jail
# directory, a descriptor that is not open, a bad id, an unknown option.
# e2e-timeout: 120
# shellcheck disable=SC2086 # $ok is split into words on purpose
. "$E2E_LIB"
need_ember
if [ -z "${EMBER_JAIL:-}" ] || [ ! -x "$EMBER_JAIL" ]; then skip "ember-jail is not built (no build/ember-jail)"; fi
ulimit -c 0

base=$E2E_TMP/jails
mkdir "$base"
check() { # NAME PATTERN ARGS...
	name=$1 pat=$2
	shift 2
	"$EMBER_JAIL" "$@" -- -kernel /vmlinuz </dev/null >"$E2E_TMP/$name.out" 2>&1
	rc=$?
	sed "s/^/| $name: /" "$E2E_TMP/$name.out"
	expect_eq "$rc" 1 "$name: exit status"
	expect_eq "$(wc -l <"$E2E_TMP/$name.out" | tr -d ' ')" 1 "$name: lines of output"
	expect_in "$E2E_TMP/$name.out" "^ember-jail: error: $pat"
	[ -z "$(ls -A "$base/ember" 2>/dev/null)" ] || fail "$name: left $(ls -A "$base/ember") behind"
}
ok="--id vm1 --exec-file $EMBER --uid 1234 --gid 1234 --chroot-base-dir $base"

check no-base-dir "--chroot-base-dir /nonexistent/jails: No such file or directory" \
	--id vm1 --exec-file "$EMBER" --uid 1234 --gid 1234 --chroot-base-dir /nonexistent/jails
check default-base-dir "--chroot-base-dir /srv/jailer: No such file or directory" \
	--id vm1 --exec-file "$EMBER" --uid 1234 --gid 1234
check no-file "--file /nonexistent/vmlinuz: No such file or directory" $ok --file /nonexistent/vmlinuz
check no-exec-file "--exec-file /nonexistent/ember: No such file or directory" \
	--id vm1 --exec-file /nonexistent/ember --uid 1234 --gid 1234 --chroot-base-dir "$base"
check not-executable "--exec-file /etc/passwd: not an executable file" \
	--id vm1 --exec-file /etc/passwd --uid 1234 --gid 1234 --chroot-base-dir "$base"
check unknown-user "--uid no-such-user: no such user" \
	--id vm1 --exec-file "$EMBER" --uid no-such-user --gid 1234 --chroot-base-dir "$base"
check unknown-group "--gid no-such-group: no such group" \
	--id vm1 --exec-file "$EMBER" --uid 1234 --gid no-such-group --chroot-base-dir "$base"
check root-uid "--uid 0: the jail must not run as root" \
	--id vm1 --exec-file "$EMBER" --uid 0 --gid 1234 --chroot-base-dir "$base"
check cgroup-proc "--cgroup /proc/ember-vm1: /proc is not in a cgroup v2 hierarchy" \
	$ok --cgroup /proc/ember-vm1 --pids-max 64
check limit-without-cgroup "--memory-max needs --cgroup" $ok --memory-max 512M
check bad-memory-max "--memory-max 'lots': expected 'max' or bytes" $ok --cgroup /sys/fs/cgroup/x --memory-max lots
check bad-id "--id 'a/b': only letters, digits" --id a/b --exec-file "$EMBER" --uid 1234 --gid 1234
check unknown-option "unknown option '--chroot'" $ok --chroot /x
check closed-fd "--keep-fd 9: not an open descriptor" $ok --keep-fd 9
check same-path "jail path /ember is used twice" $ok --file "$EMBER:/ember"

# A cgroup v2 mount that is read-only: nothing can be created or enabled in it.
if grep -q cgroup2 /proc/filesystems; then
	mkdir "$E2E_TMP/cg-ro"
	mount -t cgroup2 -o ro cgroup2 "$E2E_TMP/cg-ro" || fail "cannot mount cgroup2 read-only"
	check cgroup-ro "--cgroup $E2E_TMP/cg-ro/ember-vm1: cannot create $E2E_TMP/cg-ro/ember-vm1: Read-only file system" \
		$ok --cgroup "$E2E_TMP/cg-ro/ember-vm1"
	check cgroup-ro-limits "--cgroup $E2E_TMP/cg-ro/ember-vm1: cannot \(enable\|create\) .*: Read-only file system" \
		$ok --cgroup "$E2E_TMP/cg-ro/ember-vm1" --memory-max 512M --pids-max 64
	umount "$E2E_TMP/cg-ro"
	[ ! -e /sys/fs/cgroup/ember-vm1 ] || fail "a cgroup was created through the read-only mount"
fi

# A jail directory from an earlier run that was not cleaned up.
mkdir -p "$base/ember/vm1/root"
"$EMBER_JAIL" $ok -- -kernel /vmlinuz </dev/null >"$E2E_TMP/stale.out" 2>&1
rc=$?
sed 's/^/| stale: /' "$E2E_TMP/stale.out"
expect_eq "$rc" 1 "stale: exit status"
expect_eq "$(wc -l <"$E2E_TMP/stale.out" | tr -d ' ')" 1 "stale: lines of output"
expect_in "$E2E_TMP/stale.out" "^ember-jail: error: jail $base/ember/vm1 already exists"
[ -d "$base/ember/vm1/root" ] || fail "stale: the existing jail was touched"
