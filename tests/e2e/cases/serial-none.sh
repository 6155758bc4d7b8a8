# -serial none: no COM1 at all. The guest boots silently to the same script;
# it reaches a second UART added with -device isa-serial on a file chardev,
# and its poweroff ends ember with status 0.
# e2e-timeout: 120
. "$E2E_LIB"
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
for t in /dev/ttyS0 /dev/ttyS1; do echo "MARKER-SILENT via $t" >"$t"; done 2>/dev/null
GUEST
run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	-serial none -chardev file,id=c1,path="$E2E_TMP/com2.txt" \
	-device isa-serial,chardev=c1,iobase=0x2f8,irq=3,id=com2
expect_eq "$?" 0 "ember exit status"
expect_not_in "$EMBER_LOG" "MARKER-SILENT"
expect_in "$E2E_TMP/com2.txt" "MARKER-SILENT via"
