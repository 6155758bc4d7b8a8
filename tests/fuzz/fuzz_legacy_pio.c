/*
 * The legacy port I/O devices as a hostile guest drives them: a sequence of
 * in/out accesses of any size to any port on the pio bus that holds the
 * 16550 UART, the CMOS RTC, the i8042, port 0x80, pvpanic and the ACPI PM
 * registers, interleaved with input arriving on the UART's chardev and time
 * passing for the RTC (a fake clock; its timer handler is called directly).
 * A device that asks the machine to stop does not end the run: the guest
 * may keep poking. See docs/fuzzing.md for the input format.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/chardev.h"
#include "devices/acpi.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/i8042.h"
#include "devices/platform.h"
#include "devices/port80.h"
#include "devices/pvpanic.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "fuzz_ops.h"

static struct platform pf;

/* --- a chardev that swallows output and hands input to the UART --- */
struct chardev {
	chr_input_fn fn;
	void *opaque;
};

static struct chardev chr;

struct chardev *chardev_find(const char *id) { return strcmp(id, "c1") ? NULL : &chr; }
const char *chardev_id(const struct chardev *c) { return "c1"; }

int chardev_attach(struct chardev *c, chr_input_fn fn, void *opaque)
{
	if (c->fn)
		return -EBUSY;
	c->fn = fn;
	c->opaque = opaque;
	return 0;
}

void chardev_detach(struct chardev *c) { c->fn = NULL; }
ssize_t chardev_write(struct chardev *c, const void *buf, size_t len) { return len; }
void chardev_accept_input(struct chardev *c) { }

/* --- an event loop that hands the RTC's timer to the fuzzer --- */
static loop_fn timer_fn;
static void *timer_opaque;
static int loop_token;

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

/* --- a clock the input moves --- */
static int64_t fake_ns;

static struct timespec fake_now(void *opaque, clockid_t id)
{
	return (struct timespec){ fake_ns / 1000000000, fake_ns % 1000000000 };
}

static const struct clock_src fake_clock = { .now = fake_now };

/* The UART and the RTC drive their lines on change only (as their unit tests check). */
static int level[24];

static void fake_irq_set(void *opaque, unsigned gsi, int lvl)
{
	if (gsi >= 24 || lvl < 0 || lvl > 1 ||
	    ((gsi == SERIAL_COM1_IRQ || gsi == RTC_IRQ) && level[gsi] == lvl))
		abort();
	level[gsi] = lvl;
}

static void fake_stop(void *opaque, enum stop_reason why, const char *msg) { }

/* One operation: a kind byte (bits 0-1 what, bits 4-5 log2 of the size), then its operands. */
static bool step(struct in *in)
{
	uint8_t kind, n, buf[256];
	uint16_t port, ms;
	uint64_t val = 0;
	unsigned len;

	if (!take(in, &kind, 1))
		return false;
	len = 1u << ((kind >> 4) & 3);
	switch (kind & 3) {
	case 0:		/* in */
		if (!take(in, &port, 2))
			return false;
		bus_read(&pf.pio, port, &val, len);
		break;
	case 1:		/* out */
		if (!take(in, &port, 2) || !take(in, &val, len))
			return false;
		bus_write(&pf.pio, port, &val, len);
		break;
	case 2:		/* bytes typed on the UART's chardev */
		if (!take(in, &n, 1) || !take(in, buf, n))
			return false;
		if (chr.fn && chr.fn(chr.opaque, buf, n) > n)
			abort();
		break;
	default:	/* time passes; the RTC's timer fires */
		if (!take(in, &ms, 2))
			return false;
		fake_ns += ms * 1000000LL;
		if (timer_fn)
			timer_fn(timer_opaque, 1);
		break;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	unsigned steps = 0;

	log_set_quiet(1);
	memset(&pf, 0, sizeof(pf));
	memset(&chr, 0, sizeof(chr));
	memset(level, 0, sizeof(level));
	/* 2026-12-06 22:10:07.25 UTC */
	fake_ns = 1796595007LL * 1000000000LL + 250000000LL;
	pf.clock = &fake_clock;
	pf.irq_set = fake_irq_set;
	pf.request_stop = fake_stop;
	pf.loop = (struct loop *)&loop_token;
	if (bus_init(&pf.pio, "pio") || bus_init(&pf.mmio, "mmio") ||
	    serial_create(&pf, &chr, SERIAL_COM1_BASE, SERIAL_COM1_IRQ, NULL) ||
	    rtc_create(&pf) || i8042_create(&pf) || port80_create(&pf) ||
	    pvpanic_create(&pf) || acpi_pm_create(&pf))
		abort();

	while (steps++ < 4096 && step(&in))
		;

	device_destroy_all(&pf);
	if (pf.pio.nr || pf.mmio.nr || chr.fn || timer_fn)
		abort();	/* every device let go of what it held */
	bus_destroy(&pf.pio);
	bus_destroy(&pf.mmio);
	return 0;
}
