/* Guest memory table: the bounds checks every guest access relies on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"

static uint8_t a[4096], b[4096], c[4096];

static void t_add_sorted(void **state)
{
	struct gmem m = { 0 };

	assert_int_equal(gmem_end(&m), 0);
	assert_int_equal(gmem_add(&m, 0x10000, sizeof(b), b, -1, 0), 0);
	assert_int_equal(gmem_add(&m, 0, sizeof(a), a, 3, 0x100), 0);
	assert_int_equal(gmem_add(&m, 5 * GiB, sizeof(c), c, -1, 0), 0);
	assert_int_equal(m.nr, 3);
	assert_true(m.r[0].gpa == 0 && m.r[0].hva == a && m.r[0].fd == 3 &&
		    m.r[0].fd_offset == 0x100);
	assert_true(m.r[1].gpa == 0x10000 && m.r[2].gpa == 5 * GiB);
	assert_true(gmem_end(&m) == 5 * GiB + sizeof(c));
}

static void t_add_overlap(void **state)
{
	struct gmem m = { 0 };

	assert_int_equal(gmem_add(&m, 0x2000, 0x1000, a, -1, 0), 0);
	assert_int_equal(gmem_add(&m, 0x2000, 0x1000, b, -1, 0), -EINVAL);
	assert_non_null(strstr(log_last(), "overlaps the one at 0x2000"));
	assert_int_equal(gmem_add(&m, 0x1800, 0x1000, b, -1, 0), -EINVAL);
	assert_int_equal(gmem_add(&m, 0x2fff, 0x1000, b, -1, 0), -EINVAL);
	assert_int_equal(gmem_add(&m, 0x2100, 0x10, b, -1, 0), -EINVAL);
	assert_int_equal(gmem_add(&m, 0x1000, 0x3000, b, -1, 0), -EINVAL);
	/* Touching is not overlapping. */
	assert_int_equal(gmem_add(&m, 0x1000, 0x1000, b, -1, 0), 0);
	assert_int_equal(gmem_add(&m, 0x3000, 0x1000, c, -1, 0), 0);
	assert_int_equal(m.nr, 3);
}

static void t_add_invalid(void **state)
{
	struct gmem m = { 0 };

	assert_int_equal(gmem_add(&m, UINT64_MAX - 10, 100, a, -1, 0), -EINVAL);
	assert_non_null(strstr(log_last(), "wraps"));
	assert_int_equal(gmem_add(&m, 0, UINT64_MAX, a, -1, 0), 0);
	m.nr = 0;
	/* The end must be representable: no region may hold the last byte. */
	assert_int_equal(gmem_add(&m, UINT64_MAX - 4095, 4096, a, -1, 0), -EINVAL);
	assert_int_equal(gmem_add(&m, 0x1000, 0, a, -1, 0), -EINVAL);
	assert_int_equal(gmem_add(&m, 0x1000, 0x1000, NULL, -1, 0), -EINVAL);
	assert_int_equal(m.nr, 0);
}

static void t_add_full(void **state)
{
	struct gmem m = { 0 };

	for (unsigned i = 0; i < GMEM_MAX_REGIONS; i++)
		assert_int_equal(gmem_add(&m, i * 0x1000ULL, 0x1000, a, -1, 0), 0);
	assert_int_equal(gmem_add(&m, 1 * GiB, 0x1000, a, -1, 0), -ENOSPC);
	assert_non_null(strstr(log_last(), "full"));
	assert_int_equal(m.nr, GMEM_MAX_REGIONS);
}

static void t_ptr_edges(void **state)
{
	struct gmem m = { 0 };
	uint64_t top = UINT64_MAX - 8191;	/* region [top, top + 4096) */

	assert_int_equal(gmem_add(&m, 0x1000, sizeof(a), a, -1, 0), 0);
	assert_int_equal(gmem_add(&m, top, sizeof(b), b, -1, 0), 0);
	assert_ptr_equal(gmem_ptr(&m, 0x1000, sizeof(a)), a);
	assert_ptr_equal(gmem_ptr(&m, 0x1fff, 1), a + 4095);
	assert_null(gmem_ptr(&m, 0x1fff, 2));
	assert_null(gmem_ptr(&m, 0x2000, 1));
	assert_null(gmem_ptr(&m, 0xfff, 1));
	assert_null(gmem_ptr(&m, 0xfff, 2));
	assert_ptr_equal(gmem_ptr(&m, 0x1800, 0), a + 0x800);
	assert_null(gmem_ptr(&m, 0x2000, 0));	/* one past is outside */
	assert_null(gmem_ptr(&m, 0x1001, UINT64_MAX));
	assert_null(gmem_ptr(&m, 0x1800, UINT64_MAX - 0x100));
	assert_ptr_equal(gmem_ptr(&m, top + 4095, 1), b + 4095);
	assert_null(gmem_ptr(&m, top + 4095, 2));
	assert_null(gmem_ptr(&m, top + 4096, 1));
	assert_null(gmem_ptr(&m, UINT64_MAX, 1));
	assert_null(gmem_ptr(&m, UINT64_MAX, 0));
}

static void t_read_write_span(void **state)
{
	struct gmem m = { 0 };
	uint8_t buf[100], out[100];

	/* Adjacent in the guest, unrelated on the host. */
	assert_int_equal(gmem_add(&m, 0x10000, sizeof(a), a, -1, 0), 0);
	assert_int_equal(gmem_add(&m, 0x11000, sizeof(c), c, -1, 0), 0);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = i + 1;
	assert_int_equal(gmem_write(&m, 0x11000 - 40, buf, sizeof(buf)), 0);
	assert_memory_equal(a + 4096 - 40, buf, 40);
	assert_memory_equal(c, buf + 40, 60);
	memset(out, 0, sizeof(out));
	assert_int_equal(gmem_read(&m, 0x11000 - 40, out, sizeof(out)), 0);
	assert_memory_equal(out, buf, sizeof(buf));
	assert_int_equal(gmem_read(&m, 0x12000, out, 0), 0);
}

static void t_holes_fault(void **state)
{
	struct gmem m = { 0 };
	uint8_t buf[64];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(gmem_add(&m, 0x10000, sizeof(a), a, -1, 0), 0);
	assert_int_equal(gmem_add(&m, 0x12000, sizeof(b), b, -1, 0), 0);
	memset(buf, 0x5a, sizeof(buf));
	/* Runs into the hole at 0x11000: nothing may be written. */
	assert_int_equal(gmem_write(&m, 0x11000 - 32, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(a[4095], 0);
	assert_int_equal(gmem_read(&m, 0x11000 - 32, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(gmem_read(&m, 0x12000 - 1, buf, 2), -EFAULT);
	assert_int_equal(gmem_read(&m, 0x13000 - 1, buf, 2), -EFAULT);
	assert_int_equal(gmem_write(&m, 0, buf, 1), -EFAULT);
	assert_int_equal(gmem_read(&m, UINT64_MAX, buf, 2), -EFAULT);
	assert_int_equal(gmem_read(&m, 0x13000 - 1, buf, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_add_sorted),
		cmocka_unit_test(t_add_overlap),
		cmocka_unit_test(t_add_invalid),
		cmocka_unit_test(t_add_full),
		cmocka_unit_test(t_ptr_edges),
		cmocka_unit_test(t_read_write_span),
		cmocka_unit_test(t_holes_fault),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
