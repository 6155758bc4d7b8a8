/* The i8042 reset path and the port-0x80 sink. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "devices/device.h"
#include "devices/i8042.h"
#include "devices/platform.h"
#include "devices/port80.h"
#include "lib/log.h"

static struct platform pf;
static int stops;
static enum stop_reason stop_why;
static char stop_msg[128];

static void record_stop(void *opaque, enum stop_reason why, const char *msg)
{
	stops++;
	stop_why = why;
	snprintf(stop_msg, sizeof(stop_msg), "%s", msg ? msg : "");
}

/* One-byte port access by the guest; every port used here is claimed. */
static uint8_t io(uint16_t port, bool write, uint8_t v)
{
	assert_true(write ? bus_write(&pf.pio, port, &v, 1)
			  : bus_read(&pf.pio, port, &v, 1));
	return v;
}
#define outb(port, v) io(port, true, v)
#define inb(port) io(port, false, 0)

static int setup(void **state)
{
	pf = (struct platform){ .request_stop = record_stop };
	stops = 0;
	assert_int_equal(bus_init(&pf.pio, "pio"), 0);
	assert_int_equal(i8042_create(&pf), 0);
	assert_int_equal(port80_create(&pf), 0);
	return 0;
}

static int teardown(void **state)
{
	device_destroy_all(&pf);
	assert_int_equal(pf.pio.nr, 0);
	bus_destroy(&pf.pio);
	return 0;
}

static void t_reset_command(void **state)
{
	outb(0x64, 0xfe);
	assert_int_equal(stops, 1);
	assert_int_equal(stop_why, STOP_RESET);
	assert_non_null(strstr(stop_msg, "i8042"));
}

static void t_idle_reads(void **state)
{
	/* Nothing pending: OBF clear, data 0; a polling guest moves on. */
	assert_int_equal(inb(0x64) & 0x01, 0);
	assert_int_equal(inb(0x60), 0);
	assert_int_equal(stops, 0);
}

static void t_controller_commands(void **state)
{
	outb(0x64, 0x20);		/* read configuration byte */
	assert_int_equal(inb(0x64) & 0x01, 0x01);
	assert_int_equal(inb(0x60) & 0x04, 0x04);	/* system flag */
	assert_int_equal(inb(0x64) & 0x01, 0);

	outb(0x64, 0x60);		/* write it */
	outb(0x60, 0x45);
	outb(0x64, 0x20);
	assert_int_equal(inb(0x60), 0x45);

	outb(0x64, 0xaa);		/* self-test */
	assert_int_equal(inb(0x60), 0x55);
	outb(0x64, 0xab);		/* keyboard interface test */
	assert_int_equal(inb(0x64) & 0x01, 0x01);
	assert_int_equal(inb(0x60), 0x00);

	outb(0x60, 0xf2);		/* to the absent keyboard: no answer */
	assert_int_equal(inb(0x64) & 0x01, 0);
	outb(0x64, 0x12);		/* unknown command: ignored */
	assert_int_equal(inb(0x64) & 0x01, 0);
	assert_int_equal(stops, 0);
}

static void t_output_port_reset(void **state)
{
	outb(0x64, 0xd1);
	outb(0x60, 0x03);		/* reset line kept high */
	assert_int_equal(stops, 0);
	outb(0x64, 0xd0);
	assert_int_equal(inb(0x60), 0x03);
	outb(0x64, 0xff);		/* pulse nothing */
	assert_int_equal(stops, 0);

	outb(0x64, 0xd1);
	outb(0x60, 0x02);
	assert_int_equal(stops, 1);
	assert_int_equal(stop_why, STOP_RESET);
	outb(0x64, 0xf0);		/* pulse all lines, reset among them */
	assert_int_equal(stops, 2);
}

/* Machine reset (device_reset_all): the controller as firmware left it. */
static void t_machine_reset(void **state)
{
	outb(0x64, 0x60);		/* configuration byte 0x45 */
	outb(0x60, 0x45);
	outb(0x64, 0xd1);		/* a command waiting for its byte */
	device_reset_all(&pf);
	outb(0x60, 0x00);		/* no longer the output port: no reset */
	assert_int_equal(stops, 0);
	outb(0x64, 0x20);
	assert_int_equal(inb(0x60), 0x34);	/* system flag, both ports off */
	outb(0x64, 0xd0);
	assert_int_equal(inb(0x60), 0x01);	/* reset line high */
}

static void t_wide_access(void **state)
{
	uint32_t v = 0xfefefefe;

	/* Only one port wide: wider accesses are not ours, and never crash. */
	assert_false(bus_write(&pf.pio, 0x64, &v, 4));
	assert_int_equal(stops, 0);
}

static void t_port80(void **state)
{
	uint8_t v = 0x5a;

	info_msg("marker");
	assert_true(bus_write(&pf.pio, 0x80, &v, 1));
	assert_true(bus_read(&pf.pio, 0x80, &v, 1));
	assert_int_equal(v, 0);
	assert_string_equal(log_last(), "marker");	/* no unclaimed warning */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(t_reset_command), T(t_idle_reads), T(t_controller_commands),
		T(t_output_port_reset), T(t_machine_reset), T(t_wide_access), T(t_port80),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
