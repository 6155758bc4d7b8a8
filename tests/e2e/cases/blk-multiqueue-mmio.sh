# Two vCPUs, num-queues=2: the guest's blk-mq has two hardware queues and
# I/O from both CPUs completes.
# e2e-timeout: 180
. "$E2E_LIB"
. "$E2E_DIR/blk-lib.sh"
need_ember
need_kvm
blk_transport
truncate -s 64M "$E2E_TMP/d.img"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "HWQ $(ls /sys/block/vda/mq | wc -l)"
for c in 0 1; do taskset -c $c dd if=/dev/urandom of=/dev/vda bs=64k count=64 seek=$((c * 64)) oflag=direct 2>/dev/null & done
wait
dd if=/dev/vda of=/dev/null bs=1M iflag=direct 2>/dev/null && echo MQ-IO-OK
GUEST
run_ember --timeout 120 $BLK_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -smp 2 \
	-append "$E2E_APPEND" -blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img" \
	-blockdev driver=raw,node-name=d0,file=f0 -device "$BLK_DEV,drive=d0,num-queues=2"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "HWQ 2"
expect_in "$EMBER_LOG" MQ-IO-OK
