# The shadow doorbell buffer (Doorbell Buffer Config, NVMe 1.3): the
# guest's nvme driver sees OACS bit 8 and hands ember its shadow doorbell
# and EventIdx pages; then, under parallel direct I/O from 8 readers and
# writers on 2 vCPUs, it leaves its completion queue heads in RAM and
# writes a completion doorbell register for under a tenth of its commands,
# where without them it writes one per interrupt; the submission doorbells
# it still writes (whenever ember has caught up with a queue) are KVM
# ioeventfds, so under a tenth of them reach ember as exits. The data
# still reads back right on the host.
# e2e-timeout: 240
. "$E2E_LIB"
need_ember
need_kvm
img=$E2E_TMP/disk.img
truncate -s 64M "$img"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
for j in 0 1 2 3; do
	yes "ember-dbbuf-$j" | head -c 4194304 >/tmp/p$j
	dd if=/tmp/p$j of=/dev/nvme0n1 bs=64k seek=$((j * 128)) oflag=direct 2>/dev/null &
done
wait
for j in 0 1 2 3 4 5 6 7; do
	dd if=/dev/nvme0n1 of=/dev/null bs=4k count=4096 skip=$((j * 1024)) iflag=direct 2>/dev/null &
done
wait
ok=0
for j in 0 1 2 3; do
	dd if=/dev/nvme0n1 bs=64k skip=$((j * 128)) count=64 iflag=direct 2>/dev/null | cmp -s - /tmp/p$j &&
		ok=$((ok + 1))
done
echo "DBBUF-READBACK $ok"
echo GUEST-DONE
GUEST
EMBER_DEBUG=1
export EMBER_DEBUG
run_ember --timeout 200 -M pci -smp 2 -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" -blockdev driver=file,node-name=f0,filename="$img" \
	-device nvme,drive=f0,serial=EMBER-DB,num_queues=2
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "DBBUF-READBACK 4"
expect_in "$EMBER_LOG" "nvme.*shadow doorbells at"
line=$(grep -o '[0-9]* I/O commands ([0-9]* with SGLs), [0-9]* I/O submission and [0-9]* completion' \
	"$EMBER_LOG" | tail -n 1)
[ -n "$line" ] || fail "ember logged no doorbell count"
set -- $(echo "$line" | tr -cs '0-9' ' ')
cmds=$1 sqw=$3 cqw=$4
note "$cmds I/O commands: $sqw submission and $cqw completion doorbell writes"
[ "$cmds" -gt 1000 ] || fail "only $cmds I/O commands"
# Without shadow doorbells the guest writes a completion doorbell per
# interrupt, and a submission doorbell per batch of commands, each an exit
# to ember; with them the submission doorbells it still writes are KVM
# ioeventfds (counted only when they reach ember).
expect_in "$EMBER_LOG" "I/O doorbells are ioeventfds"
[ $((cqw * 10)) -lt "$cmds" ] || fail "$cqw completion doorbell writes for $cmds commands"
[ $((sqw * 10)) -lt "$cmds" ] || fail "$sqw submission doorbell writes reached ember for $cmds commands"
for j in 0 1 2 3; do
	expect_eq "$(dd if="$img" bs=64k skip=$((j * 128)) count=64 2>/dev/null | md5sum | cut -d' ' -f1)" \
		"$(yes "ember-dbbuf-$j" | head -c 4194304 | md5sum | cut -d' ' -f1)" "pattern $j on the host"
done
