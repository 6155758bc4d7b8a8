# Shared by the cases that boot a guest from a jailed ember (ember-jail).
# jail_setup: skip without ember-jail; a base directory for the jails in
# $JAIL_BASE that the jail's uid can traverse.
jail_setup() {
	if [ -z "${EMBER_JAIL:-}" ] || [ ! -x "$EMBER_JAIL" ]; then
		skip "ember-jail is not built (no build/ember-jail)"
	fi
	JAIL_BASE=$E2E_TMP/jails
	mkdir "$JAIL_BASE"
	chmod 755 "$E2E_TMP"
}

# jail_run ID LOG 'JAIL-ARGS' EMBER-ARGS...: ember as uid:gid 1234 in jail
# ID, the lab kernel at /vmlinuz and $E2E_TMP/initrd at /initrd (-kernel,
# -initrd and -append given); output in LOG, ember-jail's status returned.
# JAIL-ARGS is split on spaces (the lab's paths have none).
jail_run() {
	_id=$1 _log=$2 _jargs=$3
	shift 3
	# shellcheck disable=SC2086 # JAIL-ARGS are words
	"$EMBER_JAIL" --id "$_id" --exec-file "$EMBER" --uid 1234 --gid 1234 \
		--chroot-base-dir "$JAIL_BASE" --file "$LAB_KERNEL:/vmlinuz" \
		--file "$E2E_TMP/initrd:/initrd" $_jargs -- -kernel /vmlinuz -initrd /initrd \
		-append "$E2E_APPEND" "$@" </dev/null >"$_log" 2>&1
}
