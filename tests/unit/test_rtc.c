/*
 * The CMOS RTC through ports 0x70/0x71. The clock and the event loop are
 * faked: the test sets the time and calls the RTC's timer handler itself, so
 * nothing here waits on the wall clock or depends on how busy the machine is
 * (the guest-visible clock is checked against the real one in the e2e suite).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/aml.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "devices/rtc.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "tests/common/fake_platform.h"

enum { SEC, SEC_ALARM, MIN, MIN_ALARM, HOUR, HOUR_ALARM, WDAY, MDAY, MON,
       YEAR, REG_A, REG_B, REG_C, REG_D, CENTURY = 0x32 };

/* The loop and clock are faked (tests/common): fake_timer_fn is the RTC's timer. */
static struct platform pf;
static int irq_level, irq_calls;

static void record_irq(void *opaque, unsigned gsi, int level)
{
	assert_int_equal(gsi, 8);
	assert_int_not_equal(level, irq_level);	/* driven on change only */
	irq_level = level;
	irq_calls++;
}

static uint8_t cmos_read(uint8_t idx)
{
	uint8_t v;

	assert_true(bus_write(&pf.pio, 0x70, &idx, 1));
	assert_true(bus_read(&pf.pio, 0x71, &v, 1));
	return v;
}

static void cmos_write(uint8_t idx, uint8_t v)
{
	assert_true(bus_write(&pf.pio, 0x70, &idx, 1));
	assert_true(bus_write(&pf.pio, 0x71, &v, 1));
}

#define NSEC 1000000000LL

static time_t fake_time(void) { return fake_ns / NSEC; }

static void advance_ms(int ms) { fake_ns += ms * 1000000LL; }

/* The periodic timer is a real timerfd: a sleep lets it expire. */
static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint8_t bcd(int v) { return (v / 10) << 4 | v % 10; }

static int dec(uint8_t v, int binary)
{
	if (binary)
		return v;
	assert_true((v & 0x0f) <= 9 && (v >> 4) <= 9);
	return (v >> 4) * 10 + (v & 0x0f);
}

/* Reads the clock the way Linux does: wait for UIP clear, then read. */
static time_t rtc_time(void)
{
	uint8_t b = cmos_read(REG_B), h;
	int bin = b & 0x04;
	struct tm tm = { 0 };

	while (cmos_read(REG_A) & 0x80)
		;
	tm.tm_sec = dec(cmos_read(SEC), bin);
	tm.tm_min = dec(cmos_read(MIN), bin);
	h = cmos_read(HOUR);
	if (b & 0x02) {
		tm.tm_hour = dec(h, bin);
	} else {
		assert_true(dec(h & 0x7f, bin) >= 1 && dec(h & 0x7f, bin) <= 12);
		tm.tm_hour = dec(h & 0x7f, bin) % 12 + ((h & 0x80) ? 12 : 0);
	}
	tm.tm_mday = dec(cmos_read(MDAY), bin);
	tm.tm_mon = dec(cmos_read(MON), bin) - 1;
	tm.tm_year = dec(cmos_read(CENTURY), bin) * 100 +
		     dec(cmos_read(YEAR), bin) - 1900;
	return timegm(&tm);
}

static void assert_time(time_t got, time_t want)
{
	if (got != want)
		fail_msg("rtc says %lld, expected %lld", (long long)got,
			 (long long)want);
}

/* Moves the clock in 5 ms steps, running the timer at each, until the IRQ
 * rises; false after @ms of fake time. */
static bool wait_irq(int ms)
{
	for (int t = 0; t < ms; t += 5) {
		fake_timer_fn(fake_timer_opaque, 0);
		if (irq_level)
			return true;
		advance_ms(5);
	}
	return false;
}

static int setup(void **state)
{
	memset(&pf, 0, sizeof(pf));
	irq_level = irq_calls = 0;
	/* 2026-12-06 22:10:07.25 UTC: mid-second, so UIP is clear. */
	fake_ns = 1796595007LL * NSEC + 250000000LL;
	pf.clock = &fake_clock;
	pf.irq_set = record_irq;
	pf.loop = fake_loop;
	assert_int_equal(bus_init(&pf.pio, "pio"), 0);
	assert_int_equal(rtc_create(&pf), 0);
	assert_non_null(fake_timer_fn);
	return 0;
}

static int teardown(void **state)
{
	device_destroy_all(&pf);
	assert_null(fake_timer_fn);
	bus_destroy(&pf.pio);
	return 0;
}

static void t_bcd_host_time(void **state)
{
	time_t t;
	struct tm tm;

	assert_int_equal(cmos_read(REG_B), 0x02);	/* BCD, 24 h */
	t = rtc_time();
	assert_time(t, fake_time());
	assert_int_equal(fake_clock_last_id, CLOCK_REALTIME);
	gmtime_r(&t, &tm);
	assert_int_equal(cmos_read(WDAY), tm.tm_wday + 1);
	assert_int_equal(cmos_read(CENTURY), bcd((tm.tm_year + 1900) / 100));
}

static void t_binary(void **state)
{
	time_t now = fake_time();
	struct tm tm;

	cmos_write(REG_B, 0x06);
	assert_time(rtc_time(), now);
	gmtime_r(&now, &tm);
	assert_int_equal(cmos_read(YEAR), tm.tm_year % 100);
	assert_int_equal(cmos_read(CENTURY), (tm.tm_year + 1900) / 100);
}

static void t_12_hour(void **state)
{
	cmos_write(REG_B, 0x00);
	assert_time(rtc_time(), fake_time());
	/* 12 h: noon, midnight and an afternoon hour, binary and BCD. */
	fake_ns = (fake_ns / (86400 * NSEC)) * 86400 * NSEC + 12 * 3600 * NSEC;
	assert_int_equal(cmos_read(HOUR), 0x92);	/* 12 PM */
	assert_time(rtc_time(), fake_time());
	fake_ns -= 12 * 3600 * NSEC;
	assert_int_equal(cmos_read(HOUR), 0x12);	/* 12 AM */
	assert_time(rtc_time(), fake_time());
	fake_ns += 15 * 3600 * NSEC;
	cmos_write(REG_B, 0x04);	/* binary, 12 h */
	assert_int_equal(cmos_read(HOUR), 0x83);	/* 3 PM */
	assert_time(rtc_time(), fake_time());
}

static void t_set_time(void **state)
{
	struct tm want = { .tm_year = 99, .tm_mon = 11, .tm_mday = 31,
			   .tm_hour = 23, .tm_min = 59, .tm_sec = 58 };

	/* As Linux's mc146818_set_time: SET, fields, clear SET. */
	cmos_write(REG_B, 0x82);
	cmos_write(SEC, 0x58);
	cmos_write(MIN, 0x59);
	cmos_write(HOUR, 0x23);
	cmos_write(MDAY, 0x31);
	cmos_write(MON, 0x12);
	cmos_write(YEAR, 0x99);
	cmos_write(CENTURY, 0x19);
	/* Frozen while SET. */
	assert_int_equal(cmos_read(SEC), 0x58);
	assert_int_equal(cmos_read(YEAR), 0x99);
	assert_int_equal(cmos_read(REG_A) & 0x80, 0);
	advance_ms(3000);	/* frozen while SET: not counted */
	cmos_write(REG_B, 0x02);
	assert_time(rtc_time(), timegm(&want));
	advance_ms(2000);	/* then it runs, into the next year */
	assert_time(rtc_time(), timegm(&want) + 2);
	assert_int_equal(cmos_read(YEAR), 0x00);
	assert_int_equal(cmos_read(CENTURY), 0x20);

	/* Through an impossible date (Feb 29 1999) to a leap day. */
	want = (struct tm){ .tm_year = 124, .tm_mon = 1, .tm_mday = 29,
			    .tm_hour = 12 };
	cmos_write(REG_B, 0x82);
	cmos_write(SEC, 0x00);
	cmos_write(MIN, 0x00);
	cmos_write(HOUR, 0x12);
	cmos_write(MDAY, 0x29);
	cmos_write(MON, 0x02);
	cmos_write(YEAR, 0x24);
	cmos_write(CENTURY, 0x20);
	cmos_write(REG_B, 0x02);
	assert_time(rtc_time(), timegm(&want));
	assert_int_equal(cmos_read(MDAY), 0x29);
}

static void t_set_running_clock(void **state)
{
	time_t now = fake_time();
	struct tm tm;

	gmtime_r(&now, &tm);
	/* One field on a running clock; the others keep going. */
	cmos_write(YEAR, bcd((tm.tm_year + 4) % 100));
	assert_int_equal(cmos_read(YEAR), bcd((tm.tm_year + 4) % 100));
	assert_int_equal(cmos_read(MON), bcd(tm.tm_mon + 1));
	advance_ms(1000);
	assert_int_equal(cmos_read(SEC), bcd((tm.tm_sec + 1) % 60));
	assert_int_equal(cmos_read(YEAR), bcd((tm.tm_year + 4) % 100));
}

static void t_register_d_and_c(void **state)
{
	assert_int_equal(cmos_read(REG_D), 0x80);
	cmos_write(REG_D, 0x00);
	assert_int_equal(cmos_read(REG_D), 0x80);
	cmos_write(REG_C, 0xff);	/* read-only */
	assert_int_equal(cmos_read(REG_C) & 0x80, 0);
}

static void t_index_and_ram(void **state)
{
	uint8_t idx = 0x8d, v;

	/* Bit 7 of the index is the NMI mask: not part of the index. */
	assert_true(bus_write(&pf.pio, 0x70, &idx, 1));
	assert_true(bus_read(&pf.pio, 0x71, &v, 1));
	assert_int_equal(v, 0x80);
	assert_true(bus_read(&pf.pio, 0x70, &v, 1));
	assert_int_equal(v, 0xff);	/* write-only */

	for (unsigned i = 0x0e; i < 0x80; i++)
		if (i != CENTURY)
			cmos_write(i | 0x80, i ^ 0xa5);
	for (unsigned i = 0x0e; i < 0x80; i++)
		if (i != CENTURY)
			assert_int_equal(cmos_read(i), i ^ 0xa5);

	/* A 16-bit write is index then data. */
	uint16_t w = 0x3c00 | 0x40;
	assert_true(bus_write(&pf.pio, 0x70, &w, 2));
	assert_int_equal(cmos_read(0x40), 0x3c);
}

static void t_update_interrupt(void **state)
{
	cmos_write(REG_B, 0x12);	/* UIE */
	(void)cmos_read(REG_C);
	/* The second moves 750 ms from now, not before. */
	assert_false(wait_irq(745));
	assert_true(wait_irq(10));
	assert_int_equal(cmos_read(REG_C), 0x90);	/* IRQF | UF */
	assert_int_equal(irq_level, 0);
	assert_int_equal(cmos_read(REG_C), 0x00);
}

static void t_periodic_interrupt(void **state)
{
	cmos_write(REG_A, 0x26);	/* 1024 Hz */
	cmos_write(REG_B, 0x42);	/* PIE */
	sleep_ms(3);
	fake_timer_fn(fake_timer_opaque, 0);
	assert_int_equal(irq_level, 1);
	/* Unacknowledged: the line stays up, not driven again. */
	sleep_ms(3);
	fake_timer_fn(fake_timer_opaque, 0);
	assert_int_equal(irq_calls, 1);
	assert_int_equal(cmos_read(REG_C) & 0xc0, 0xc0);	/* IRQF | PF */
	assert_int_equal(irq_level, 0);

	cmos_write(REG_B, 0x02);
	sleep_ms(3);
	fake_timer_fn(fake_timer_opaque, 0);
	assert_int_equal(cmos_read(REG_C) & 0x40, 0);
	assert_int_equal(irq_level, 0);
}

static void t_alarm_interrupt(void **state)
{
	int sec;

	cmos_write(REG_B, 0x22);	/* AIE */
	cmos_write(HOUR_ALARM, 0xc0);	/* any hour */
	cmos_write(MIN_ALARM, 0xff);	/* any minute */
	sec = dec(cmos_read(SEC), 0);
	cmos_write(SEC_ALARM, bcd((sec + 30) % 60));
	(void)cmos_read(REG_C);
	assert_false(wait_irq(1200));
	assert_int_equal(cmos_read(REG_C), 0x10);	/* UF, no AF */

	sec = dec(cmos_read(SEC), 0);
	cmos_write(SEC_ALARM, bcd((sec + 2) % 60));
	assert_false(wait_irq(1000));	/* one second early: UF only */
	assert_int_equal(cmos_read(REG_C) & 0xa0, 0);
	assert_true(wait_irq(1005));
	assert_int_equal(cmos_read(REG_C) & 0xa0, 0xa0);	/* IRQF | AF */
	assert_int_equal(irq_level, 0);
}

#define UIP_WINDOW 244000	/* ns before each second boundary */

/* Linux spins while UIP is set: it must come only briefly, never stay. */
static void t_uip_not_stuck(void **state)
{
	int64_t sec = fake_ns / NSEC * NSEC;

	/* Clear through the second, set in its last 244 us, clear again after. */
	fake_ns = sec;
	assert_int_equal(cmos_read(REG_A) & 0x80, 0);
	fake_ns = sec + NSEC - UIP_WINDOW - 1;
	assert_int_equal(cmos_read(REG_A) & 0x80, 0);
	fake_ns = sec + NSEC - UIP_WINDOW;
	assert_int_equal(cmos_read(REG_A) & 0x80, 0x80);
	fake_ns = sec + NSEC - 1;
	assert_int_equal(cmos_read(REG_A) & 0x80, 0x80);
	assert_int_equal(cmos_read(REG_A) & 0x7f, 0x26);	/* rest intact */
	fake_ns = sec + NSEC;
	assert_int_equal(cmos_read(REG_A) & 0x80, 0);

	/* A guest that polls UIP while time passes sees it clear in 244 us. */
	fake_ns = sec + NSEC - UIP_WINDOW;
	int polls = 0;
	while (cmos_read(REG_A) & 0x80) {
		fake_ns += 1000;
		assert_true(++polls <= UIP_WINDOW / 1000);
	}
	assert_int_equal(polls, UIP_WINDOW / 1000);

	/* Updates are off while SET: no UIP at all, and writes to A cannot
	 * set it. */
	cmos_write(REG_B, 0x82);
	cmos_write(REG_A, 0xa6);
	for (fake_ns = sec + NSEC - UIP_WINDOW; fake_ns < sec + NSEC; fake_ns += 1000)
		assert_int_equal(cmos_read(REG_A), 0x26);
}

/* The DSDT node through which the guest maps IRQ 8. */
static void t_dsdt_node(void **state)
{
	struct aml a;

	aml_init(&a);
	pf.devices->type->aml(pf.devices, &a);
	assert_int_equal(a.err, 0);
	assert_non_null(memmem(a.buf, a.len, "RTC_", 4));
	aml_free(&a);
}

/* -rtc base=: the offset from the host's UTC, under a fixed time zone. */
static void t_base_offset(void **state)
{
	time_t now = (time_t)(fake_ns / NSEC);
	int64_t off = 1;

	setenv("TZ", "XXX-9", 1);	/* nine hours east of UTC, no DST */
	tzset();
	assert_int_equal(rtc_base_offset(NULL, now, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(rtc_base_offset("utc", now, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(rtc_base_offset("localtime", now, &off), 0);
	assert_int_equal(off, 9 * 3600);
	assert_int_equal(rtc_base_offset("2006-06-17T16:01:21", now, &off), 0);
	assert_int_equal(now + off, 1150560081);	/* the registers' value, no zone */
	assert_int_equal(rtc_base_offset("2006-06-17", now, &off), 0);
	assert_int_equal(now + off, 1150502400);
	assert_int_equal(rtc_base_offset("local", now, &off), -EINVAL);
	assert_int_equal(rtc_base_offset("2006-06-17T16", now, &off), -EINVAL);
	assert_int_equal(rtc_base_offset("2006-13-01", now, &off), -EINVAL);
	assert_int_equal(rtc_base_offset("2006-06-17x", now, &off), -EINVAL);
	assert_int_equal(rtc_base_offset("", now, &off), -EINVAL);
}

/* An RTC made under base=localtime shows local time, and ticks with the host. */
static void t_base_localtime(void **state)
{
	setenv("TZ", "XXX-9", 1);
	tzset();
	assert_int_equal(rtc_set_base("localtime"), 0);
	device_destroy_all(&pf);
	assert_int_equal(rtc_create(&pf), 0);
	assert_time(rtc_time(), fake_time() + 9 * 3600);
	fake_ns += 5 * NSEC;
	assert_time(rtc_time(), fake_time() + 9 * 3600);
	assert_int_equal(rtc_set_base("2006-06-17T16:01:21"), 0);
	device_destroy_all(&pf);
	assert_int_equal(rtc_create(&pf), 0);
	assert_time(rtc_time(), 1150560081);
	assert_int_equal(rtc_set_base("tomorrow"), -EINVAL);
	assert_int_equal(rtc_set_base(NULL), 0);
	device_destroy_all(&pf);
	assert_int_equal(rtc_create(&pf), 0);
	assert_time(rtc_time(), fake_time());
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(t_bcd_host_time), T(t_binary), T(t_12_hour), T(t_set_time),
		T(t_set_running_clock), T(t_register_d_and_c),
		T(t_index_and_ram), T(t_update_interrupt),
		T(t_periodic_interrupt), T(t_alarm_interrupt), T(t_uip_not_stuck), T(t_dsdt_node),
		T(t_base_offset), T(t_base_localtime),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
