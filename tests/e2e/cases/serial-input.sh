# A line typed into the serial console (ember's stdin) reaches the guest,
# which echoes it back; more than the UART's 16-byte FIFO in one go.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
stty -echo -icanon 2>/dev/null; stty icanon
echo READY-FOR-INPUT
read -r line
echo "GOT:$line:END"
GUEST
log=$E2E_TMP/ember.log
run_typed "$log" hello-from-the-host-0123456789-abcdefghij 80 \
	timeout 90 "$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND"
rc=$?
expect_eq "$rc" 0 "ember exit status"
expect_in "$log" "GOT:hello-from-the-host-0123456789-abcdefghij:END"
