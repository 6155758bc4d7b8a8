/*
 * MC146818 CMOS RTC. The clock is the platform's CLOCK_REALTIME (UTC: the
 * host's, or a unit test's fake) plus an offset in whole seconds that -rtc
 * base= starts (localtime, a date) and the guest changes by setting the
 * time, so the guest's seconds tick exactly with the host's and nothing runs
 * between accesses. Time registers are computed at each read.
 *
 * While register B's SET bit is on, the time registers are plain bytes the
 * guest fills in; clearing SET turns them into the new offset. That keeps a
 * half-written date (Feb 31 on the way to Feb 28 of another year) harmless.
 *
 * Update, alarm and periodic interrupts come from one timerfd on the event
 * loop, armed only while the guest enables them; the IRQ line follows
 * register C's IRQF (a level), lowered when the guest reads C.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/aml.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "devices/rtc.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/props.h"

#define CMOS_SIZE	128

enum {
	REG_SEC = 0x00, REG_SEC_ALARM = 0x01, REG_MIN = 0x02,
	REG_MIN_ALARM = 0x03, REG_HOUR = 0x04, REG_HOUR_ALARM = 0x05,
	REG_WDAY = 0x06, REG_MDAY = 0x07, REG_MON = 0x08, REG_YEAR = 0x09,
	REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d,
	REG_CENTURY = 0x32,
};

#define A_UIP		0x80
#define A_RS		0x0f	/* periodic rate select */

#define B_SET		0x80
#define B_PIE		0x40
#define B_AIE		0x20
#define B_UIE		0x10
#define B_DM		0x04	/* binary, not BCD */
#define B_24H		0x02

#define C_IRQF		0x80
#define C_PF		0x40
#define C_AF		0x20
#define C_UF		0x10
#define C_FLAGS		0x70

#define D_VRT		0x80

#define ALARM_ANY	0xc0	/* alarm bytes >= this match every value */
/* UIP rises this long before each update: a guest that saw it clear may read. */
#define UIP_NS		244000
#define NSEC		1000000000LL

/* What the guest can see; plain data so a snapshot can copy it. */
struct rtc_regs {
	uint8_t index;
	uint8_t cmos[CMOS_SIZE];	/* time bytes are live only while SET */
	int64_t offset;		/* guest clock minus host clock, seconds */
	int64_t last_sec;	/* guest second of the last update cycle */
};

struct rtc {
	struct rtc_regs r;
	pthread_mutex_t lock;
	struct irq_pin pin;
	int level;
	struct loop *loop;
	int timer_fd;		/* -1 without an event loop */
	int64_t timer_ns;	/* current timer period, 0 when disarmed */
	const struct clock_src *clock;	/* NULL: the host's CLOCK_REALTIME */
};

/* -rtc base=: one per process, as in QEMU. */
static const char *rtc_base;

int rtc_base_offset(const char *base, time_t now, int64_t *offset)
{
	struct tm tm = { 0 };
	char *end;

	if (!base || !strcmp(base, "utc")) {
		*offset = 0;
		return 0;
	}
	if (!strcmp(base, "localtime")) {
		if (!localtime_r(&now, &tm))
			return -EINVAL;
		*offset = tm.tm_gmtoff;
		return 0;
	}
	/* QEMU reads the date as the registers' value, not through a time zone. */
	end = strptime(base, "%Y-%m-%d", &tm);
	if (end && *end == 'T')
		end = strptime(end + 1, "%H:%M:%S", &tm);
	if (!end || *end || tm.tm_year < 0 || tm.tm_year > 8099)
		return -EINVAL;
	*offset = (int64_t)timegm(&tm) - now;
	return 0;
}

int rtc_set_base(const char *base)
{
	int64_t off;

	if (rtc_base_offset(base, time(NULL), &off))
		return -EINVAL;
	rtc_base = base;
	return 0;
}

static struct timespec rtc_now(const struct rtc *s)
{
	return clock_now(s->clock, CLOCK_REALTIME);
}

static bool is_time_reg(unsigned idx)
{
	switch (idx) {
	case REG_SEC: case REG_MIN: case REG_HOUR: case REG_WDAY:
	case REG_MDAY: case REG_MON: case REG_YEAR: case REG_CENTURY:
		return true;
	}
	return false;
}


static uint8_t to_reg(const struct rtc_regs *r, int v)
{
	if (v < 0)
		v = 0;
	if (r->cmos[REG_B] & B_DM)
		return v & 0xff;
	v %= 100;
	return (v / 10) << 4 | v % 10;
}

static int from_reg(const struct rtc_regs *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_DM)
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t hour_to_reg(const struct rtc_regs *r, int h)
{
	if (r->cmos[REG_B] & B_24H)
		return to_reg(r, h);
	return to_reg(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0);
}

static int hour_from_reg(const struct rtc_regs *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_24H)
		return from_reg(r, v);
	return from_reg(r, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

/* Fills the time bytes with guest time @t in the current format. */
static void time_to_regs(struct rtc_regs *r, int64_t t)
{
	time_t tt = t;
	struct tm tm;
	int year;

	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));
	year = tm.tm_year + 1900;
	r->cmos[REG_SEC] = to_reg(r, tm.tm_sec);
	r->cmos[REG_MIN] = to_reg(r, tm.tm_min);
	r->cmos[REG_HOUR] = hour_to_reg(r, tm.tm_hour);
	r->cmos[REG_WDAY] = to_reg(r, tm.tm_wday + 1);
	r->cmos[REG_MDAY] = to_reg(r, tm.tm_mday);
	r->cmos[REG_MON] = to_reg(r, tm.tm_mon + 1);
	r->cmos[REG_YEAR] = to_reg(r, year % 100);
	r->cmos[REG_CENTURY] = to_reg(r, year / 100);
}

/* The guest time the time bytes say; nonsense values just normalize. */
static int64_t regs_to_time(const struct rtc_regs *r)
{
	struct tm tm = {
		.tm_sec = from_reg(r, r->cmos[REG_SEC]),
		.tm_min = from_reg(r, r->cmos[REG_MIN]),
		.tm_hour = hour_from_reg(r, r->cmos[REG_HOUR]),
		.tm_mday = from_reg(r, r->cmos[REG_MDAY]),
		.tm_mon = from_reg(r, r->cmos[REG_MON]) - 1,
		.tm_year = from_reg(r, r->cmos[REG_CENTURY]) * 100 +
			   from_reg(r, r->cmos[REG_YEAR]) - 1900,
	};

	return timegm(&tm);
}

/* IRQF: a raised flag whose interrupt is enabled; the IRQ line follows it. */
static bool irqf(const struct rtc_regs *r)
{
	return r->cmos[REG_C] & r->cmos[REG_B] & C_FLAGS;
}

static void update_irq(struct rtc *s)
{
	int level = irqf(&s->r);

	if (level != s->level) {
		s->level = level;
		irq_pin_set(&s->pin, level);
	}
}

static bool alarm_match(const struct rtc_regs *r)
{
	static const uint8_t pairs[][2] = {
		{ REG_SEC_ALARM, REG_SEC }, { REG_MIN_ALARM, REG_MIN },
		{ REG_HOUR_ALARM, REG_HOUR },
	};

	for (unsigned i = 0; i < 3; i++) {
		uint8_t a = r->cmos[pairs[i][0]];

		if (a < ALARM_ANY && a != r->cmos[pairs[i][1]])
			return false;
	}
	return true;
}

/* Runs the update cycle if the guest's second has moved on since the last. */
static void update_cycle(struct rtc_regs *r, struct timespec now)
{
	int64_t t = now.tv_sec + r->offset;

	if ((r->cmos[REG_B] & B_SET) || t == r->last_sec)
		return;
	r->last_sec = t;
	time_to_regs(r, t);
	r->cmos[REG_C] |= C_UF;
	if (alarm_match(r))
		r->cmos[REG_C] |= C_AF;
}

static int64_t periodic_ns(const struct rtc_regs *r)
{
	unsigned rs = r->cmos[REG_A] & A_RS;

	if (!rs)
		return 0;
	/* Rates 1 and 2 repeat 8 and 9 (256 and 128 Hz), as on the chip. */
	if (rs <= 2)
		rs += 7;
	return (NSEC << (rs - 1)) / 32768;
}

/* Arms the timer for what the guest has enabled; a syscall only on change. */
static void timer_update(struct rtc *s)
{
	struct rtc_regs *r = &s->r;
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	uint8_t b = r->cmos[REG_B];
	int64_t ns = 0;
	int flags = 0;

	if (s->timer_fd < 0)
		return;
	if ((b & B_PIE) && periodic_ns(r))
		ns = periodic_ns(r);
	else if (b & (B_AIE | B_UIE))
		ns = NSEC;
	if (ns == s->timer_ns)
		return;
	s->timer_ns = ns;
	if (ns == NSEC) {
		/* Just after each second boundary, when the guest's second moves. */
		its.it_value.tv_sec = rtc_now(s).tv_sec + 1;
		its.it_interval.tv_sec = 1;
		flags = TFD_TIMER_ABSTIME;
	} else if (ns) {
		its.it_value.tv_sec = ns / NSEC;
		its.it_value.tv_nsec = ns % NSEC;
		its.it_interval = its.it_value;
	}
	if (timerfd_settime(s->timer_fd, flags, &its, NULL))
		warn_once("rtc: cannot arm timer: %s", strerror(errno));
}

static void rtc_timer(void *opaque, uint32_t events)
{
	struct rtc *s = opaque;
	struct rtc_regs *r = &s->r;
	uint64_t n = 0;
	ssize_t got;

	got = read(s->timer_fd, &n, sizeof(n));
	pthread_mutex_lock(&s->lock);
	if (got == sizeof(n) && n && (r->cmos[REG_B] & B_PIE) &&
	    periodic_ns(r))
		r->cmos[REG_C] |= C_PF;
	update_cycle(r, rtc_now(s));
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static uint8_t data_read(struct rtc *s)
{
	struct rtc_regs *r = &s->r;
	unsigned idx = r->index;
	struct timespec now;
	uint8_t v;

	switch (idx) {
	case REG_A:
		now = rtc_now(s);
		v = r->cmos[REG_A] & ~A_UIP;
		/* Only for the last moments of a second, so it is never stuck. */
		if (!(r->cmos[REG_B] & B_SET) && now.tv_nsec >= NSEC - UIP_NS)
			v |= A_UIP;
		return v;
	case REG_C:
		update_cycle(r, rtc_now(s));
		v = (r->cmos[REG_C] & C_FLAGS) | (irqf(r) ? C_IRQF : 0);
		r->cmos[REG_C] = 0;
		update_irq(s);
		return v;
	case REG_D:
		return D_VRT;
	}
	if (is_time_reg(idx) && !(r->cmos[REG_B] & B_SET))
		time_to_regs(r, rtc_now(s).tv_sec + r->offset);
	return r->cmos[idx];
}

static void data_write(struct rtc *s, uint8_t v)
{
	struct rtc_regs *r = &s->r;
	unsigned idx = r->index;
	struct timespec now = rtc_now(s);
	uint8_t old;

	switch (idx) {
	case REG_A:
		r->cmos[REG_A] = v & ~A_UIP;
		timer_update(s);
		return;
	case REG_B:
		old = r->cmos[REG_B];
		if (v & B_SET)
			v &= ~B_UIE;	/* the chip clears UIE while SET */
		r->cmos[REG_B] = v;
		if (!(old & B_SET) && (v & B_SET)) {
			time_to_regs(r, now.tv_sec + r->offset);
		} else if ((old & B_SET) && !(v & B_SET)) {
			r->offset = regs_to_time(r) - now.tv_sec;
			/* The new time starts a second; no update flag for it. */
			r->last_sec = now.tv_sec + r->offset;
		}
		update_irq(s);
		timer_update(s);
		return;
	case REG_C:
	case REG_D:
		return;		/* read-only */
	}
	if (is_time_reg(idx) && !(r->cmos[REG_B] & B_SET)) {
		/* Setting one field on a running clock: the others stay. */
		time_to_regs(r, now.tv_sec + r->offset);
		r->cmos[idx] = v;
		r->offset = regs_to_time(r) - now.tv_sec;
		r->last_sec = now.tv_sec + r->offset;
		return;
	}
	r->cmos[idx] = v;
}

/* Port 0: index (bit 7 gates NMI on a PC; ignored). Port 1: data. */
static void rtc_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct rtc *s = opaque;
	uint8_t *p = data;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < len; i++)
		p[i] = (off + i) % 2 ? data_read(s) : 0xff; /* index: write-only */
	pthread_mutex_unlock(&s->lock);
}

static void rtc_write(void *opaque, uint64_t off, const void *data,
		      unsigned len)
{
	struct rtc *s = opaque;
	const uint8_t *p = data;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < len; i++) {
		if ((off + i) % 2)
			data_write(s, p[i]);
		else
			s->r.index = p[i] & (CMOS_SIZE - 1);
	}
	pthread_mutex_unlock(&s->lock);
}

static const struct bus_ops rtc_ops = {
	.read = rtc_read,
	.write = rtc_write,
};

static int rtc_realize(struct device *dev, struct platform *pf)
{
	struct rtc *s = dev->state;
	struct rtc_regs *r = &s->r;
	int ret;

	s->pin = (struct irq_pin){ .pf = pf, .gsi = RTC_IRQ };
	s->timer_fd = -1;
	s->clock = pf->clock;
	r->cmos[REG_A] = 0x26;	/* 32.768 kHz base, 1024 Hz periodic rate */
	r->cmos[REG_B] = B_24H;
	r->cmos[REG_D] = D_VRT;
	r->last_sec = rtc_now(s).tv_sec;
	if (rtc_base_offset(rtc_base, r->last_sec, &r->offset))
		return -EINVAL;	/* rtc_set_base checked it */
	r->last_sec += r->offset;

	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret) {
		err_msg("rtc: cannot create lock: %s", strerror(ret));
		return -ret;
	}
	if (pf->loop) {
		s->timer_fd = timerfd_create(CLOCK_REALTIME,
					     TFD_NONBLOCK | TFD_CLOEXEC);
		if (s->timer_fd < 0) {
			ret = -errno;
			err_msg("rtc: cannot create timer: %s", strerror(errno));
			goto err_lock;
		}
		ret = loop_add(pf->loop, s->timer_fd, EPOLLIN, rtc_timer, s);
		if (ret) {
			err_msg("rtc: cannot watch timer: %s", strerror(-ret));
			goto err_fd;
		}
		s->loop = pf->loop;
	}
	ret = bus_register(&pf->pio, RTC_PORT, 2, &rtc_ops, s, "rtc");
	if (ret)
		goto err_loop;
	return 0;

err_loop:
	if (s->loop)
		loop_del(s->loop, s->timer_fd);
err_fd:
	if (s->timer_fd >= 0)
		close(s->timer_fd);
err_lock:
	pthread_mutex_destroy(&s->lock);
	return ret;
}

static void rtc_unrealize(struct device *dev, struct platform *pf)
{
	struct rtc *s = dev->state;

	bus_unregister(&pf->pio, RTC_PORT);
	if (s->loop)
		loop_del(s->loop, s->timer_fd);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	s->timer_fd = -1;
	pthread_mutex_destroy(&s->lock);
}

/* The guest maps IRQ 8 only through this node (hardware-reduced ACPI). */
static void rtc_aml(struct device *dev, struct aml *a)
{
	acpi_dsdt_add_rtc(a);
}

/* Snapshot restored: the line and the timer as the registers say. */
static void rtc_post_load(struct device *dev)
{
	struct rtc *s = dev->state;

	pthread_mutex_lock(&s->lock);
	s->level = -1;
	update_irq(s);
	s->timer_ns = -1;
	timer_update(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct prop rtc_props[] = { { .name = NULL } };

static const struct device_type rtc_type = {
	.name = "mc146818rtc",
	.bus = "isa",
	.desc = "CMOS real-time clock",
	.state_size = sizeof(struct rtc),
	.props = rtc_props,
	.realize = rtc_realize,
	.unrealize = rtc_unrealize,
	.aml = rtc_aml,
	.snap_off = offsetof(struct rtc, r),
	.snap_size = sizeof(struct rtc_regs),
	.post_load = rtc_post_load,
	.internal = 1,
};
DEVICE_TYPE(rtc_type)

int rtc_create(struct platform *pf)
{
	return device_create_internal(pf, rtc_type.name);
}
