/* The port I/O / MMIO dispatcher: registration rules and access routing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"
#include "lib/log.h"

/* What a device saw of its last access. */
struct seen {
	int reads, writes;
	uint64_t off;
	unsigned len;
	uint8_t data[8];
	uint8_t fill;		/* what reads return */
};

static void seen_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct seen *s = opaque;

	s->reads++;
	s->off = off;
	s->len = len;
	memset(data, s->fill, len);
}

static void seen_write(void *opaque, uint64_t off, const void *data,
		       unsigned len)
{
	struct seen *s = opaque;

	s->writes++;
	s->off = off;
	s->len = len;
	memcpy(s->data, data, len);
}

static const struct bus_ops seen_ops = { .read = seen_read, .write = seen_write };

static int setup(void **state)
{
	static struct bus b;

	assert_int_equal(bus_init(&b, "pio"), 0);
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	bus_destroy(*state);
	return 0;
}

static void t_register_lookup(void **state)
{
	struct bus *b = *state;
	struct seen a = { .fill = 0x11 }, c = { .fill = 0x22 };
	uint8_t v = 0;

	assert_int_equal(bus_register(b, 0x200, 0x10, &seen_ops, &c, "c"), 0);
	assert_int_equal(bus_register(b, 0x100, 8, &seen_ops, &a, "a"), 0);

	assert_true(bus_read(b, 0x104, &v, 1));
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.off, 4);
	assert_int_equal(v, 0x11);

	v = 0x5a;
	assert_true(bus_write(b, 0x20f, &v, 1));
	assert_int_equal(c.writes, 1);
	assert_int_equal(c.off, 0xf);
	assert_int_equal(c.data[0], 0x5a);
	assert_int_equal(a.writes, 0);
}

static void t_overlap_refused(void **state)
{
	struct bus *b = *state;
	struct seen a = { 0 };

	assert_int_equal(bus_register(b, 0x100, 8, &seen_ops, &a, "uart"), 0);

	assert_int_equal(bus_register(b, 0x104, 8, &seen_ops, &a, "other"),
			 -EEXIST);
	assert_non_null(strstr(log_last(), "uart [0x100-0x107]"));
	assert_non_null(strstr(log_last(), "other [0x104-0x10b]"));

	/* From below, covering it, and inside it. */
	assert_int_equal(bus_register(b, 0xf8, 9, &seen_ops, &a, "x"), -EEXIST);
	assert_int_equal(bus_register(b, 0, 0x1000, &seen_ops, &a, "x"), -EEXIST);
	assert_int_equal(bus_register(b, 0x107, 1, &seen_ops, &a, "x"), -EEXIST);
	assert_int_equal(b->nr, 1);
}

static void t_adjacent_allowed(void **state)
{
	struct bus *b = *state;
	struct seen lo = { .fill = 1 }, mid = { .fill = 2 }, hi = { .fill = 3 };
	uint8_t v;

	assert_int_equal(bus_register(b, 0x100, 8, &seen_ops, &mid, "mid"), 0);
	assert_int_equal(bus_register(b, 0xf8, 8, &seen_ops, &lo, "lo"), 0);
	assert_int_equal(bus_register(b, 0x108, 8, &seen_ops, &hi, "hi"), 0);

	bus_read(b, 0xff, &v, 1);
	assert_int_equal(v, 1);
	bus_read(b, 0x100, &v, 1);
	assert_int_equal(v, 2);
	bus_read(b, 0x107, &v, 1);
	assert_int_equal(v, 2);
	bus_read(b, 0x108, &v, 1);
	assert_int_equal(v, 3);
}

static void t_bad_ranges(void **state)
{
	struct bus *b = *state;
	struct seen a = { 0 };

	assert_int_equal(bus_register(b, 0x100, 0, &seen_ops, &a, "x"), -EINVAL);
	assert_int_equal(bus_register(b, UINT64_MAX, 2, &seen_ops, &a, "x"),
			 -EINVAL);
	/* The very last address is a range of its own. */
	assert_int_equal(bus_register(b, UINT64_MAX, 1, &seen_ops, &a, "x"), 0);
}

static void t_unregister(void **state)
{
	struct bus *b = *state;
	struct seen a = { 0 };
	uint8_t v = 0;

	assert_int_equal(bus_register(b, 0x100, 8, &seen_ops, &a, "a"), 0);
	assert_int_equal(bus_unregister(b, 0x104), -ENOENT);
	assert_int_equal(bus_unregister(b, 0x100), 0);
	assert_int_equal(bus_unregister(b, 0x100), -ENOENT);
	assert_false(bus_write(b, 0x100, &v, 1));
	assert_int_equal(a.writes, 0);
	/* The space is free again. */
	assert_int_equal(bus_register(b, 0x104, 8, &seen_ops, &a, "a"), 0);
}

static void t_unclaimed_warned_once(void **state)
{
	struct bus *b = *state;
	struct bus other;
	uint32_t v = 0;

	assert_false(bus_read(b, 0x300, &v, 4));
	assert_int_equal(v, 0xffffffff);
	assert_non_null(strstr(log_last(), "pio"));
	assert_non_null(strstr(log_last(), "0x300"));
	assert_non_null(strstr(log_last(), "4-byte read"));

	info_msg("marker");
	assert_false(bus_write(b, 0x301, &v, 1));
	assert_false(bus_read(b, 0x302, &v, 2));
	assert_string_equal(log_last(), "marker");

	/* Each bus says it once. */
	assert_int_equal(bus_init(&other, "mmio"), 0);
	assert_false(bus_write(&other, 0xd0000000, &v, 4));
	assert_non_null(strstr(log_last(), "mmio"));
	assert_non_null(strstr(log_last(), "4-byte write"));
	bus_destroy(&other);
}

static void t_straddle_unclaimed(void **state)
{
	struct bus *b = *state;
	struct seen a = { .fill = 0 }, n = { .fill = 0 };
	uint32_t v = 0;

	assert_int_equal(bus_register(b, 0x100, 8, &seen_ops, &a, "a"), 0);
	assert_int_equal(bus_register(b, 0x108, 8, &seen_ops, &n, "n"), 0);

	assert_false(bus_read(b, 0x106, &v, 4));	/* across two ranges */
	assert_int_equal(v, 0xffffffff);
	assert_false(bus_read(b, 0xfe, &v, 4));	/* into one from below */
	assert_false(bus_write(b, 0x10e, &v, 4));	/* off the end */
	assert_int_equal(a.reads + a.writes + n.reads + n.writes, 0);

	assert_true(bus_read(b, 0x104, &v, 4));	/* exactly to the end */
	assert_int_equal(a.reads, 1);
	assert_false(bus_read(b, UINT64_MAX, &v, 2));	/* wraps */
}

static void t_widths(void **state)
{
	struct bus *b = *state;
	struct seen a = { .fill = 0xab };
	static const unsigned lens[] = { 1, 2, 4, 8 };
	uint8_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];

	assert_int_equal(bus_register(b, 0x1000, 8, &seen_ops, &a, "a"), 0);
	for (unsigned i = 0; i < 4; i++) {
		memset(out, 0, sizeof(out));
		assert_true(bus_read(b, 0x1000, out, lens[i]));
		assert_int_equal(a.len, lens[i]);
		for (unsigned j = 0; j < 8; j++)
			assert_int_equal(out[j], j < lens[i] ? 0xab : 0);

		assert_true(bus_write(b, 0x1008 - lens[i], in, lens[i]));
		assert_int_equal(a.off, 8 - lens[i]);
		assert_memory_equal(a.data, in, lens[i]);
	}
}

/* A device without a read handler is write-only: it reads as all-ones. */
static void t_missing_handlers(void **state)
{
	struct bus *b = *state;
	static const struct bus_ops wo = { .write = seen_write };
	static const struct bus_ops none = { 0 };
	struct seen a = { 0 };
	uint16_t v = 0;

	assert_int_equal(bus_register(b, 0x10, 2, &wo, &a, "wo"), 0);
	assert_int_equal(bus_register(b, 0x20, 2, &none, &a, "none"), 0);
	assert_true(bus_read(b, 0x10, &v, 2));
	assert_int_equal(v, 0xffff);
	assert_true(bus_write(b, 0x20, &v, 2));
	assert_int_equal(a.writes, 0);
}

/* Many ranges registered out of order: every one is found, none else. */
static void t_many_ranges(void **state)
{
	struct bus *b = *state;
	enum { N = 200 };
	static struct seen s[N];
	unsigned order[N];
	uint8_t v;

	for (unsigned i = 0; i < N; i++)
		order[i] = i;
	srand(1);
	for (unsigned i = N - 1; i > 0; i--) {
		unsigned j = rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned i = 0; i < N; i++) {
		unsigned k = order[i];

		s[k] = (struct seen){ .fill = k };
		assert_int_equal(bus_register(b, 0x10000 + k * 0x100, 0x10,
					      &seen_ops, &s[k], "r"), 0);
	}
	assert_int_equal(b->nr, N);
	for (unsigned i = 1; i < b->nr; i++)
		assert_true(b->ranges[i - 1].base < b->ranges[i].base);
	for (unsigned k = 0; k < N; k++) {
		assert_true(bus_read(b, 0x10000 + k * 0x100 + 0xf, &v, 1));
		assert_int_equal(v, (uint8_t)k);
		assert_false(bus_read(b, 0x10000 + k * 0x100 + 0x10, &v, 1));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_register_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(t_overlap_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(t_adjacent_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unregister, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unclaimed_warned_once, setup, teardown),
		cmocka_unit_test_setup_teardown(t_straddle_unclaimed, setup, teardown),
		cmocka_unit_test_setup_teardown(t_widths, setup, teardown),
		cmocka_unit_test_setup_teardown(t_missing_handlers, setup, teardown),
		cmocka_unit_test_setup_teardown(t_many_ranges, setup, teardown),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
