/*
 * The 16550A register model, driven through the port I/O bus as a guest
 * would, with a fake chardev and a platform that records the IRQ line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backends/chardev.h"
#include "devices/aml.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "devices/serial.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "tests/common/fake_platform.h"

#define COM1	0x3f8
enum { RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR };

/* The chardevs: fake_chrs[1] ("c1") and fake_chrs[2] ("c2"), which keep what they are sent. */
#define chr_c1	fake_chrs[1]
#define chr_c2	fake_chrs[2]

static size_t input(struct chardev *c, const char *s, size_t len)
{
	assert_non_null(c->fn);
	return fake_chardev_input(c, s, len);
}

/* --- a platform that records the interrupt lines --- */
static struct platform pf;
static int level[16], irq_calls, irq_repeats;

static void record_irq(void *opaque, unsigned gsi, int lvl)
{
	assert_true(gsi < 16);
	if (level[gsi] == lvl)
		irq_repeats++;	/* the line must be driven only on change */
	level[gsi] = lvl;
	irq_calls++;
}

static void outb(uint16_t port, uint8_t v)
{
	assert_true(bus_write(&pf.pio, port, &v, 1));
}

static uint8_t inb(uint16_t port)
{
	uint8_t v;

	assert_true(bus_read(&pf.pio, port, &v, 1));
	return v;
}

static int setup(void **state)
{
	memset(&pf, 0, sizeof(pf));
	memset(level, 0, sizeof(level));
	irq_calls = irq_repeats = 0;
	fake_chardevs_reset();
	pf.irq_set = record_irq;
	assert_int_equal(bus_init(&pf.pio, "pio"), 0);
	assert_int_equal(device_create(&pf, "isa-serial,chardev=c1"), 0);
	return 0;
}

static int teardown(void **state)
{
	device_destroy_all(&pf);
	assert_null(chr_c1.fn);		/* detached */
	assert_int_equal(irq_repeats, 0);
	bus_destroy(&pf.pio);
	return 0;
}

static void t_reset_state(void **state)
{
	assert_int_equal(inb(COM1 + LSR), 0x60);
	assert_int_equal(inb(COM1 + IIR), 0x01);
	assert_int_equal(inb(COM1 + IER), 0x00);
	assert_int_equal(inb(COM1 + LCR), 0x00);
	assert_int_equal(inb(COM1 + MCR), 0x00);
	assert_int_equal(inb(COM1 + MSR) & 0xf0, 0xb0);	/* CTS DSR DCD */
	assert_int_equal(level[4], 0);
}

/*
 * Machine reset (device_reset_all): registers and FIFO at power-on, the
 * line low, the chardev kept and asked for the input the full FIFO refused.
 */
static void t_machine_reset(void **state)
{
	outb(COM1 + 2, 0x01);
	outb(COM1 + IER, 0x01);
	outb(COM1 + LCR, 0x03);
	assert_int_equal(input(&chr_c1, "ABCDEFGHIJKLMNOPQ", 17), 16);
	assert_int_equal(level[4], 1);
	device_reset_all(&pf);
	assert_int_equal(level[4], 0);
	assert_int_equal(chr_c1.accepts, 1);
	t_reset_state(state);
	assert_int_equal(input(&chr_c1, "Q", 1), 1);	/* a 16450 again: one byte */
	assert_int_equal(inb(COM1 + RBR), 'Q');
	outb(COM1 + RBR, 'z');
	assert_int_equal(chr_c1.out_len, 1);
}

static void t_thr_reaches_chardev(void **state)
{
	outb(COM1 + RBR, 'h');
	outb(COM1 + RBR, 'i');
	assert_int_equal(chr_c1.out_len, 2);
	assert_memory_equal(chr_c1.out, "hi", 2);
	assert_int_equal(inb(COM1 + LSR), 0x60);	/* still empty */
}

/* A snapshot's round trip: the registers and the line come back. */
static void t_snapshot(void **state)
{
	struct snapw w, bad;
	struct snap s;

	outb(COM1 + LCR, 0x03);
	outb(COM1 + SCR, 0x5a);
	outb(COM1 + IER, 0x02);		/* THRE interrupt: the line goes high */
	assert_int_equal(level[4], 1);
	snapw_init(&w, "microvm", 0);
	assert_int_equal(device_save_all(&pf, &w), 0);
	assert_int_equal(snapw_finish(&w), 0);
	outb(COM1 + SCR, 0);
	outb(COM1 + IER, 0);
	outb(COM1 + LCR, 0);
	assert_int_equal(level[4], 0);

	assert_int_equal(snap_parse(&s, w.p, w.len), 0);
	assert_non_null(snap_find(&s, "isa-serial/0"));
	assert_int_equal(device_load_all(&pf, &s), 0);
	assert_int_equal(inb(COM1 + SCR), 0x5a);
	assert_int_equal(inb(COM1 + LCR), 0x03);
	assert_int_equal(level[4], 1);	/* driven again after the load */
	snap_free(&s);
	snapw_free(&w);

	snapw_init(&bad, "microvm", 0);
	snapw_add(&bad, "isa-serial/0", "abc", 3);
	assert_int_equal(snapw_finish(&bad), 0);
	assert_int_equal(snap_parse(&s, bad.p, bad.len), 0);
	assert_int_equal(device_load_all(&pf, &s), -EINVAL);
	assert_non_null(strstr(log_last(), "state file: section isa-serial/0 has 3 bytes"));
	assert_int_equal(inb(COM1 + SCR), 0x5a);
	snap_free(&s);
	snapw_free(&bad);
}

static void t_thre_interrupt(void **state)
{
	outb(COM1 + RBR, 'x');
	assert_int_equal(inb(COM1 + IIR), 0x01);	/* THRI not enabled */
	assert_int_equal(level[4], 0);

	outb(COM1 + IER, 0x02);
	assert_int_equal(level[4], 1);
	assert_int_equal(inb(COM1 + IIR), 0x02);
	/* Reading IIR acknowledged it. */
	assert_int_equal(level[4], 0);
	assert_int_equal(inb(COM1 + IIR), 0x01);

	outb(COM1 + RBR, 'y');		/* sent at once: empty again */
	assert_int_equal(level[4], 1);
	outb(COM1 + IER, 0x00);
	assert_int_equal(level[4], 0);

	/* Linux's start-up check: enable, ack, disable, enable again. */
	outb(COM1 + IER, 0x02);
	assert_int_equal(inb(COM1 + IIR) & 0x0f, 0x02);
	outb(COM1 + IER, 0x00);
	outb(COM1 + IER, 0x02);
	assert_int_equal(inb(COM1 + LSR) & 0x40, 0x40);
	assert_int_equal(inb(COM1 + IIR) & 0x0f, 0x02);
	outb(COM1 + IER, 0x00);
}

static void t_rx_data(void **state)
{
	outb(COM1 + 2, 0x01);		/* FCR: FIFO on, trigger 1 */
	outb(COM1 + IER, 0x01);
	assert_int_equal(input(&chr_c1, "abc", 3), 3);
	assert_int_equal(inb(COM1 + LSR) & 0x01, 0x01);
	assert_int_equal(inb(COM1 + IIR), 0xc4);
	assert_int_equal(level[4], 1);

	assert_int_equal(inb(COM1 + RBR), 'a');
	assert_int_equal(inb(COM1 + RBR), 'b');
	assert_int_equal(level[4], 1);
	assert_int_equal(inb(COM1 + RBR), 'c');
	assert_int_equal(inb(COM1 + LSR), 0x60);
	assert_int_equal(inb(COM1 + IIR), 0xc1);
	assert_int_equal(level[4], 0);
}

static void t_rx_fifo_full(void **state)
{
	const char *data = "ABCDEFGHIJKLMNOPQRST";

	outb(COM1 + 2, 0x01);
	assert_int_equal(input(&chr_c1, data, 20), 16);
	assert_int_equal(input(&chr_c1, data + 16, 4), 0);
	assert_int_equal(chr_c1.accepts, 0);

	assert_int_equal(inb(COM1 + RBR), 'A');
	assert_int_equal(chr_c1.accepts, 1);	/* room again: ask for more */
	assert_int_equal(input(&chr_c1, data + 16, 4), 1);
	for (int i = 1; i <= 16; i++)
		assert_int_equal(inb(COM1 + RBR), data[i]);
	assert_int_equal(inb(COM1 + LSR) & 0x01, 0);
	assert_int_equal(chr_c1.accepts, 2);
}

static void t_rx_without_fifo(void **state)
{
	/* A 16450: one byte at a time. */
	assert_int_equal(input(&chr_c1, "xy", 2), 1);
	assert_int_equal(inb(COM1 + RBR), 'x');
	assert_int_equal(chr_c1.accepts, 1);
	assert_int_equal(input(&chr_c1, "y", 1), 1);
	outb(COM1 + IER, 0x01);
	assert_int_equal(inb(COM1 + IIR), 0x04);
	assert_int_equal(inb(COM1 + RBR), 'y');
}

static void t_trigger_levels(void **state)
{
	static const struct { uint8_t fcr; unsigned trig; } lv[] = {
		{ 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 },
	};
	char buf[16];

	memset(buf, 'z', sizeof(buf));
	outb(COM1 + IER, 0x01);
	for (unsigned i = 0; i < 4; i++) {
		outb(COM1 + 2, lv[i].fcr | 0x02);	/* and clear RX */
		if (lv[i].trig > 1) {
			assert_int_equal(input(&chr_c1, buf, lv[i].trig - 1),
					 lv[i].trig - 1);
			/* Below the trigger: reported as a character timeout. */
			assert_int_equal(inb(COM1 + IIR), 0xcc);
		}
		assert_int_equal(input(&chr_c1, buf, 1), 1);
		assert_int_equal(inb(COM1 + IIR), 0xc4);
		assert_int_equal(level[4], 1);
	}
}

static void t_dlab(void **state)
{
	outb(COM1 + LCR, 0x83);
	outb(COM1 + 0, 0x01);
	outb(COM1 + 1, 0x02);
	assert_int_equal(inb(COM1 + 0), 0x01);
	assert_int_equal(inb(COM1 + 1), 0x02);
	assert_int_equal(chr_c1.out_len, 0);	/* DLL, not THR */

	outb(COM1 + LCR, 0x03);
	assert_int_equal(inb(COM1 + IER), 0x00);
	outb(COM1 + IER, 0xff);
	assert_int_equal(inb(COM1 + IER), 0x0f);	/* 16550A: 4 bits */
	outb(COM1 + LCR, 0x83);
	assert_int_equal(inb(COM1 + 1), 0x02);
	assert_int_equal(inb(COM1 + LCR), 0x83);
}

static void t_loopback(void **state)
{
	outb(COM1 + 2, 0x01);
	/* Linux's probe: LOOP|OUT2|RTS must read back as DCD|CTS. */
	outb(COM1 + MCR, 0x10 | 0x08 | 0x02);
	assert_int_equal(inb(COM1 + MSR) & 0xf0, 0x90);
	outb(COM1 + MCR, 0x10 | 0x01 | 0x04);
	assert_int_equal(inb(COM1 + MSR) & 0xf0, 0x60);	/* DSR, RI */

	outb(COM1 + RBR, 'x');
	assert_int_equal(chr_c1.out_len, 0);
	assert_int_equal(inb(COM1 + LSR) & 0x01, 0x01);
	assert_int_equal(inb(COM1 + RBR), 'x');

	/* The line is disconnected in loopback. */
	assert_int_equal(input(&chr_c1, "q", 1), 0);
	outb(COM1 + MCR, 0x0b);
	assert_int_equal(chr_c1.accepts, 1);
	assert_int_equal(input(&chr_c1, "q", 1), 1);
	assert_int_equal(inb(COM1 + MSR) & 0xf0, 0xb0);
}

static void t_fcr_clears_rx(void **state)
{
	outb(COM1 + 2, 0x01);
	assert_int_equal(input(&chr_c1, "0123456789abcdefXYZ", 19), 16);
	outb(COM1 + 2, 0x03);
	assert_int_equal(inb(COM1 + LSR) & 0x01, 0);
	assert_int_equal(chr_c1.accepts, 1);
	assert_int_equal(input(&chr_c1, "XYZ", 3), 3);
	assert_int_equal(inb(COM1 + RBR), 'X');

	/* Turning the FIFO off flushes it too. */
	outb(COM1 + 2, 0x00);
	assert_int_equal(inb(COM1 + LSR) & 0x01, 0);
}

static void t_iir_fifo_bits(void **state)
{
	assert_int_equal(inb(COM1 + IIR) & 0xc0, 0x00);
	outb(COM1 + 2, 0x01);
	assert_int_equal(inb(COM1 + IIR) & 0xc0, 0xc0);
	/* 64-byte mode (16750) is not there: bit 5 stays clear. */
	outb(COM1 + 2, 0x21);
	assert_int_equal(inb(COM1 + IIR) & 0xe0, 0xc0);
	outb(COM1 + 2, 0x00);
	assert_int_equal(inb(COM1 + IIR) & 0xc0, 0x00);
}

static void t_overrun_line_status(void **state)
{
	outb(COM1 + MCR, 0x10);
	outb(COM1 + RBR, '1');
	outb(COM1 + RBR, '2');		/* no FIFO: overrun */
	outb(COM1 + IER, 0x05);
	/* Line status outranks received data. */
	assert_int_equal(inb(COM1 + IIR), 0x06);
	assert_int_equal(level[4], 1);
	assert_int_equal(inb(COM1 + LSR), 0x63);
	assert_int_equal(inb(COM1 + IIR), 0x04);
	assert_int_equal(inb(COM1 + LSR), 0x61);
	assert_int_equal(inb(COM1 + RBR), '1');
	assert_int_equal(level[4], 0);
}

static void t_modem_status_interrupt(void **state)
{
	outb(COM1 + IER, 0x08);
	assert_int_equal(level[4], 0);
	outb(COM1 + MCR, 0x10);		/* loopback drops CTS, DSR, DCD */
	assert_int_equal(level[4], 1);
	assert_int_equal(inb(COM1 + IIR), 0x00);
	assert_int_equal(inb(COM1 + MSR), 0x0b);	/* deltas, no lines */
	assert_int_equal(level[4], 0);
	assert_int_equal(inb(COM1 + MSR), 0x00);
	outb(COM1 + MCR, 0x14);		/* RI on ... */
	assert_int_equal(inb(COM1 + MSR), 0x40);
	outb(COM1 + MCR, 0x10);		/* ... and off: trailing edge */
	assert_int_equal(inb(COM1 + MSR), 0x04);
}

static void t_scratch_and_wide(void **state)
{
	uint16_t w = 0x0b03;	/* LCR = 0x03, MCR = 0x0b */
	uint32_t d = 0;

	outb(COM1 + SCR, 0xa5);
	assert_int_equal(inb(COM1 + SCR), 0xa5);
	assert_true(bus_write(&pf.pio, COM1 + LCR, &w, 2));
	assert_int_equal(inb(COM1 + LCR), 0x03);
	assert_int_equal(inb(COM1 + MCR), 0x0b);
	assert_true(bus_read(&pf.pio, COM1 + MCR, &d, 4));
	assert_int_equal(d, 0xa5b0600b);	/* MCR LSR MSR SCR */
	/* Past the last register: not ours. */
	assert_false(bus_read(&pf.pio, COM1 + 6, &d, 4));
}

static void t_second_uart(void **state)
{
	struct device *dev = NULL;

	assert_int_equal(device_create(&pf, "isa-serial,chardev=c2,iobase=0x2f8,irq=3"), 0);
	outb(0x2f8 + IER, 0x02);
	assert_int_equal(level[3], 1);
	assert_int_equal(level[4], 0);
	outb(0x2f8, 'k');
	assert_int_equal(chr_c2.out_len, 1);
	assert_int_equal(chr_c1.out_len, 0);

	/* Same ports: refused, naming both. */
	assert_true(device_create(&pf, "isa-serial,iobase=0x2f8") < 0);
	assert_non_null(strstr(log_last(), "0x2f8-0x2ff"));
	/* A chardev has one front end. */
	assert_int_equal(device_create(&pf, "isa-serial,chardev=c1,iobase=0x3e8"),
			 -EBUSY);
	assert_non_null(strstr(log_last(), "c1"));
	assert_true(device_create(&pf, "isa-serial,chardev=nope,iobase=0x3e8") < 0);
	assert_non_null(strstr(log_last(), "nope"));
	assert_true(device_create(&pf, "isa-serial,iobase=0x3e8,irq=16") < 0);

	/* The machine's path: its -serial chardevs have ids too (serialN). */
	chr_c2.fn = NULL;
	assert_int_equal(serial_create(&pf, &chr_c2, 0x3e8, 5, &dev), 0);
	assert_non_null(dev);
	assert_non_null(chr_c2.fn);
	outb(0x3e8, 'm');
	assert_int_equal(chr_c2.out[1], 'm');
	outb(0x3e8 + IER, 0x02);
	assert_int_equal(level[5], 1);
	assert_int_equal(serial_create(&pf, NULL, 0x2e8, 7, NULL), 0);
	assert_int_equal(serial_create(&pf, &chr_c1, 0x2e0, 7, NULL), -EBUSY);
}

/* Each UART gets its own DSDT node, so the guest can map its IRQ. */
static void t_dsdt_nodes(void **state)
{
	struct device *com2;
	struct aml a;

	assert_int_equal(serial_create(&pf, NULL, 0x2f8, 3, &com2), 0);
	aml_init(&a);
	for (struct device *d = pf.devices; d; d = d->next)
		d->type->aml(d, &a);
	assert_int_equal(a.err, 0);
	assert_non_null(memmem(a.buf, a.len, "COM1", 4));
	assert_non_null(memmem(a.buf, a.len, "COM2", 4));
	aml_free(&a);
}

/* Whatever the guest does, nothing breaks and the IRQ follows IIR. */
static void t_fuzz(void **state)
{
	static const unsigned lens[] = { 1, 2, 4, 8 };
	uint8_t buf[8], in[32];

	srand(12345);
	for (int i = 0; i < 100000; i++) {
		unsigned len = lens[rand() % 4], off = rand() % 8;
		int what = rand() % 16;

		if (off + len > 8)
			off = 8 - len;
		if (what == 0) {
			size_t n = rand() % sizeof(in);

			for (size_t j = 0; j < n; j++)
				in[j] = rand();
			assert_true(input(&chr_c1, (char *)in, n) <= 16);
			continue;
		}
		if (what == 1) {
			int was = level[4];

			assert_int_equal(!(inb(COM1 + IIR) & 0x01), was);
			continue;
		}
		for (unsigned j = 0; j < len; j++)
			buf[j] = rand();
		if (what < 8)
			bus_write(&pf.pio, COM1 + off, buf, len);
		else
			bus_read(&pf.pio, COM1 + off, buf, len);
		if (chr_c1.out_len > 128)
			chr_c1.out_len = 0;
	}
	/* Still a working UART. */
	outb(COM1 + LCR, 0x03);
	outb(COM1 + MCR, 0x00);
	outb(COM1 + 2, 0x07);
	outb(COM1 + IER, 0x00);
	(void)inb(COM1 + LSR);
	(void)inb(COM1 + MSR);
	assert_int_equal(inb(COM1 + IIR), 0xc1);
	assert_int_equal(level[4], 0);
	assert_int_equal(inb(COM1 + LSR), 0x60);
	chr_c1.out_len = 0;
	outb(COM1, '!');
	assert_int_equal(chr_c1.out[0], '!');
}

/* vCPUs hammer the registers while the event loop feeds input. */
static void *vcpu_thread(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	uint8_t v;

	for (int i = 0; i < 20000; i++) {
		v = rand_r(&seed);
		if (v & 1)
			bus_write(&pf.pio, COM1 + (v >> 5), &v, 1);
		else
			bus_read(&pf.pio, COM1 + (v >> 5), &v, 1);
	}
	return NULL;
}

static void *loop_thread(void *arg)
{
	for (int i = 0; i < 20000; i++)
		input(&chr_c1, "abcdefgh", 1 + i % 8);
	return NULL;
}

static void t_threads(void **state)
{
	pthread_t t[3];

	pthread_create(&t[0], NULL, vcpu_thread, (void *)1);
	pthread_create(&t[1], NULL, vcpu_thread, (void *)2);
	pthread_create(&t[2], NULL, loop_thread, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(t_reset_state), T(t_machine_reset), T(t_snapshot), T(t_thr_reaches_chardev), T(t_thre_interrupt),
		T(t_rx_data), T(t_rx_fifo_full), T(t_rx_without_fifo),
		T(t_trigger_levels), T(t_dlab), T(t_loopback),
		T(t_fcr_clears_rx), T(t_iir_fifo_bits), T(t_overrun_line_status),
		T(t_modem_status_interrupt), T(t_scratch_and_wide),
		T(t_second_uart), T(t_dsdt_nodes), T(t_fuzz), T(t_threads),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
