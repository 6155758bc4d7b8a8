# Console output to a file chardev: the guest's output lands in the file,
# nothing on ember's stdout.
# e2e-timeout: 120
. "$E2E_LIB"
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo MARKER-IN-FILE
GUEST
run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	-chardev file,id=con,path="$E2E_TMP/console.txt" -serial chardev:con
expect_eq "$?" 0 "ember exit status"
expect_in "$E2E_TMP/console.txt" MARKER-IN-FILE
expect_not_in "$EMBER_LOG" MARKER-IN-FILE
expect_in "$EMBER_LOG" "ember: guest powered off"
