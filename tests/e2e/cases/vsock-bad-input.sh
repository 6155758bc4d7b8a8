# vhost-vsock options that are wrong: each a one-line error naming the
# problem, exit status 1. Reserved CIDs, a missing guest-cid, a CID that a
# running ember holds, and no /dev/vhost-vsock at all.
# e2e-timeout: 150
. "$E2E_LIB"
need_ember
need_kvm
# Without the module first (no other ember holds it between cases).
modprobe -r vhost_vsock 2>/dev/null
[ -e /dev/vhost-vsock ] && fail "cannot unload vhost_vsock to test its absence"
expect_usage_error no-device "/dev/vhost-vsock: No such file or directory (is the vhost_vsock module loaded?)" \
	-kernel "$LAB_KERNEL" -device vhost-vsock-device,guest-cid=3
modprobe vhost_vsock || fail "modprobe vhost_vsock"
expect_usage_error cid-2 "guest-cid=2 is reserved" -kernel "$LAB_KERNEL" -device vhost-vsock-device,guest-cid=2
expect_usage_error cid-0 "guest-cid=0 is reserved" -kernel "$LAB_KERNEL" -M pci -device vhost-vsock-pci,guest-cid=0
expect_usage_error cid-any "guest-cid=4294967295 is out of range" -kernel "$LAB_KERNEL" -device vhost-vsock-device,guest-cid=0xffffffff
expect_usage_error no-cid "property 'guest-cid' is required" -kernel "$LAB_KERNEL" -device vhost-vsock-device
expect_usage_error bad-addr "addr=zz" -kernel "$LAB_KERNEL" -M pci -device vhost-vsock-pci,guest-cid=3,addr=zz
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo HOLDING; sleep 30
GUEST
"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	-device vhost-vsock-device,guest-cid=77 </dev/null >"$E2E_TMP/holder.log" 2>&1 &
holder=$!
wait_for "$E2E_TMP/holder.log" HOLDING 80
expect_usage_error duplicate "guest-cid=77 is in use by another VM on this host" \
	-kernel "$LAB_KERNEL" -M pci -device vhost-vsock-pci,guest-cid=77
kill $holder
wait $holder
sed 's/^/| holder: /' "$E2E_TMP/holder.log"
