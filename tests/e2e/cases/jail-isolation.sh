# Inside ember-jail the program sees only its jail (docs/jail.md). A static
# busybox runs in ember's place and reports what it sees: only /busybox,
# /dev (the host's kvm, net/tun, vhost-* that exist, null, urandom) and the
# --file/--rw-file binds; no host file (/etc, /lab, /tmp, /proc, /sys, the
# case's directory); uid/gid 1234 without groups; hostname = the id; the
# environment holds only --env (and what sh adds); descriptor 7 (--keep-fd) is open, 8 is not;
# a --file bind is read-only, a --rw-file one writes through to the host;
# chroot, mknod and mount are refused; its exit status comes back. On L1's
# initramfs root and under pivot_root. A dynamically linked program runs
# (its libraries are copied in). Then the network: the host's
# namespace by default, an empty one with --new-netns, a given one with --netns.
# e2e-timeout: 120
. "$E2E_LIB"
if [ -z "${EMBER_JAIL:-}" ] || [ ! -x "$EMBER_JAIL" ]; then skip "ember-jail is not built (no build/ember-jail)"; fi
# L1's busybox is static (the lab insists); on a direct-mode host, only a static one works
bb=/bin/busybox
[ "$LAB_MODE" = l1 ] || bb=$(readlink -f /bin/busybox-static 2>/dev/null || true)
[ -n "$bb" ] && [ -x "$bb" ] || skip "no static busybox"

for m in tun vhost_net vhost_vsock; do modprobe "$m" 2>/dev/null; done
want_dev=
for d in kvm net null urandom vhost-net vhost-vsock; do
	case $d in net) [ -c /dev/net/tun ] ;; *) [ -c "/dev/$d" ] ;; esac && want_dev="$want_dev$d "
done

base=$E2E_TMP/jails
mkdir "$base"
echo SECRET-IN-JAIL >"$E2E_TMP/secret.txt"
echo before >"$E2E_TMP/rw.txt"
chown 1234:1234 "$E2E_TMP/rw.txt"
echo "host-only" >"$E2E_TMP/host-only.txt"

cat >"$E2E_TMP/inside.sh" <<'EOF'
B=/busybox
echo "root: $($B ls -A / | $B tr '\n' ' ')"
echo "dev: $($B ls -A /dev | $B tr '\n' ' ')"
echo "ids: $($B id -u) $($B id -g) [$($B id -G)]"
echo "host: $($B hostname)"
echo "env: $($B env | $B grep -v -e '^PWD=' -e '^SHLVL=' -e '^_=' -e '^PATH=' | $B sort | $B tr '\n' ' ')"
for p in /etc /etc/passwd /lab /tmp /proc /sys /root /bin "$HOST_TMP" "$HOST_TMP/host-only.txt"; do
	[ -e "$p" ] && echo "VISIBLE $p"
done
echo "secret: $($B cat /data/secret.txt)"
(echo overwrite >/data/secret.txt) 2>/dev/null && echo WROTE-READ-ONLY-FILE
echo "written-in-jail" >/rw.txt || echo RW-WRITE-FAILED
echo kept >&7
(echo leaked >&8) 2>/dev/null && echo FD8-IS-OPEN
$B touch /made-by-jail && echo ROOT-IS-WRITABLE
$B chroot / /busybox true 2>/dev/null && echo CHROOT-ALLOWED
$B mknod /null2 c 1 3 2>/dev/null && echo MKNOD-ALLOWED
$B mount -t tmpfs none /dev 2>/dev/null && echo MOUNT-ALLOWED
exit 42
EOF

with_mounted_root() { # CMD...: run CMD where / is a mount with a parent (pivot_root works)
	mkdir -p "$E2E_TMP/newroot"
	unshare -m sh -c 'mount --make-rprivate / && mount -o rbind / "$1" && cd "$1" &&
		mount -o move . / && shift && exec chroot . "$@"' sh "$E2E_TMP/newroot" "$@"
}

look_inside() { # ID WRAPPER
	id=$1
	out=$E2E_TMP/$id.out
	: >"$E2E_TMP/fd7"
	: >"$E2E_TMP/fd8"
	echo before >"$E2E_TMP/rw.txt"
	(
		exec 7>"$E2E_TMP/fd7" 8>"$E2E_TMP/fd8"
		$2 "$EMBER_JAIL" --id "$id" --exec-file "$bb" --uid 1234 --gid 1234 --chroot-base-dir "$base" \
			--file "$E2E_TMP/secret.txt:/data/secret.txt" --rw-file "$E2E_TMP/rw.txt:/rw.txt" \
			--file "$E2E_TMP/inside.sh:/inside.sh" --keep-fd 7 --env HOST_TMP="$E2E_TMP" --env FOO=bar \
			--keep -- sh /inside.sh
	) </dev/null >"$out" 2>&1
	rc=$?
	sed "s/^/| $id: /" "$out"
	expect_eq "$rc" 42 "$id: exit status"
	expect_in "$out" "^root: busybox data dev inside.sh rw.txt \$"
	expect_in "$out" "^dev: $want_dev\$"
	expect_in "$out" "^ids: 1234 1234 \[1234\]\$"
	expect_in "$out" "^host: $id\$"
	expect_in "$out" "^env: FOO=bar HOST_TMP=$E2E_TMP \$"
	expect_not_in "$out" VISIBLE
	expect_in "$out" "^secret: SECRET-IN-JAIL\$"
	expect_not_in "$out" WROTE-READ-ONLY-FILE
	expect_eq "$(cat "$E2E_TMP/secret.txt")" SECRET-IN-JAIL "$id: the read-only file"
	expect_eq "$(cat "$E2E_TMP/rw.txt")" written-in-jail "$id: the read-write file"
	expect_eq "$(cat "$E2E_TMP/fd7")" kept "$id: descriptor 7"
	expect_eq "$(cat "$E2E_TMP/fd8")" "" "$id: descriptor 8"
	expect_not_in "$out" FD8-IS-OPEN
	expect_in "$out" ROOT-IS-WRITABLE
	expect_not_in "$out" CHROOT-ALLOWED
	expect_not_in "$out" MKNOD-ALLOWED
	expect_not_in "$out" MOUNT-ALLOWED
	# --keep: the jail stays, with what the program made; binds were only in its namespace
	expect_eq "$(stat -c %u "$base/ember/$id/root/made-by-jail")" 1234 "$id: file made in the jail"
	expect_eq "$(cat "$base/ember/$id/root/data/secret.txt")" "" "$id: mount point on the host"
	rm -rf "$base/ember/$id"
}

look_inside iso-plain ""
look_inside iso-pivot with_mounted_root

# A dynamically linked program (ember-jail itself) runs: its interpreter and
# libraries were copied into the jail from its ELF headers.
"$EMBER_JAIL" -v --id dyn --exec-file "$EMBER_JAIL" --uid 1234 --gid 1234 --chroot-base-dir "$base" \
	-- --help </dev/null >"$E2E_TMP/dyn.out" 2>&1
rc=$?
sed 's/^/| dyn: /' "$E2E_TMP/dyn.out"
expect_eq "$rc" 0 "a dynamic program in the jail"
expect_in "$E2E_TMP/dyn.out" "^usage: ember-jail"
expect_in "$E2E_TMP/dyn.out" "copied .*libc.so.6 -> .*libc.so.6"

# Network namespaces: by default the host's, --new-netns an empty one, --netns a given one.
ip link add jhost0 type dummy 2>/dev/null || { modprobe dummy 2>/dev/null; ip link add jhost0 type dummy; } ||
	{ modprobe veth 2>/dev/null; ip link add jhost0 type veth peer name jhost1; } ||
	fail "cannot create a test interface"
unshare -n sh -c 'ip link set lo up; sleep 600' &
holder=$!
sleep 0.3
links() { # ID OPTION...: the interfaces the jail sees
	id=$1
	shift
	"$EMBER_JAIL" --id "$id" --exec-file "$bb" --uid 1234 --gid 1234 --chroot-base-dir "$base" "$@" \
		-- ip -o link </dev/null 2>&1 | awk '{ sub(/:$/, "", $2); sub(/@.*/, "", $2); printf "%s ", $2 }'
}
host_links=$(links net-host)
new_links=$(links net-new --new-netns)
given=$(links net-given --netns "/proc/$holder/ns/net")
given_state=$("$EMBER_JAIL" --id net-given2 --exec-file "$bb" --uid 1234 --gid 1234 --chroot-base-dir "$base" \
	--netns "/proc/$holder/ns/net" -- ip -o link show lo </dev/null 2>&1)
kill $holder
ip link del jhost0 2>/dev/null
note "host: $host_links; new: $new_links; given: $given ($given_state)"
case " $host_links" in *" jhost0 "*) ;; *) fail "the jail does not see the host's interfaces: $host_links" ;; esac
expect_eq "$new_links" "lo " "--new-netns interfaces"
expect_eq "$given" "lo " "--netns interfaces"
case "$given_state" in *LOWER_UP*) ;; *) fail "--netns: lo is not the holder's (up) one: $given_state" ;; esac
[ -z "$(ls -A "$base/ember")" ] || fail "jails left behind: $(ls -A "$base/ember")"
