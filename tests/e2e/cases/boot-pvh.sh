# The same kernel as an uncompressed ELF vmlinux, entered through its PVH note.
# e2e-timeout: 120
. "$E2E_LIB"
need_kvm
[ -f "$LAB_VMLINUX" ] || fail "the lab has no vmlinux ($LAB_VMLINUX)"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "MARKER-PVH cpus=$(grep -c ^processor /proc/cpuinfo)"
GUEST
run_ember -kernel "$LAB_VMLINUX" -initrd "$E2E_TMP/initrd" -m 256 -smp 2 -append "$E2E_APPEND"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "MARKER-PVH cpus=2"
expect_in "$EMBER_LOG" "ember: guest powered off"
