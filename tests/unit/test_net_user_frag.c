#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "backends/net_user_frag.h"

#define S 1000000000LL

static uint16_t sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A UDP fragment of datagram `id`: payload bytes are their offset's low byte. */
static size_t frag(uint8_t *f, uint16_t id, unsigned off, bool more, unsigned n)
{
	memset(f, 0, 34);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)((20 + n) >> 8);
	f[17] = (uint8_t)(20 + n);
	f[18] = (uint8_t)(id >> 8);
	f[19] = (uint8_t)id;
	f[20] = (uint8_t)((more ? 0x20 : 0) | (off / 8) >> 8);
	f[21] = (uint8_t)(off / 8);
	f[22] = 64;
	f[23] = 17;
	f[26] = 10, f[28] = 2, f[29] = 15, f[30] = 10, f[32] = 2, f[33] = 2;
	uint16_t c = sum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	for (unsigned i = 0; i < n; i++)
		f[34 + i] = (uint8_t)(off + i);
	return 34 + n;
}

static enum frag_result in(struct frag_table *t, const uint8_t *f, size_t n, int64_t now,
			   const uint8_t **out, size_t *len)
{
	return frag_input(t, f, n, now, out, len);
}

static void test_pass(void **state)
{
	struct frag_table t = { 0 };
	uint8_t f[64];
	const uint8_t *o;
	size_t n, len = frag(f, 1, 0, false, 16);

	assert_int_equal(in(&t, f, len, 0, &o, &n), FRAG_PASS);	/* not a fragment */
	f[20] = 0x40;						/* DF alone */
	assert_int_equal(in(&t, f, len, 0, &o, &n), FRAG_PASS);
	f[12] = 0x86, f[13] = 0xdd;				/* IPv6 */
	assert_int_equal(in(&t, f, len, 0, &o, &n), FRAG_PASS);
	assert_int_equal(in(&t, f, 20, 0, &o, &n), FRAG_PASS);	/* short: slirp drops it */
	frag_free(&t);
}

static void test_any_order(void **state)
{
	static const unsigned order[][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 0 } };
	static uint8_t f[3][2000];
	size_t len[3];

	for (unsigned k = 0; k < 3; k++) {
		struct frag_table t = { 0 };
		const uint8_t *o = NULL;
		size_t n = 0;

		len[0] = frag(f[0], 7, 0, true, 1480);
		len[1] = frag(f[1], 7, 1480, true, 1480);
		len[2] = frag(f[2], 7, 2960, false, 100);
		for (unsigned i = 0; i < 3; i++) {
			unsigned j = order[k][i];

			assert_int_equal(in(&t, f[j], len[j], 0, &o, &n),
					 i < 2 ? FRAG_HELD : FRAG_WHOLE);
		}
		assert_int_equal(n, 14 + 20 + 3060);
		assert_int_equal(o[16] << 8 | o[17], 20 + 3060);
		assert_int_equal(o[20] | o[21], 0);		/* no MF, offset 0 */
		assert_int_equal(sum(o + 14, 20), 0);		/* header checksum right */
		for (unsigned i = 0; i < 3060; i++)
			assert_int_equal(o[34 + i], (uint8_t)i);
		assert_int_equal(t.dropped, 0);
		frag_free(&t);
	}
}

static void test_bad(void **state)
{
	struct frag_table t = { 0 };
	uint8_t f[2000];
	const uint8_t *o;
	size_t n, len;

	len = frag(f, 1, 0, true, 100);			/* MF with a length not a multiple of 8 */
	assert_int_equal(in(&t, f, len, 0, &o, &n), FRAG_DROP);
	len = frag(f, 1, 0, true, 104);
	f[24] ^= 1;					/* bad header checksum */
	assert_int_equal(in(&t, f, len, 0, &o, &n), FRAG_DROP);
	len = frag(f, 1, 0, true, 104);
	assert_int_equal(in(&t, f, len - 1, 0, &o, &n), FRAG_DROP);	/* cut short */
	len = frag(f, 1, 65528, false, 8);		/* past 64 KiB */
	assert_int_equal(in(&t, f, len, 0, &o, &n), FRAG_DROP);
	/* Two different ends of one datagram. */
	len = frag(f, 2, 64, false, 16);
	assert_int_equal(in(&t, f, len, 0, &o, &n), FRAG_HELD);
	len = frag(f, 2, 64, false, 8);
	assert_int_equal(in(&t, f, len, 0, &o, &n), FRAG_DROP);
	/* A fragment past the end another one set. */
	len = frag(f, 3, 64, false, 16);
	assert_int_equal(in(&t, f, len, 0, &o, &n), FRAG_HELD);
	len = frag(f, 3, 128, true, 16);
	assert_int_equal(in(&t, f, len, 0, &o, &n), FRAG_DROP);
	assert_int_equal(t.dropped, 6);
	frag_free(&t);
}

static void test_bounds(void **state)
{
	struct frag_table t = { 0 };
	uint8_t f[200];
	const uint8_t *o;
	size_t n, len;

	/* FRAG_SLOTS + 1 datagrams: the oldest gives way. */
	for (unsigned id = 0; id <= FRAG_SLOTS; id++) {
		len = frag(f, (uint16_t)id, 0, true, 16);
		assert_int_equal(in(&t, f, len, id, &o, &n), FRAG_HELD);
	}
	assert_int_equal(t.dropped, 1);
	len = frag(f, 1, 16, false, 8);			/* datagram 1 is still there */
	assert_int_equal(in(&t, f, len, 10, &o, &n), FRAG_WHOLE);
	len = frag(f, 0, 16, false, 8);			/* datagram 0 was evicted */
	assert_int_equal(in(&t, f, len, 10, &o, &n), FRAG_HELD);
	/* Past the timeout, a datagram's first half is forgotten. */
	len = frag(f, 9, 0, true, 16);
	assert_int_equal(in(&t, f, len, 100, &o, &n), FRAG_HELD);
	len = frag(f, 9, 16, false, 8);
	assert_int_equal(in(&t, f, len, 100 + FRAG_TIMEOUT_NS + S, &o, &n), FRAG_HELD);
	frag_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_any_order),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
