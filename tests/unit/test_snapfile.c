/* The snapshot state file: round trip, and every kind of bad input refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/snapfile.h"

static const char *const names[] = { "cpu0", "vm", "serial/com0", "virtio-blk-pci/disk0" };

static void build(struct snapw *w)
{
	uint8_t regs[100];

	memset(regs, 0xab, sizeof(regs));
	snapw_init(w, "pc", 256 << 20);
	snapw_add(w, "cpu0", regs, sizeof(regs));
	snapw_add(w, "vm", "clock", 5);
	snapw_add(w, "serial/com0", NULL, 0);
	snapw_begin(w, "virtio-blk-pci/disk0");	/* in parts: the same as one add */
	snapw_put(w, regs, 3);
	snapw_put(w, regs + 3, 4);
	snapw_end(w);
	assert_int_equal(snapw_finish(w), 0);
}

static void t_round_trip(void **state)
{
	struct snapw w;
	struct snap s;
	const struct snap_sect *c;

	build(&w);
	assert_int_equal(snap_parse(&s, w.p, w.len), 0);
	assert_int_equal(s.version, SNAP_VERSION);
	assert_int_equal(s.mem_size, 256 << 20);
	assert_string_equal(s.machine, "pc");
	assert_int_equal(s.nsect, 4);
	c = snap_find(&s, "cpu0");
	assert_non_null(c);
	assert_int_equal(c->len, 100);
	assert_int_equal(c->data[99], 0xab);
	c = snap_find(&s, "vm");
	assert_memory_equal(c->data, "clock", 5);
	assert_int_equal(snap_find(&s, "serial/com0")->len, 0);
	c = snap_find(&s, "virtio-blk-pci/disk0");
	assert_int_equal(c->len, 7);
	assert_int_equal(c->data[6], 0xab);
	assert_null(snap_find(&s, "cpu1"));
	assert_int_equal(snap_match(&s, "pc", 256 << 20, names, 4), 0);
	snap_free(&s);
	snapw_free(&w);
}

static void expect_bad(const uint8_t *p, size_t len, const char *msg)
{
	struct snap s;

	assert_int_equal(snap_parse(&s, p, len), -EINVAL);
	assert_non_null(strstr(log_last(), msg));
	assert_null(s.sect);
}

static void t_truncated(void **state)
{
	struct snapw w;

	build(&w);
	expect_bad(w.p, 4, "no EMBERSNP magic");
	expect_bad(w.p, 20, "truncated (20 bytes, the header alone is 48)");
	for (size_t n = SNAP_HDR_SIZE; n < w.len; n++)
		expect_bad(w.p, n, "truncated");
	snapw_free(&w);
}

static void t_corrupt(void **state)
{
	struct snapw w;

	build(&w);
	for (size_t i = 0; i < w.len; i++) {
		struct snap s;

		w.p[i] ^= 0x40;
		assert_int_equal(snap_parse(&s, w.p, w.len), -EINVAL);
		w.p[i] ^= 0x40;
	}
	w.p[60] ^= 1;
	expect_bad(w.p, w.len, "corrupt (checksum mismatch)");
	w.p[60] ^= 1;
	w.p[8] = 2;
	expect_bad(w.p, w.len, "version 2, this ember reads version 1");
	w.p[8] = 1;
	expect_bad(w.p, w.len + 1, "corrupt (length");
	memcpy(w.p, "ELFSNAPS", 8);
	expect_bad(w.p, w.len, "not an ember state file");
	snapw_free(&w);
}

static void t_mismatch(void **state)
{
	static const char *const other[] = { "cpu0", "vm", "serial/com0", "virtio-net-pci/n0" };
	struct snapw w;
	struct snap s;

	build(&w);
	assert_int_equal(snap_parse(&s, w.p, w.len), 0);
	assert_int_equal(snap_match(&s, "microvm", 256 << 20, names, 4), -EINVAL);
	assert_string_equal(log_last(), "state file: machine type pc, this machine is microvm");
	assert_int_equal(snap_match(&s, "pc", 512 << 20, names, 4), -EINVAL);
	assert_string_equal(log_last(), "state file: -m 256M, this machine has -m 512M");
	assert_int_equal(snap_match(&s, "pc", 256 << 20, other, 4), -EINVAL);
	assert_string_equal(log_last(), "state file: has virtio-blk-pci/disk0 where this "
			    "machine has virtio-net-pci/n0 (different devices)");
	assert_int_equal(snap_match(&s, "pc", 256 << 20, names, 3), -EINVAL);
	assert_string_equal(log_last(),
			    "state file: has virtio-blk-pci/disk0, which this machine does not");
	snap_free(&s);
	s.nsect = 0;
	assert_int_equal(snap_parse(&s, w.p, w.len), 0);
	s.nsect = 2;
	assert_int_equal(snap_match(&s, "pc", 256 << 20, names, 3), -EINVAL);
	assert_string_equal(log_last(), "state file: has no serial/com0, which this machine has");
	snap_free(&s);
	snapw_free(&w);
}

/* The fuzz seed seeds.py wrote from the format's description (zlib's CRC-32). */
static void t_seed(void **state)
{
	uint8_t buf[4096];
	FILE *f = fopen(EMBER_TEST_SRCDIR "/tests/fuzz/corpus/snapshot/pc", "rb");
	size_t n;
	struct snap s;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(snap_parse(&s, buf, n), 0);
	assert_string_equal(s.machine, "pc");
	assert_int_equal(s.nsect, 3);
	assert_int_equal(snap_find(&s, "cpu0")->len, 200);
	snap_free(&s);
}

static void t_writer_limits(void **state)
{
	char longname[SNAP_NAME_MAX + 2];
	struct snapw w;

	snapw_init(&w, "a-machine-type-too-long", 0);
	assert_int_equal(snapw_finish(&w), -EINVAL);
	snapw_free(&w);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snapw_init(&w, "pc", 0);
	snapw_add(&w, longname, NULL, 0);
	assert_int_equal(snapw_finish(&w), -EINVAL);
	snapw_free(&w);
	snapw_init(&w, "pc", 0);
	snapw_begin(&w, "open");	/* never ended */
	assert_int_equal(snapw_finish(&w), -EINVAL);
	snapw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_round_trip),
		cmocka_unit_test(t_truncated),
		cmocka_unit_test(t_corrupt),
		cmocka_unit_test(t_mismatch),
		cmocka_unit_test(t_seed),
		cmocka_unit_test(t_writer_limits),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
