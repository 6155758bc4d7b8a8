# Bad input: each a one-line error naming the problem and exit status 1,
# never a crash or a core dump.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
ulimit -c 0
check() { # NAME PATTERN ARGS...
	name=$1 pat=$2
	shift 2
	"$EMBER" "$@" </dev/null >"$E2E_TMP/$name.out" 2>&1
	rc=$?
	sed "s/^/| $name: /" "$E2E_TMP/$name.out"
	expect_eq "$rc" 1 "$name: exit status"
	expect_eq "$(wc -l <"$E2E_TMP/$name.out" | tr -d ' ')" 1 "$name: lines of output"
	expect_in "$E2E_TMP/$name.out" "$pat"
}
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo SHOULD-NOT-BOOT
GUEST
head -c 300000000 /dev/zero >"$E2E_TMP/huge.img"
check no-kernel "no kernel given" -m 256
check missing-kernel "cannot open kernel '/nonexistent/vmlinuz'" -kernel /nonexistent/vmlinuz
check not-a-kernel "not a bzImage or ELF vmlinux" -kernel /etc/passwd
check initrd-too-big "initrd '.*huge.img'.*does not fit" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/huge.img" -m 128
check mem-zero "-m 0: guest RAM must be at least" -kernel "$LAB_KERNEL" -m 0
check smp-zero "-smp 0: the number of vCPUs must be between 1 and" -kernel "$LAB_KERNEL" -smp 0
check unknown-device "-device frobnicator: unknown device type" -kernel "$LAB_KERNEL" -device frobnicator
check duplicate-id "duplicate id 'x'" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -serial none \
	-chardev null,id=n1 -chardev null,id=n2 \
	-device isa-serial,chardev=n1,iobase=0x2f8,irq=3,id=x -device isa-serial,chardev=n2,iobase=0x3e8,irq=4,id=x
check bad-property "unknown property 'speed'" -kernel "$LAB_KERNEL" -device isa-serial,speed=9600
check overlap "0x3f8" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -chardev null,id=n1 -device isa-serial,chardev=n1
