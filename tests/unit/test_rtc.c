/*
 * The CMOS RTC through ports 0x70/0x71, against the host clock. The event
 * loop is faked: the test calls the RTC's timer handler itself.
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
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"

enum { SEC, SEC_ALARM, MIN, MIN_ALARM, HOUR, HOUR_ALARM, WDAY, MDAY, MON,
       YEAR, REG_A, REG_B, REG_C, REG_D, CENTURY = 0x32 };

/* --- a fake event loop that hands the timer to the test --- */
static loop_fn timer_fn;
static void *timer_opaque;

int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *opaque)
{
	timer_fn = fn;
	timer_opaque = opaque;
	return 0;
}

int loop_del(struct loop *l, int fd)
{
	timer_fn = NULL;
	return 0;
}

static struct platform pf;
static int loop_token;
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

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

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

static void assert_near(time_t got, time_t want)
{
	if (got < want - 2 || got > want + 2)
		fail_msg("rtc says %lld, expected %lld", (long long)got,
			 (long long)want);
}

/* Calls the timer handler until the IRQ rises; false after @ms. */
static bool wait_irq(int ms)
{
	for (int t = 0; t < ms; t += 5) {
		timer_fn(timer_opaque, 0);
		if (irq_level)
			return true;
		sleep_ms(5);
	}
	return false;
}

static int setup(void **state)
{
	memset(&pf, 0, sizeof(pf));
	irq_level = irq_calls = 0;
	pf.irq_set = record_irq;
	pf.loop = (struct loop *)&loop_token;
	assert_int_equal(bus_init(&pf.pio, "pio"), 0);
	assert_int_equal(rtc_create(&pf), 0);
	assert_non_null(timer_fn);
	return 0;
}

static int teardown(void **state)
{
	device_destroy_all(&pf);
	assert_null(timer_fn);
	bus_destroy(&pf.pio);
	return 0;
}

static void t_bcd_host_time(void **state)
{
	time_t t;
	struct tm tm;

	assert_int_equal(cmos_read(REG_B), 0x02);	/* BCD, 24 h */
	t = rtc_time();
	assert_near(t, time(NULL));
	gmtime_r(&t, &tm);
	assert_int_equal(cmos_read(WDAY), tm.tm_wday + 1);
	assert_int_equal(cmos_read(CENTURY), bcd((tm.tm_year + 1900) / 100));
}

static void t_binary(void **state)
{
	time_t now = time(NULL);
	struct tm tm;

	cmos_write(REG_B, 0x06);
	assert_near(rtc_time(), now);
	gmtime_r(&now, &tm);
	assert_int_equal(cmos_read(YEAR), tm.tm_year % 100);
	assert_int_equal(cmos_read(CENTURY), (tm.tm_year + 1900) / 100);
}

static void t_12_hour(void **state)
{
	cmos_write(REG_B, 0x00);
	assert_near(rtc_time(), time(NULL));
	cmos_write(REG_B, 0x04);	/* binary, 12 h */
	assert_near(rtc_time(), time(NULL));
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
	cmos_write(REG_B, 0x02);
	assert_near(rtc_time(), timegm(&want));

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
	assert_near(rtc_time(), timegm(&want));
	assert_int_equal(cmos_read(MDAY), 0x29);
}

static void t_set_running_clock(void **state)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	/* One field on a running clock; the others keep going. */
	cmos_write(YEAR, bcd((tm.tm_year + 4) % 100));
	assert_int_equal(cmos_read(YEAR), bcd((tm.tm_year + 4) % 100));
	assert_int_equal(cmos_read(MON), bcd(tm.tm_mon + 1));
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
	assert_true(wait_irq(1500));
	assert_int_equal(cmos_read(REG_C), 0x90);	/* IRQF | UF */
	assert_int_equal(irq_level, 0);
	assert_int_equal(cmos_read(REG_C), 0x00);
}

static void t_periodic_interrupt(void **state)
{
	cmos_write(REG_A, 0x26);	/* 1024 Hz */
	cmos_write(REG_B, 0x42);	/* PIE */
	sleep_ms(3);
	timer_fn(timer_opaque, 0);
	assert_int_equal(irq_level, 1);
	/* Unacknowledged: the line stays up, not driven again. */
	sleep_ms(3);
	timer_fn(timer_opaque, 0);
	assert_int_equal(irq_calls, 1);
	assert_int_equal(cmos_read(REG_C) & 0xc0, 0xc0);	/* IRQF | PF */
	assert_int_equal(irq_level, 0);

	cmos_write(REG_B, 0x02);
	sleep_ms(3);
	timer_fn(timer_opaque, 0);
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
	cmos_write(SEC_ALARM, bcd((sec + 1) % 60));
	assert_true(wait_irq(2500));
	assert_int_equal(cmos_read(REG_C) & 0xa0, 0xa0);	/* IRQF | AF */
	assert_int_equal(irq_level, 0);
}

#define UIP_WINDOW 244000	/* ns before each second boundary */

static bool in_window(int64_t ns)
{
	return ns % 1000000000LL >= 1000000000LL - UIP_WINDOW;
}

static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * One read of register A, bracketed by the wall clock: UIP may be set only
 * if the read overlapped a window, and must be set if it lay wholly inside
 * one (returns true then). Once set it must clear while a poller spends
 * less than 2 ms of CPU time, so a busy host cannot fail the test.
 */
static bool check_uip_once(void)
{
	int64_t t0 = now_ns(), t1, c0;
	uint8_t a = cmos_read(REG_A);
	bool inside;

	t1 = now_ns();
	inside = in_window(t0) && in_window(t1) && t1 - t0 < UIP_WINDOW;
	if (!(a & 0x80)) {
		assert_false(inside);
		return false;
	}
	assert_true(in_window(t0) || in_window(t1) ||
		    t0 / 1000000000LL != t1 / 1000000000LL);
	c0 = cpu_ns();
	while (cmos_read(REG_A) & 0x80)
		assert_true(cpu_ns() - c0 < 2000000);
	return inside;
}

/* Linux spins while UIP is set: it must come only briefly, never stay. */
static void t_uip_not_stuck(void **state)
{
	int64_t start = now_ns();
	bool hit = false;

	while (now_ns() - start < 1100000000LL)
		hit |= check_uip_once();

	/* Make sure a window was seen: sleep to just before a boundary. */
	for (int i = 0; i < 10 && !hit; i++) {
		int64_t next = (now_ns() / 1000000000LL + 1) * 1000000000LL;
		struct timespec wake = { next / 1000000000LL - 1,
					 1000000000LL - 2 * UIP_WINDOW };

		clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &wake, NULL);
		while (now_ns() < next + 100000)
			hit |= check_uip_once();
	}
	assert_true(hit);

	/* Updates are off while SET: no UIP at all. */
	cmos_write(REG_B, 0x82);
	start = now_ns();
	while (now_ns() - start < 1050000000LL)
		assert_int_equal(cmos_read(REG_A) & 0x80, 0);
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

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(t_bcd_host_time), T(t_binary), T(t_12_hour), T(t_set_time),
		T(t_set_running_clock), T(t_register_d_and_c),
		T(t_index_and_ram), T(t_update_interrupt),
		T(t_periodic_interrupt), T(t_alarm_interrupt), T(t_uip_not_stuck), T(t_dsdt_node),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
