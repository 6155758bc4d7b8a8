# ember-jail boots a guest from inside its jail (docs/jail.md). While the
# guest waits for a line on its console, the host checks ember: it runs as
# uid/gid 1234 with no capabilities and no_new_privs, as PID 1 of new PID,
# mount, IPC and UTS namespaces (hostname = the id), its root is the jail
# directory (same inode), which holds only ember, /dev and the two --file
# binds, and its mount table has nothing else. Then the guest powers off:
# exit 0 and the jail directory is gone. Twice: on L1's initramfs root
# (the jailer moves the jail over / and chroots) and from a root that is a
# mount of its own (the jailer uses pivot_root and detaches the old root).
# e2e-timeout: 300
. "$E2E_LIB"
need_ember
need_kvm
if [ -z "${EMBER_JAIL:-}" ] || [ ! -x "$EMBER_JAIL" ]; then skip "ember-jail is not built (no build/ember-jail)"; fi

make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo JAILED-GUEST-OK
read -r line
echo "GOT:$line:END"
GUEST
base=$E2E_TMP/jails
mkdir "$base"

# The jailer's child (ember, once it has exec'd).
child_of() {
	grep -l "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status 2>/dev/null | head -n 1 |
		sed 's|^/proc/||; s|/status$||'
}
status_field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"; } # words joined by spaces

# Run CMD where / is a mount with a parent, so that pivot_root works
# (L1's root is the initramfs, which pivot_root cannot move).
with_mounted_root() {
	mkdir -p "$E2E_TMP/newroot"
	unshare -m sh -c 'mount --make-rprivate / && mount -o rbind / "$1" && cd "$1" &&
		mount -o move . / && shift && exec chroot . "$@"' sh "$E2E_TMP/newroot" "$@"
}

boot_jailed() { # ID HOW(plain|pivot)
	id=$1 how=$2
	log=$E2E_TMP/$id.log
	rm -f "$E2E_TMP/in"
	mkfifo "$E2E_TMP/in"
	wrap=
	[ "$how" = pivot ] && wrap=with_mounted_root
	$wrap timeout 150 "$EMBER_JAIL" -v --id "$id" --exec-file "$EMBER" --uid 1234 --gid 1234 \
		--chroot-base-dir "$base" --file "$LAB_KERNEL:/vmlinuz" --file "$E2E_TMP/initrd:/initrd" -- \
		-kernel /vmlinuz -initrd /initrd -m 256 -append "$E2E_APPEND" \
		<"$E2E_TMP/in" >"$log" 2>&1 &
	bg=$!
	exec 3>"$E2E_TMP/in"
	wait_for "$log" JAILED-GUEST-OK 120

	epid=
	for p in $(pidof ember); do
		[ "$(readlink "/proc/$p/exe")" = /ember ] || [ "$(cat "/proc/$p/comm")" = ember ] || continue
		grep -q "^NSpid:.*[[:space:]]1\$" "/proc/$p/status" && epid=$p
	done
	[ -n "$epid" ] || fail "$id: no ember process that is PID 1 of its namespace"
	jpid=$(awk '$1 == "PPid:" { print $2 }' "/proc/$epid/status")
	note "$id: jailer $jpid, ember $epid"
	expect_eq "$(tr '\0' ' ' <"/proc/$jpid/cmdline" | cut -d' ' -f1)" "$EMBER_JAIL" "$id: ember's parent"
	expect_eq "$(status_field "$epid" Uid)" "1234 1234 1234 1234" "$id: Uid"
	expect_eq "$(status_field "$epid" Gid)" "1234 1234 1234 1234" "$id: Gid"
	expect_eq "$(status_field "$epid" Groups)" "" "$id: Groups"
	expect_eq "$(status_field "$epid" CapEff)" 0000000000000000 "$id: CapEff"
	expect_eq "$(status_field "$epid" CapPrm)" 0000000000000000 "$id: CapPrm"
	expect_eq "$(status_field "$epid" NoNewPrivs)" 1 "$id: NoNewPrivs"
	expect_eq "$(tr '\0' ' ' <"/proc/$epid/cmdline" | cut -d' ' -f1-3)" "/ember -kernel /vmlinuz" \
		"$id: command line"
	for ns in mnt pid ipc uts; do
		[ "$(readlink "/proc/$epid/ns/$ns")" != "$(readlink /proc/self/ns/$ns)" ] ||
			fail "$id: ember shares the $ns namespace with the host"
	done
	expect_eq "$(readlink "/proc/$epid/ns/net")" "$(readlink /proc/self/ns/net)" "$id: net namespace (none asked)"
	expect_eq "$(nsenter -u -t "$epid" hostname)" "$id" "$id: hostname"
	# its root is the jail directory, which holds only what the VM needs
	root=$base/ember/$id/root
	expect_eq "$(stat -L -c %d:%i "/proc/$epid/root/")" "$(stat -c %d:%i "$root")" "$id: root inode"
	expect_eq "$(ls -A "/proc/$epid/root/" | tr '\n' ' ')" "dev ember initrd vmlinuz " "$id: jail contents"
	expect_eq "$(stat -L -c %d:%i "/proc/$epid/root/vmlinuz")" "$(stat -L -c %d:%i "$LAB_KERNEL")" \
		"$id: /vmlinuz is the lab kernel"
	[ ! -e "/proc/$epid/root/etc" ] && [ ! -e "/proc/$epid/root/lab" ] && [ ! -e "/proc/$epid/root/tmp" ] ||
		fail "$id: host directories are visible in the jail"
	expect_eq "$(stat -c '%u:%g %a' "$root/dev/kvm")" "1234:1234 600" "$id: /dev/kvm in the jail"
	# its mount table: the jail root and the two binds, nothing of the host
	sed 's/^/  mountinfo: /' "/proc/$epid/mountinfo" >&2
	expect_eq "$(awk '{ print $5 }' "/proc/$epid/mountinfo" | sort | tr '\n' ' ')" "/ /initrd /vmlinuz " \
		"$id: mount points seen by ember"
	expect_eq "$(awk '$5 == "/vmlinuz" { print $6 }' "/proc/$epid/mountinfo" | cut -d, -f1)" ro \
		"$id: /vmlinuz mount"

	echo "bye-from-$id" >&3
	wait $bg
	rc=$?
	exec 3>&-
	sed 's/^/| /' "$log"
	expect_eq "$rc" 0 "$id: exit status"
	expect_in "$log" "GOT:bye-from-$id:END"
	if [ "$how" = pivot ] || [ "$(awk '$2 == "/" { print $3; exit }' /proc/mounts)" != rootfs ]; then
		expect_in "$log" "ember-jail: pivot_root into $root"
	else
		expect_in "$log" "ember-jail: root is the initramfs: moved $root over / and chrooted"
	fi
	[ ! -e "$base/ember/$id" ] || fail "$id: the jail directory was left behind"
}

boot_jailed boot-plain plain
boot_jailed boot-pivot pivot
