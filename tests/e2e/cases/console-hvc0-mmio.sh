# hvc0 over virtio-console as the guest's console (console=hvc0, no serial
# port): the kernel's messages (those after virtio_console loads: before it,
# hvc0 has nowhere to write, as under QEMU) and the guest's output reach
# the virtconsole's chardev (stdio), a line typed into it reaches the guest
# through hvc0 and comes back; a virtserialport on a file chardev shows up
# in the guest by name and what the guest writes there lands in the file;
# two more ports on the two ends of a Unix socket (a server and its client)
# carry a line from one port to the other (output through send() on the
# sandboxed loop thread, input into a port the guest reads).
# The transport follows the case name (…-mmio, …-pci); the PCI case also
# types its line before the guest is up (held in the chardev, not lost)
# and leaves -serial out (a -chardev stdio takes the default COM1's place).
# e2e-timeout: 150
. "$E2E_LIB"
need_ember
need_kvm
case "$E2E_CASE" in
*-pci) machine="-M pci" vser="virtio-serial-pci,id=vser0,addr=5" serial= early=--early
	line=typed-before-boot-0123456789-abcdefghij ;;
*) machine= vser="virtio-serial-device,id=vser0" serial="-serial none" early=
	line=hello-over-hvc0-0123456789-abcdefghij ;;
esac
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
# No /dev/console at boot (hvc0 comes with the virtio_console module).
exec </dev/hvc0 >/dev/hvc0 2>&1
stty -echo
echo "<3>KMSG-VIA-HVC0" >/dev/kmsg
# The boot messages, in bulk (tens of KiB through the transmitq).
echo "$(dmesg | tr '\n' ' ') DMESG-END"
echo "CONSOLE-IS:$(cat /sys/class/tty/console/active)"
# What udev would do: /dev/virtio-ports/NAME for each named port.
mkdir -p /dev/virtio-ports
for d in /sys/class/virtio-ports/*; do
	[ -f "$d/name" ] || continue
	ln -s "../${d##*/}" "/dev/virtio-ports/$(cat "$d/name")"
done
ls /dev/virtio-ports
echo "PORT-DATA-0123" >/dev/virtio-ports/org.example.port && echo PORT-WRITTEN
timeout 30 head -n 1 /dev/virtio-ports/port.b >/tmp/b &
sleep 1
echo via-socket-ports >/dev/virtio-ports/port.a
wait
echo "GOT-PORTS:$(cat /tmp/b)"
echo READY-FOR-INPUT
read -r line
echo "GOT:$line:END"
GUEST
log=$E2E_TMP/ember.log
# shellcheck disable=SC2086 # $machine, $serial, $early: words
run_typed $early "$log" "$line" 110 \
	timeout 120 "$EMBER" $machine -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "console=hvc0 panic=-1" $serial \
	-chardev stdio,id=con -chardev file,id=port,path="$E2E_TMP/port.txt" \
	-device "$vser" -device virtconsole,chardev=con,bus=vser0.0 \
	-device virtserialport,chardev=port,name=org.example.port \
	-chardev socket,id=srv,path="$E2E_TMP/ports.sock",server=on,wait=off \
	-chardev socket,id=cli,path="$E2E_TMP/ports.sock",server=off \
	-device virtserialport,chardev=srv,name=port.a -device virtserialport,chardev=cli,name=port.b
rc=$?
expect_eq "$rc" 0 "ember exit status"
expect_in "$log" "^\[ *[0-9]*\.[0-9]*\] KMSG-VIA-HVC0"
expect_in "$log" "Linux version .*DMESG-END"
expect_in "$log" "CONSOLE-IS:hvc0"
expect_in "$log" "^org.example.port"
expect_in "$log" PORT-WRITTEN
expect_in "$log" "GOT-PORTS:via-socket-ports"
expect_not_in "$log" seccomp
expect_in "$E2E_TMP/port.txt" PORT-DATA-0123
expect_in "$log" "GOT:$line:END"
expect_in "$log" "ember: guest powered off"
