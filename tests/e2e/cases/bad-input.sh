# Bad input: each a one-line error naming the problem and exit status 1,
# never a crash or a core dump.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
ulimit -c 0
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo SHOULD-NOT-BOOT
GUEST
head -c 300000000 /dev/zero >"$E2E_TMP/huge.img"
expect_usage_error no-kernel "no kernel given" -m 256
expect_usage_error missing-kernel "cannot open kernel '/nonexistent/vmlinuz'" -kernel /nonexistent/vmlinuz
expect_usage_error not-a-kernel "not a bzImage or ELF vmlinux" -kernel /etc/passwd
expect_usage_error initrd-too-big "initrd '.*huge.img'.*does not fit" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/huge.img" -m 128
expect_usage_error mem-zero "-m 0: guest RAM must be at least" -kernel "$LAB_KERNEL" -m 0
expect_usage_error smp-zero "-smp 0: the number of vCPUs must be between 1 and" -kernel "$LAB_KERNEL" -smp 0
expect_usage_error unknown-device "-device frobnicator: unknown device type" -kernel "$LAB_KERNEL" -device frobnicator
expect_usage_error duplicate-id "duplicate id 'x'" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -serial none \
	-chardev null,id=n1 -chardev null,id=n2 \
	-device isa-serial,chardev=n1,iobase=0x2f8,irq=3,id=x -device isa-serial,chardev=n2,iobase=0x3e8,irq=4,id=x
expect_usage_error bad-property "unknown property 'speed'" -kernel "$LAB_KERNEL" -device isa-serial,speed=9600
expect_usage_error overlap "0x3f8" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -chardev null,id=n1 -device isa-serial,chardev=n1
