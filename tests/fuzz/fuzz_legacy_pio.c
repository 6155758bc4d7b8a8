/*
 * The legacy port I/O devices as a hostile guest drives them: a sequence of
 * in/out accesses of any size to any port on the pio bus that holds the
 * 16550 UART, the CMOS RTC, the i8042, port 0x80, pvpanic and the ACPI PM
 * registers, interleaved with input arriving on the UART's chardev and time
 * passing for the RTC (a fake clock; its timer handler is called directly).
 * A device that asks the machine to stop does not end the run: the guest
 * may keep poking. See docs/fuzzing.md for the input format.
 */
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
#include "tests/common/fake_platform.h"

static struct platform pf;

/* The UART's chardev is fake_chrs[1] ("c1"), the RTC's timer fake_timer_fn. */
static struct chardev *const uart_chr = &fake_chrs[1];

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
		if (fake_chardev_input(uart_chr, buf, n) > n)
			abort();
		break;
	default:	/* time passes; the RTC's timer fires */
		if (!take(in, &ms, 2))
			return false;
		fake_ns += ms * 1000000LL;
		if (fake_timer_fn)
			fake_timer_fn(fake_timer_opaque, 1);
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
	fake_chardevs_reset();
	memset(level, 0, sizeof(level));
	/* 2026-12-06 22:10:07.25 UTC */
	fake_ns = 1796595007LL * 1000000000LL + 250000000LL;
	pf.clock = &fake_clock;
	pf.irq_set = fake_irq_set;
	pf.request_stop = fake_stop;
	pf.loop = fake_loop;
	if (bus_init(&pf.pio, "pio") || bus_init(&pf.mmio, "mmio") ||
	    serial_create(&pf, uart_chr, SERIAL_COM1_BASE, SERIAL_COM1_IRQ, NULL) ||
	    rtc_create(&pf) || i8042_create(&pf) || port80_create(&pf) ||
	    pvpanic_create(&pf) || acpi_pm_create(&pf))
		abort();

	while (steps++ < 4096 && step(&in))
		;

	device_destroy_all(&pf);
	if (pf.pio.nr || pf.mmio.nr || uart_chr->fn || fake_timer_fn)
		abort();	/* every device let go of what it held */
	bus_destroy(&pf.pio);
	bus_destroy(&pf.mmio);
	return 0;
}
