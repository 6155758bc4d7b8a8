# A forbidden system call kills ember with SIGSYS, and its log names the
# call and the thread. The call comes from a test-only trigger (execve, once
# every filter is loaded), compiled in with -Dtest_triggers=true only: the
# case is skipped for an ember built without it.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
"$EMBER" -version 2>&1 | grep -q 'test triggers' ||
	skip "this ember has no test triggers (meson setup -Dtest_triggers=true)"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo GUEST-RAN
GUEST
# No core file: it would hold all of guest RAM.
ulimit -c 0
for where in vcpu main; do
	log=$E2E_TMP/ember-$where.log
	EMBER_TEST_FORBIDDEN_SYSCALL=$where "$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" \
		-m 256 -smp 2 -append "$E2E_APPEND" </dev/null >"$log" 2>&1
	rc=$?
	sed 's/^/| /' "$log"
	[ "$where" = vcpu ] && thread=vcpu0 || thread=main
	expect_eq "$rc" $((128 + 31)) "exit status ($where): death by SIGSYS"
	expect_in "$log" "^ember: error: seccomp: thread $thread made forbidden system call execve(59)$"
	expect_not_in "$log" GUEST-RAN
done
