# The unit tests that need what only the lab has: a real /dev/kvm (test_kvm's
# small guest payloads), /dev/vhost-net (test_vhost's real kernel) and
# /dev/vhost-vsock (test_device_types' vhost-vsock types). On a host without
# them those cases skip; here each must run and pass, none may skip.
# e2e-timeout: 180
# e2e-unit: test_kvm test_vhost test_device_types
. "$E2E_LIB"
need_kvm
E2E_UNIT_DIR=$LAB_FILES/unit
[ -d "$E2E_UNIT_DIR" ] || skip "the unit tests are not built (no build/tests/unit)"
for m in tun vhost_net vhost_vsock; do
	modprobe "$m" 2>/dev/null || note "modprobe $m failed"
done
for t in test_kvm test_vhost test_device_types; do
	bin=$E2E_UNIT_DIR/$t
	[ -x "$bin" ] || fail "$t was not shipped into the lab ($bin)"
	log=$E2E_TMP/$t.log
	"$bin" >"$log" 2>&1
	rc=$?
	passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	if grep -q '^\[  SKIPPED \]' "$log" || grep -q '^\[  FAILED  \]' "$log" || [ "$rc" != 0 ] || [ -z "$passed" ]; then
		cat "$log" >&2
		grep -q '^\[  SKIPPED \]' "$log" && fail "$t skipped a case in the lab, where nothing it needs is missing"
		fail "$t failed in the lab (exit $rc)"
	fi
	note "$t: $passed passed, none skipped"
done
