# -rtc base=localtime and base=DATE: the guest's RTC (/sys/class/rtc/rtc0,
# which Linux reads as UTC) shows the host's local time (ember runs under
# TZ=XXX-9, nine hours east of UTC), or starts at the date given and ticks
# with the host; base=utc shows UTC.
# e2e-timeout: 240
. "$E2E_LIB"
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "RTC-EPOCH $(cat /sys/class/rtc/rtc0/since_epoch)"
GUEST
# rtc_at BASE: the guest's RTC seconds minus the host's, printed.
rtc_at() {
	_h0=$(date +%s)
	TZ=XXX-9 run_ember --log "$E2E_TMP/$2.log" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" \
		-m 256 -append "$E2E_APPEND" -rtc "base=$1" >&2
	expect_eq "$?" 0 "ember exit status ($1)"
	_g=$(sed -n 's/.*RTC-EPOCH \([0-9]*\).*/\1/p' "$E2E_TMP/$2.log")
	[ -n "$_g" ] || fail "no RTC-EPOCH line with base=$1"
	echo $((_g - _h0))
}
d=$(rtc_at localtime local)
note "base=localtime: guest RTC - host UTC = $d s"
[ "$d" -ge 32390 ] && [ "$d" -le 32430 ] || fail "base=localtime: expected about 32400 s ahead, got $d"
d=$(rtc_at utc utc)
note "base=utc: guest RTC - host UTC = $d s"
[ "$d" -ge -5 ] && [ "$d" -le 30 ] || fail "base=utc: expected about 0 s, got $d"
t0=$(date +%s)
d=$(rtc_at 2006-06-17T16:01:21 date)
g=$((d + t0 - 1150560081))
note "base=2006-06-17T16:01:21: the guest read it $g s after start"
[ "$g" -ge -1 ] && [ "$g" -le 30 ] || fail "base=DATE: guest RTC $g s from the date"
