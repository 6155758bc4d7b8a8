# virtio-serial with max_ports=1: no multiport, so the driver takes port 0
# as its console at once, without the control queue. hvc0 is the console;
# output and a typed line go through it as with multiport.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
exec </dev/hvc0 >/dev/hvc0 2>&1
stty -echo
echo "CONSOLE-IS:$(cat /sys/class/tty/console/active) PORTS:$(ls /sys/class/virtio-ports)"
echo READY-FOR-INPUT
read -r line
echo "GOT:$line:END"
GUEST
log=$E2E_TMP/ember.log
run_typed "$log" single-port-line-0123456789 90 \
	timeout 100 "$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "console=hvc0 panic=-1 quiet" -serial none -chardev stdio,id=con \
	-device virtio-serial-device,max_ports=1 -device virtconsole,chardev=con
rc=$?
expect_eq "$rc" 0 "ember exit status"
expect_in "$log" "CONSOLE-IS:hvc0 PORTS:vport0p0"
expect_in "$log" "GOT:single-port-line-0123456789:END"
