/*
 * The chardev mux (mux=on, -serial mon:stdio) over a fake chardev: which
 * front end gets the input, QEMU's escape keys, events, back-pressure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "backends/chardev_mux.h"
#include "lib/util.h"
#include "tests/common/fake_platform.h"

/* A front end that keeps its input (up to `credit` bytes) and its events. */
struct fe {
	char got[256];
	size_t len, credit;
	int peer, opens, closes;	/* the last peer event: 1 open, 0 closed, -1 none */
	char focus[32];			/* focus events in order: "+" in, "-" out */
};

static struct fe fa, fb;
static struct chr_mux *mux;
static int quits;
#define chr	fake_chrs[0]

static size_t fe_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct fe *f = opaque;
	size_t k = MIN(len, f->credit);

	memcpy(f->got + f->len, buf, k);
	f->len += k;
	f->credit -= k;
	return k;
}

static void fe_peer(void *opaque, int open)
{
	struct fe *f = opaque;

	f->peer = open;
	*(open ? &f->opens : &f->closes) += 1;
}

static void fe_focus(void *opaque, int in)
{
	struct fe *f = opaque;

	strcat(f->focus, in ? "+" : "-");
}

static void on_quit(void *opaque)
{
	quits++;
}

static void attach(struct fe *f)
{
	*f = (struct fe){ .credit = sizeof(f->got), .peer = -1 };
	assert_int_equal(chr_mux_attach(mux, fe_input, f), 0);
	chr_mux_watch_peer(mux, fe_peer);
	chr_mux_watch_focus(mux, fe_focus);
}

/* A monitor (fa) first, then a serial port (fb), as -serial mon:stdio makes them. */
static int setup(void **state)
{
	fake_chardevs_reset();
	quits = 0;
	chardev_mux_set_escape(1);
	chardev_mux_set_quit(on_quit, NULL);
	mux = chr_mux_new(&chr, 1);
	assert_non_null(mux);
	attach(&fa);
	attach(&fb);
	return 0;
}

static int teardown(void **state)
{
	chr_mux_free(mux);
	return 0;
}

static size_t type(const char *s)
{
	return chr_mux_input(mux, (const uint8_t *)s, strlen(s));
}

static void out_has(const char *s)
{
	chr.out[MIN(chr.out_len, sizeof(chr.out) - 1)] = 0;
	if (!strstr((const char *)chr.out, s))
		fail_msg("'%s' not in the output '%s'", s, (const char *)chr.out);
}

static void t_start(void **state)
{
	/* nothing is read or told before chardev_mux_start */
	assert_int_equal(type("early"), 0);
	assert_int_equal(fa.peer, -1);
	assert_string_equal(fb.focus, "");
	chardev_mux_start();
	assert_int_equal(chr.accepts, 1);
	assert_int_equal(fa.opens, 1);
	assert_int_equal(fb.opens, 1);
	/* the newest front end has the focus, the monitor is told nothing */
	assert_string_equal(fb.focus, "+");
	assert_string_equal(fa.focus, "");
	assert_int_equal(type("early"), 5);
	assert_int_equal(fb.len, 5);
	assert_int_equal(fa.len, 0);
	/* the peer's going and coming reach everyone */
	chr_mux_peer(mux, 0);
	assert_int_equal(fa.closes, 1);
	assert_int_equal(fb.closes, 1);
	chr_mux_peer(mux, 1);
	assert_int_equal(fa.opens, 2);
	/* a front end watching after the start learns of the peer at once */
	assert_int_equal(chr_mux_attach(mux, fe_input, &fa), 0);
	chr_mux_watch_peer(mux, fe_peer);
	assert_int_equal(fa.opens, 3);
	assert_int_equal(chr.out_len, 0);
}

static void t_switch(void **state)
{
	chardev_mux_start();
	assert_int_equal(type("con\x01" "cmon\x01"), 9);
	assert_memory_equal(fb.got, "con", 3);
	assert_int_equal(fb.len, 3);
	/* QEMU's order: out, then in */
	assert_string_equal(fb.focus, "+-");
	assert_string_equal(fa.focus, "+");
	assert_memory_equal(fa.got, "mon", 3);
	/* the escape key split from its command across two reads */
	assert_int_equal(type("c"), 1);
	assert_string_equal(fa.focus, "+-");
	assert_string_equal(fb.focus, "+-+");
	assert_int_equal(type("x"), 1);
	assert_int_equal(fb.len, 4);
	/* nothing of this is echoed */
	assert_int_equal(chr.out_len, 0);
}

static void t_literal(void **state)
{
	chardev_mux_start();
	assert_int_equal(type("a\x01\x01" "b\x01"), 5);
	assert_int_equal(fb.len, 3);
	assert_memory_equal(fb.got, "a\x01" "b", 3);
	assert_int_equal(type("\x01"), 1);
	assert_int_equal(fb.len, 4);
	assert_int_equal(fb.got[3], 1);
	assert_string_equal(fb.focus, "+");
}

static void t_quit(void **state)
{
	chardev_mux_start();
	assert_int_equal(type("ls\x01xrest\x01" "c"), 10);
	assert_int_equal(quits, 1);
	out_has("QEMU: Terminated\n\r");
	/* what follows the quit goes nowhere */
	assert_int_equal(fb.len, 2);
	assert_string_equal(fb.focus, "+");
	assert_int_equal(type("more"), 4);
	assert_int_equal(fb.len, 2);
	assert_int_equal(quits, 1);
}

static void t_help(void **state)
{
	chardev_mux_start();
	assert_int_equal(type("\x01h"), 2);
	out_has("\n\rC-a h    print this help\n\r");
	out_has("C-a x    exit emulator\n\r");
	out_has("C-a c    switch between console and monitor\n\r");
	out_has("C-a C-a  sends C-a\n\r");
	out_has("C-a b    send break (magic sysrq): not in ember\n\r");
	assert_int_equal(fb.len, 0);
	/* '?' too, as in QEMU */
	chr.out_len = 0;
	assert_int_equal(type("\x01?"), 2);
	out_has("C-a h    print this help");
}

static void t_unknown(void **state)
{
	chardev_mux_start();
	/* an unknown key after the escape is dropped, as QEMU drops it */
	assert_int_equal(type("\x01zok"), 4);
	assert_int_equal(fb.len, 2);
	assert_memory_equal(fb.got, "ok", 2);
	assert_int_equal(chr.out_len, 0);
	/* QEMU's s, t and b: a message saying ember has not got them */
	assert_int_equal(type("\x01s\x01t\x01" "b"), 6);
	out_has("C-a s: ember has no -snapshot to save");
	out_has("C-a t: console timestamps are not supported");
	out_has("C-a b: sending a break is not supported");
	assert_int_equal(fb.len, 2);
	assert_int_equal(quits, 0);
}

static void t_backpressure(void **state)
{
	chardev_mux_start();
	fb.credit = 2;
	/* the serial port takes two bytes: the rest waits in the chardev */
	assert_int_equal(type("abcd"), 2);
	fb.credit = 10;
	assert_int_equal(type("cd"), 2);
	assert_memory_equal(fb.got, "abcd", 4);
	/* a literal escape key the front end refuses is tried again, still escaped */
	fb.credit = 0;
	assert_int_equal(type("\x01\x01" "c"), 1);
	assert_int_equal(type("\x01" "c"), 0);
	fb.credit = 1;
	assert_int_equal(type("\x01" "c"), 1);
	assert_int_equal(fb.len, 5);
	assert_int_equal(fb.got[4], 1);
	/* then "c" is plain input, no switch */
	assert_int_equal(type("c"), 0);
	assert_string_equal(fb.focus, "+");
	/* a command needs no room in the front end */
	assert_int_equal(type("\x01" "c"), 2);
	assert_string_equal(fa.focus, "+");
}

static void t_echr(void **state)
{
	chardev_mux_start();
	chardev_mux_set_escape(0x14);	/* -echr 0x14: Ctrl-t */
	assert_int_equal(type("\x01" "c"), 2);
	assert_int_equal(fb.len, 2);
	assert_int_equal(type("\x14h"), 2);
	out_has("C-t c    switch between console and monitor");
	out_has("C-t C-t  sends C-t");
	assert_int_equal(type("\x14" "c"), 2);
	assert_string_equal(fa.focus, "+");
	/* a key with no C- name: QEMU's words */
	chardev_mux_set_escape(0xe0);
	chr.out_len = 0;
	assert_int_equal(type("\xe0h"), 2);
	out_has("Escape-Char set to Ascii: 0xe0");
	out_has("Escape-Char x    exit emulator");
	chardev_mux_set_escape(1);
}

static void t_limits(void **state)
{
	struct fe more[CHR_MUX_MAX - 2];

	for (unsigned i = 0; i < ARRAY_SIZE(more); i++)
		attach(&more[i]);
	assert_int_equal(chr_mux_attach(mux, fe_input, &fa), -EBUSY);
	chardev_mux_start();
	/* Ctrl-a c goes round all of them */
	for (unsigned i = 0; i < CHR_MUX_MAX; i++)
		assert_int_equal(type("\x01" "c"), 2);
	assert_string_equal(more[ARRAY_SIZE(more) - 1].focus, "+-+");
	/* detached, input goes nowhere */
	chr_mux_detach(mux);
	assert_int_equal(type("lost\x01" "c\x01h"), 8);
	out_has("print this help");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_start, setup, teardown),
		cmocka_unit_test_setup_teardown(t_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(t_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(t_quit, setup, teardown),
		cmocka_unit_test_setup_teardown(t_help, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(t_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(t_echr, setup, teardown),
		cmocka_unit_test_setup_teardown(t_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
