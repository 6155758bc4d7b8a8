# -sandbox off: one warning line, no filter, the capabilities kept, and the
# guest boots as usual. Bad -sandbox values are refused.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
"$EMBER" -sandbox maybe -kernel "$LAB_KERNEL" >"$E2E_TMP/bad.log" 2>&1
expect_eq "$?" 1 "exit status of -sandbox maybe"
expect_in "$E2E_TMP/bad.log" "sandbox maybe: expected on or off"
# QEMU's deny keys are taken (qemu-daemonize); allow cannot be honoured
"$EMBER" -sandbox on,obsolete=allow -kernel "$LAB_KERNEL" >"$E2E_TMP/bad2.log" 2>&1
expect_eq "$?" 1 "exit status of -sandbox on,obsolete=allow"
expect_in "$E2E_TMP/bad2.log" "sandbox obsolete=allow: ember's allowlist always denies"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo OFF-READY
read -r line
echo "GOT:$line"
GUEST
mkfifo "$E2E_TMP/in"
log=$E2E_TMP/ember.log
"$EMBER" -sandbox off -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	<"$E2E_TMP/in" >"$log" 2>&1 &
pid=$!
exec 3>"$E2E_TMP/in"
wait_for "$log" OFF-READY 80
st=/proc/$pid/status
grep -E '^(Seccomp|NoNewPrivs|CapEff):' "$st" | sed 's/^/e2e: /' >&2
grep -qx 'Seccomp:	0' "$st" || fail "a filter is loaded with -sandbox off"
grep -qx 'NoNewPrivs:	0' "$st" || fail "NO_NEW_PRIVS is set with -sandbox off"
printf 'unsandboxed\n' >&3
wait $pid
rc=$?
exec 3>&-
sed 's/^/| /' "$log"
expect_eq "$rc" 0 "ember exit status"
expect_eq "$(grep -c '^ember: warning: -sandbox off' "$log")" 1 "warning lines"
expect_in "$log" "GOT:unsandboxed"
