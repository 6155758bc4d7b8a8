# shellcheck shell=bash
# Shared helpers of scripts/lab and tests/e2e/run (bash only; sourced, never run).
#
# The lab: a level-1 (L1) Linux under QEMU TCG with nested SVM, in which kvm_amd
# gives a real /dev/kvm, so that ember can boot level-2 (L2) guests. See docs/lab.md.

LAB_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_ROOT=$(cd "$LAB_LIB/../.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
LAB_CACHE=${EMBER_LAB_CACHE:-${HOME:-/root}/.cache/ember-lab}

# Bump when the products built from the kernel package change shape, so that old
# caches are rebuilt (the recipe files are hashed too, see lab_recipe_hash).
LAB_FORMAT=1

# Kernel modules of the L1 initramfs. The first group is insmodded at boot (kvm_amd
# and its dependencies); the rest ship for `modprobe` inside L1.
LAB_L1_BOOT_MODULES="kvm-amd"
LAB_L1_EXTRA_MODULES="kvm-intel tun tap macvlan macvtap veth bridge vhost_net vhost_vsock
vsock vsock_loopback vfio vfio_iommu_type1 vfio-pci loop overlay fuse nbd"
# Kernel modules of the L2 initramfs, insmodded by its /init in dependency order.
LAB_L2_MODULES="virtio_mmio virtio_pci virtio_pci_legacy_dev virtio_pci_modern_dev
virtio_blk virtio_net net_failover failover virtio_console virtio-rng virtio_rng
virtio_balloon virtio_mem vsock vmw_vsock_virtio_transport_common
vmw_vsock_virtio_transport virtio_pmem nd_pmem virtiofs fuse virtio_input pvpanic pvpanic-mmio
button evdev virtio_scsi sd_mod sr_mod"

lab_log() { [ -n "${LAB_QUIET:-}" ] || printf 'lab: %s\n' "$*" >&2; }
lab_die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

# Quote a string for a POSIX shell (busybox ash reads what we write).
lab_shquote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

lab_need() {
	local c
	for c; do
		command -v "$c" >/dev/null 2>&1 || lab_die "'$c' not found; run scripts/deps lab"
	done
}

# Does the host have a real (VMX/SVM) KVM? Then the lab runs commands directly.
lab_host_has_real_kvm() {
	[ -e /dev/kvm ] || return 1
	[ -d /sys/module/kvm_pvm ] && return 1
	grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null || return 1
	[ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]
}

lab_mode() {
	case "${EMBER_LAB_MODE:-auto}" in
	l1 | direct) echo "$EMBER_LAB_MODE" ;;
	auto) if lab_host_has_real_kvm; then echo direct; else echo l1; fi ;;
	*) lab_die "EMBER_LAB_MODE must be auto, l1 or direct" ;;
	esac
}

lab_ember_bin() { echo "${EMBER_BIN:-$LAB_ROOT/build/ember}"; }

# Hash of the files whose content ends up in the cached initramfs products.
lab_recipe_hash() {
	{
		echo "$LAB_FORMAT $LAB_L1_BOOT_MODULES $LAB_L1_EXTRA_MODULES $LAB_L2_MODULES"
		cat "$LAB_LIB/l1-init" "$LAB_LIB/l2-init" "$LAB_LIB/lab-mkinitrd"
		{ busybox 2>&1 | sed -n 1p; } || true
	} | sha256sum | cut -c1-16
}

# Write a newc cpio archive holding the directory /dev and the node /dev/console
# (char 5:1): the kernel opens it for init's stdio before anything is mounted.
# Written by hand so that building the initramfs needs no mknod (nor root).
lab_cpio_devconsole() {
	local ino=1
	_entry() { # name mode rdevmajor rdevminor
		local name=$1 namesize=$((${#1} + 1))
		printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
			"$ino" "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0
		printf '%s\0' "$name"
		# header (110 bytes) + name, padded to a multiple of 4
		local pad=$(((4 - (110 + namesize) % 4) % 4))
		head -c "$pad" /dev/zero
		ino=$((ino + 1))
	}
	_entry dev $((0040755)) 0 0
	_entry dev/console $((0020600)) 5 1
	_entry TRAILER!!! 0 0 0
}

# Copy an executable and the shared libraries it needs (ldd) into DESTROOT, each at
# its own path. Prints nothing; fails if the program is not found.
lab_copy_with_libs() { # PROG|LIBRARY-PATH DESTROOT [DESTPATH]
	local prog=$1 root=$2 dst=${3:-} path lib
	path=$(command -v "$prog" 2>/dev/null) || { [ -f "$prog" ] && path=$prog; } ||
		lab_die "program not found: $prog"
	path=$(readlink -f "$path")
	[ -n "$dst" ] || dst=$(command -v "$prog")
	mkdir -p "$root/$(dirname "$dst")"
	cp -L "$path" "$root/$dst"
	# ldd prints "name => /path (addr)", "/lib64/ld-linux-x86-64.so.2 (addr)" or
	# "not a dynamic executable" (static programs need nothing).
	while read -r lib; do
		[ -e "$lib" ] || continue
		[ -e "$root/$lib" ] && continue
		mkdir -p "$root/$(dirname "$lib")"
		cp -L "$lib" "$root/$lib"
	done < <(ldd "$path" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p')
}

# Which kernel the lab boots (docs/lab.md, "Which kernel"):
#   EMBER_LAB_KERNEL=pinned (default)  the package and version in kernel.pin
#   EMBER_LAB_KERNEL=newest            what linux-image-cloud-amd64 depends on today
#   EMBER_LAB_KERNEL_PKG=META          the newest behind another meta package
# Prints the selector, the name of its link in the cache (sel-NAME).
LAB_PIN_FILE=$LAB_LIB/kernel.pin
lab_kernel_sel() {
	if [ -n "${EMBER_LAB_KERNEL_PKG:-}" ]; then
		echo "pkg-$EMBER_LAB_KERNEL_PKG"
		return
	fi
	case "${EMBER_LAB_KERNEL:-pinned}" in
	pinned | newest) echo "${EMBER_LAB_KERNEL:-pinned}" ;;
	*) lab_die "EMBER_LAB_KERNEL must be pinned or newest, not '$EMBER_LAB_KERNEL'" ;;
	esac
}

# The pin: "PACKAGE VERSION", the first line of kernel.pin that is not a comment.
lab_pin() {
	local line pkg ver rest
	line=$(sed -n '/^[[:space:]]*[^#[:space:]]/{p;q;}' "$LAB_PIN_FILE" 2>/dev/null)
	read -r pkg ver rest <<<"$line"
	if [ -z "$pkg" ] || [ -z "$ver" ] || [ -n "$rest" ]; then
		lab_die "$LAB_PIN_FILE: want one line 'PACKAGE VERSION', found '$line'"
	fi
	echo "$pkg $ver"
}

# The cache folder of a package version.
lab_kernel_key() { echo "${1#linux-image-}_$2"; }

# The prepared cache folder of the selected kernel, with no apt query; fails
# when it is not prepared (or not for the current pin).
lab_kdir() {
	local sel pkg ver link
	sel=$(lab_kernel_sel)
	if [ "$sel" = pinned ]; then
		read -r pkg ver <<<"$(lab_pin)"
		if [ -f "$LAB_CACHE/$(lab_kernel_key "$pkg" "$ver")/kernel.done" ]; then
			echo "$LAB_CACHE/$(lab_kernel_key "$pkg" "$ver")"
			return 0
		fi
		# The newest, standing in for a pin the archive no longer has.
		[ "$(cat "$LAB_CACHE/sel-pinned.pin" 2>/dev/null)" = "$pkg $ver" ] || return 1
	fi
	link=$LAB_CACHE/sel-$sel
	[ -f "$link/kernel.done" ] || return 1
	readlink -f "$link"
}

# Does Debian's archive (apt's lists) have PACKAGE at VERSION?
lab_pkg_available() { # PKG VER
	local i
	for i in 1 2; do
		# (apt-cache show PKG=VER exits 0 even when VER is not there)
		apt-cache madison "$1" 2>/dev/null | awk -F' *[|] *' -v v="$2" '$2 == v { f = 1 } END { exit !f }' &&
			return 0
		[ "$i" = 1 ] || break
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
	done
	return 1
}

# Resolve the versioned kernel package behind linux-image-cloud-amd64.
# Prints "PACKAGE VERSION". Needs apt lists; runs apt-get update once if empty.
lab_resolve_kernel_pkg() {
	local meta=${EMBER_LAB_KERNEL_PKG:-linux-image-cloud-amd64} info pkg ver i
	for i in 1 2; do
		info=$(apt-cache show --no-all-versions "$meta" 2>/dev/null || true)
		case "$meta" in
		linux-image-[0-9]*) # already a versioned package
			pkg=$meta
			ver=$(printf '%s\n' "$info" | sed -n 's/^Version: //p' | head -n 1) ;;
		*) # "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)"
			pkg=$(printf '%s\n' "$info" | sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -n 1)
			ver=$(printf '%s\n' "$info" | sed -n 's/^Depends: linux-image-[^ ,]* (= \([^)]*\)).*/\1/p' | head -n 1)
			if [ -n "$pkg" ] && [ -z "$ver" ]; then
				ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
			fi ;;
		esac
		if [ -n "$pkg" ] && [ -n "$ver" ]; then
			echo "$pkg $ver"
			return 0
		fi
		[ "$i" = 1 ] || break
		lab_log "apt lists do not know $meta; running apt-get update"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || true
	done
	return 1
}
