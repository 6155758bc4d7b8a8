# QEMU's microvm documentation (docs/system/i386/microvm.rst), its two
# example command lines, run unchanged but for the kernel (the lab's ELF
# vmlinux) and an initrd holding the test: the first with the ISA serial
# port as console, the second with every optional legacy device off and
# hvc0 as console. In each the guest sees its disk (test.img, by its
# contents), its virtio-net card on the tap, and its console.
# e2e-timeout: 300
# shellcheck source=../lib.sh
. "$E2E_LIB"
need_ember
need_kvm
modprobe tun 2>/dev/null
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing after modprobe tun"
# test.img, as the documentation names it, in the case's directory (the cwd)
truncate -s 4M test.img
printf 'MICROVM-DOC-DISK-0123' | dd of=test.img conv=notrunc 2>/dev/null
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
# console=hvc0: no /dev/console at boot (hvc0 comes with virtio_console)
grep -q console=hvc0 /proc/cmdline && exec </dev/hvc0 >/dev/hvc0 2>&1
echo "DISK:$(head -c 21 /dev/vda)"
echo "NET:$(cat /sys/class/net/eth0/address)"
echo "CONSOLE:$(cat /sys/class/tty/console/active)"
echo "CPUS:$(grep -c ^processor /proc/cpuinfo)"
echo "COM1:$(grep '^0:' /proc/tty/driver/serial | cut -d' ' -f2)"
GUEST
doc_check() { # LOG CONSOLE COM1
	expect_in "$1" "COM1:uart:$3"
	expect_in "$1" "DISK:MICROVM-DOC-DISK-0123"
	expect_in "$1" "NET:52:54:00:12:34:56"
	expect_in "$1" "CONSOLE:$2"
	expect_in "$1" "CPUS:2"
	expect_in "$1" "ember: guest powered off"
}

# "a VM is created without passing any additional machine-specific option,
# using the legacy ISA serial device as console"
run_ember --timeout 240 --log "$E2E_TMP/legacy.log" -M microvm \
	-enable-kvm -cpu host -m 512m -smp 2 \
	-kernel "$LAB_VMLINUX" -initrd "$E2E_TMP/initrd" \
	-append "earlyprintk=ttyS0 console=ttyS0 root=/dev/vda" \
	-nodefaults -no-user-config -nographic \
	-serial stdio \
	-drive id=test,file=test.img,format=raw,if=none \
	-device virtio-blk-device,drive=test \
	-netdev tap,id=tap0,script=no,downscript=no \
	-device virtio-net-device,netdev=tap0
expect_eq "$?" 0 "ember exit status (legacy devices)"
doc_check "$E2E_TMP/legacy.log" ttyS0 16550A

# "a VM with all optional legacy features disabled"
run_ember --timeout 240 --log "$E2E_TMP/minimal.log" \
	-M microvm,x-option-roms=off,pit=off,pic=off,isa-serial=off,rtc=off \
	-enable-kvm -cpu host -m 512m -smp 2 \
	-kernel "$LAB_VMLINUX" -initrd "$E2E_TMP/initrd" -append "console=hvc0 root=/dev/vda" \
	-nodefaults -no-user-config -nographic \
	-chardev stdio,id=virtiocon0 \
	-device virtio-serial-device \
	-device virtconsole,chardev=virtiocon0 \
	-drive id=test,file=test.img,format=raw,if=none \
	-device virtio-blk-device,drive=test \
	-netdev tap,id=tap0,script=no,downscript=no \
	-device virtio-net-device,netdev=tap0
expect_eq "$?" 0 "ember exit status (legacy devices off)"
# isa-serial=off: the guest finds no UART at COM1
doc_check "$E2E_TMP/minimal.log" hvc0 unknown
