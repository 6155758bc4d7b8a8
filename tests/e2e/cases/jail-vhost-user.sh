# vhost-user-blk from a jailed ember: qemu-storage-daemon (outside, as
# root) exports an image on a socket that L1 gives the jail's uid; the
# jailer bind-mounts that socket into the jail (--rw-file SOCK:/vub.sock),
# and the jailed ember (sandbox on, uid 1234) connects to it, hands the
# daemon its shared guest RAM and rings, and the guest writes 1 MiB that
# L1 then finds in the image. Without the socket in the jail: one line
# naming the path, exit 1.
# e2e-timeout: 240
# e2e-needs: qemu-storage-daemon
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
. "$E2E_DIR/jail-lib.sh"
jail_setup
vub_setup 32M
vub_daemon "$img" "$sock"
chown 1234:1234 "$sock"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
dd if=/dev/urandom of=/w bs=1M count=1 2>/dev/null
echo "WROTE $(sha256sum /w | cut -d' ' -f1)"
dd if=/w of=/dev/vda bs=1M seek=4 conv=fsync 2>/dev/null || echo WRITE-FAILED
echo GUEST-DONE
GUEST
# shellcheck disable=SC2086 # VUB_RAM is words
jail_run nosock "$E2E_TMP/nosock.log" "" $VUB_RAM -chardev socket,id=c0,path=/vub.sock \
	-device "$VUB_DEV,chardev=c0"
rc=$?
sed 's/^/| nosock: /' "$E2E_TMP/nosock.log"
expect_eq "$rc" 1 "exit status without the socket in the jail"
expect_in "$E2E_TMP/nosock.log" "cannot connect to '/vub.sock'"
# shellcheck disable=SC2086 # VUB_RAM is words
jail_run withsock "$E2E_TMP/withsock.log" "--rw-file $sock:/vub.sock" $VUB_RAM \
	-chardev socket,id=c0,path=/vub.sock -device "$VUB_DEV,chardev=c0"
rc=$?
kill "$QSD_PID" 2>/dev/null
wait "$QSD_PID" 2>/dev/null
sed 's/^/| withsock: /' "$E2E_TMP/withsock.log"
expect_eq "$rc" 0 "exit status of the jailed ember"
expect_in "$E2E_TMP/withsock.log" GUEST-DONE
expect_not_in "$E2E_TMP/withsock.log" WRITE-FAILED
sum=$(sed -n 's/^WROTE \([0-9a-f]*\).*/\1/p' "$E2E_TMP/withsock.log" | head -n 1)
[ -n "$sum" ] || fail "the guest printed no checksum"
expect_eq "$(dd if="$img" bs=1M skip=4 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)" "$sum" \
	"the guest's 1 MiB read back from the image"
