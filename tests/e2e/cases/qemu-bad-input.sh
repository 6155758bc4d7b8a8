# Bad QEMU-style input: every unknown option, malformed JSON option and
# QEMU feature ember cannot honour gets one line naming the option and why,
# and exit status 1 (a usage error), before /dev/kvm is opened
# (EMBER_KVM_DEV points nowhere: an error after opening it would name it).
# e2e-timeout: 120
# shellcheck source=../lib.sh
. "$E2E_LIB"
need_ember
ulimit -c 0
export EMBER_KVM_DEV=/nonexistent/kvm
bad() { # NAME PATTERN ARGS...
	_n=$1 _p=$2
	shift 2
	expect_usage_error "$_n" "$_p" -kernel "$LAB_KERNEL" "$@"
	expect_not_in "$E2E_TMP/$_n.out" "nonexistent/kvm"
}
# unknown options, each named
for o in -bogus --bogus -hda -cdrom -vnc -spice -boot -bios -usb -k -loadvm -icount; do
	bad "unknown$o" "unknown option '$o' (see ember -help)" "$o" x
done
# malformed JSON of each option that takes it
bad json-device "-device: not valid JSON" -device '{"driver":"virtio-blk-pci",'
bad json-object "-object: not valid JSON: text after the object" -object '{"qom-type":"x"} y'
bad json-netdev "-netdev: 'fds': JSON arrays are not supported" -netdev '{"type":"tap","id":"n","fds":[3,4]}'
bad json-blockdev "-blockdev: 'file.filename': null is not a value" \
	-blockdev '{"driver":"raw","node-name":"d","file":{"driver":"file","filename":null}}'
bad json-key "-device: JSON key 'a=b' cannot be an option key" -device '{"driver":"virtio-rng-device","a=b":1}'
bad json-unknown-device "-device frobnicator: unknown device type" -device '{"driver":"frobnicator"}'
# a device's properties too, before /dev/kvm (device_check)
bad json-device-prop "-device virtio-blk-pci: unknown property 'scsi'" \
	-M pci -device '{"driver":"virtio-blk-pci","drive":"d0","scsi":false}'
bad device-required "-device virtio-net-device: property 'netdev' is required" -device virtio-net-device
# what ember cannot honour, each named
bad accel-tcg "-accel tcg: ember runs on KVM only" -accel tcg
bad machine-accel "-M accel=tcg: ember runs on KVM only" -M microvm,accel=tcg
bad machine-acpi "-M acpi=off: .*acpi=on only" -M microvm,acpi=off
bad machine-q35 "-M q35: unknown machine type" -M q35
bad drive-vmdk "-drive format=vmdk: ember reads raw and qcow2 images" -drive file=x.img,if=virtio,format=vmdk
bad drive-ide "-drive: if=ide (QEMU's default) is not in ember" -drive file=x.img
bad drive-cache "-drive cache=sync: expected writeback, none, writethrough, directsync or unsafe" -drive file=x.img,if=none,cache=sync
bad nic-model "-nic model=e1000: ember's network card is virtio-net" -nic tap,model=e1000
bad tap-script "script=/etc/qemu-ifup: ember runs no helper scripts" -netdev tap,id=n0,script=/etc/qemu-ifup
bad rtc-base "-rtc base=tomorrow: expected utc, localtime or a date like 2006-06-17T16:01:21" -rtc base=tomorrow
bad sandbox-allow "-sandbox spawn=allow: ember's allowlist always denies" -sandbox on,spawn=allow
bad cpu-unknown "-cpu Skylake-Server: unknown CPU template" -cpu Skylake-Server
bad qmp-client "-qmp unix:/tmp/x: server=on is required" -qmp unix:/tmp/x
bad qmp-tcp "-qmp tcp:localhost:4444,server,nowait: only unix sockets are supported" \
	-qmp tcp:localhost:4444,server,nowait
bad serial-tcp "-serial tcp::4444: expected stdio" -serial tcp::4444
bad daemonize-stdio "-serial stdio: not with -daemonize" -daemonize -serial stdio
bad mem-maxmem "-m maxmem=512M: expected a size at least the RAM size" -m 1G,maxmem=512M
bad overcommit-pm "-overcommit cpu-pm=on: ember does not give the guest HLT and MWAIT" -overcommit cpu-pm=on
bad uuid "-uuid not-a-uuid: expected a UUID" -uuid not-a-uuid
bad isa-serial-off "-serial stdio: -M isa-serial=off has no serial ports" -M microvm,isa-serial=off -serial stdio
# -nic user is -netdev user: without that back end the usual unknown-type
# error, with it the options are all taken and /dev/kvm is next
"$EMBER" -kernel "$LAB_KERNEL" -nic user </dev/null >"$E2E_TMP/nic-user.out" 2>&1
cat "$E2E_TMP/nic-user.out"
grep -q -e "-netdev user: unknown type" -e "nonexistent/kvm" "$E2E_TMP/nic-user.out" ||
	fail "-nic user: neither -netdev user's unknown-type error nor /dev/kvm"
# -nodefaults drops COM1: an isa-serial of the user's at 0x3f8 no longer collides
# (this one fails later, at /dev/kvm: every option was accepted)
"$EMBER" -kernel "$LAB_KERNEL" -nodefaults -chardev null,id=n1 -device isa-serial,chardev=n1 \
	</dev/null >"$E2E_TMP/nodefaults.out" 2>&1
cat "$E2E_TMP/nodefaults.out"
expect_not_in "$E2E_TMP/nodefaults.out" "0x3f8"
expect_in "$E2E_TMP/nodefaults.out" "nonexistent/kvm"
# -object help and -object TYPE,help answer and exit 0
"$EMBER" -object help >"$E2E_TMP/ohelp.out" 2>&1 || fail "-object help exited $?"
expect_in "$E2E_TMP/ohelp.out" "memory-backend-memfd"
"$EMBER" -object memory-backend-memfd,help >"$E2E_TMP/otype.out" 2>&1 ||
	fail "-object memory-backend-memfd,help exited $?"
expect_in "$E2E_TMP/otype.out" "hugetlb="
# -version names the QEMU interface ember follows
"$EMBER" -version | grep -q "^ember [0-9.]* (QEMU [0-9.]* command line and QMP subset)" ||
	fail "-version does not name the QEMU level"
