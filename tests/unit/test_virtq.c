/*
 * Virtqueues against rings built by hand in synthetic guest memory, the way
 * a driver builds them: split and packed, direct and indirect chains, index
 * and wrap-counter wrap-around, event suppression, and every malformed
 * chain the device must refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/virtio_ring.h>

#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"
#include "virtio/virtq.h"

/* Guest RAM A, and C right after it (a buffer may not span the two). */
#define RAM_GPA		0x10000ull
#define RAM_SIZE	0x40000ull
#define RAM2_GPA	(RAM_GPA + RAM_SIZE)
#define BIG_GPA		(4 * GiB)	/* 2 GiB reserved, never touched */
#define BIG_SIZE	(2 * GiB)

#define DESC_GPA	0x10000ull	/* up to 512 descriptors */
#define AVAIL_GPA	0x12000ull
#define USED_GPA	0x13000ull
#define TABLE_GPA	0x16000ull	/* indirect tables */
#define BUF_GPA		0x20000ull

#define W	VRING_DESC_F_WRITE
#define NEXT	VRING_DESC_F_NEXT
#define IND	VRING_DESC_F_INDIRECT
#define P_AVAIL	(1 << VRING_PACKED_DESC_F_AVAIL)
#define P_USED	(1 << VRING_PACKED_DESC_F_USED)

static uint8_t *ram;
static uint8_t ram2[4096];
static void *big;
static struct gmem mem;
static struct virtq vq;
static struct virtq_elem e;

/* The driver's side of the ring. */
static struct {
	uint16_t avail_idx;	/* split */
	uint16_t pos;		/* packed: next slot */
	bool wrap;
} drv;

struct buf {
	uint64_t gpa;
	uint32_t len;
	uint16_t flags;
};

static void *gp(uint64_t gpa) { return ram + (gpa - RAM_GPA); }
static void w16(uint64_t gpa, uint16_t v) { memcpy(gp(gpa), &v, 2); }
static uint16_t r16(uint64_t gpa) { uint16_t v; memcpy(&v, gp(gpa), 2); return v; }
static uint32_t r32(uint64_t gpa) { uint32_t v; memcpy(&v, gp(gpa), 4); return v; }

static int setup(void **state)
{
	ram = aligned_alloc(4096, RAM_SIZE);
	big = mmap(NULL, BIG_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!ram || big == MAP_FAILED)
		return -1;
	memset(&mem, 0, sizeof(mem));
	if (gmem_add(&mem, RAM_GPA, RAM_SIZE, ram, -1, 0) ||
	    gmem_add(&mem, RAM2_GPA, sizeof(ram2), ram2, -1, 0) ||
	    gmem_add(&mem, BIG_GPA, BIG_SIZE, big, -1, 0))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	free(ram);
	munmap(big, BIG_SIZE);
	return 0;
}

static void queue(uint16_t size, bool packed, bool event_idx, bool indirect)
{
	memset(ram, 0, RAM_SIZE);
	memset(&drv, 0, sizeof(drv));
	drv.wrap = true;
	vq.kick_fd = vq.call_fd = -1;
	virtq_reset(&vq);
	vq.size = size;
	vq.enabled = true;
	vq.desc_gpa = DESC_GPA;
	vq.driver_gpa = AVAIL_GPA;
	vq.device_gpa = USED_GPA;
	assert_int_equal(virtq_start(&vq, &mem, packed, event_idx, indirect), 0);
}

/* --- split driver --- */

static void sdesc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		  uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(gp(table + 16 * i), &d, sizeof(d));
}

static void publish(uint16_t head)
{
	w16(AVAIL_GPA + 4 + 2 * (drv.avail_idx % vq.size), head);
	w16(AVAIL_GPA + 2, ++drv.avail_idx);
}

/* Descriptors first..first+n-1 of @table, chained in order. */
static void schain(uint64_t table, unsigned first, const struct buf *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		sdesc(table, first + i, b[i].gpa, b[i].len,
		      b[i].flags | (i + 1 < n ? NEXT : 0), first + i + 1);
}

/* --- packed driver --- */

static void pdesc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t id,
		  uint16_t flags)
{
	struct vring_packed_desc d = { .addr = addr, .len = len, .id = id, .flags = flags };

	memcpy(gp(table + 16 * i), &d, sizeof(d));
}

/* Makes a chain available; the head's flags are written last, as Linux does. */
static void padd(const struct buf *b, unsigned n, uint16_t id)
{
	unsigned head = drv.pos;
	uint16_t head_flags = 0;

	for (unsigned i = 0; i < n; i++) {
		uint16_t f = b[i].flags | (i + 1 < n ? NEXT : 0) | (drv.wrap ? P_AVAIL : P_USED);

		if (i == 0) {
			head_flags = f;
			f = r16(DESC_GPA + 16 * head + 14);
		}
		pdesc(DESC_GPA, drv.pos, b[i].gpa, b[i].len, id, f);
		if (++drv.pos == vq.size) {
			drv.pos = 0;
			drv.wrap = !drv.wrap;
		}
	}
	w16(DESC_GPA + 16 * head + 14, head_flags);
}

/* Pops one chain and checks its shape. */
static void expect_pop(uint16_t id, unsigned out_num, unsigned in_num, uint32_t out_len,
		       uint32_t in_len)
{
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.id, id);
	assert_int_equal(e.out_num, out_num);
	assert_int_equal(e.in_num, in_num);
	assert_int_equal(e.out_len, out_len);
	assert_int_equal(e.in_len, in_len);
}

static void expect_broken(const char *why)
{
	assert_int_equal(virtq_pop(&vq, &e), -EIO);
	assert_true(vq.broken);
	if (why)
		assert_non_null(strstr(log_last(), why));
	/* Stays broken: nothing is served, nothing is returned. */
	assert_int_equal(virtq_pop(&vq, &e), -EIO);
	assert_false(virtq_should_notify(&vq));
}

/* --- split --- */

static void t_split_direct(void **state)
{
	const struct buf b[] = {
		{ BUF_GPA, 16, 0 }, { BUF_GPA + 0x100, 32, 0 }, { BUF_GPA + 0x200, 512, W },
	};

	queue(8, false, false, false);
	assert_int_equal(virtq_pop(&vq, &e), 0);
	schain(DESC_GPA, 3, b, 3);
	publish(3);
	expect_pop(3, 2, 1, 48, 512);
	assert_ptr_equal(e.iov[0].iov_base, gp(BUF_GPA));
	assert_int_equal(e.iov[1].iov_len, 32);
	assert_ptr_equal(e.iov[2].iov_base, gp(BUF_GPA + 0x200));
	assert_int_equal(virtq_pop(&vq, &e), 0);

	virtq_push(&vq, &e, 100);
	assert_int_equal(r16(USED_GPA + 2), 1);
	assert_int_equal(r32(USED_GPA + 4), 3);
	assert_int_equal(r32(USED_GPA + 8), 100);
	/* A device never claims more than the chain could take. */
	publish(3);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	virtq_push(&vq, &e, 100000);
	assert_int_equal(r32(USED_GPA + 16), 512);
}

/* Zero-length descriptors are skipped, not turned into iovecs. */
static void t_split_zero_len(void **state)
{
	const struct buf b[] = { { BUF_GPA, 8, 0 }, { 0, 0, 0 }, { BUF_GPA, 8, W } };

	queue(8, false, false, false);
	schain(DESC_GPA, 0, b, 3);
	publish(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.out_num + e.in_num, 2);
}

static void t_split_indirect(void **state)
{
	const struct buf b[] = { { BUF_GPA, 16, 0 }, { BUF_GPA + 64, 8, W }, { BUF_GPA + 128, 8, W } };

	queue(8, false, false, true);
	schain(TABLE_GPA, 0, b, 3);
	sdesc(DESC_GPA, 5, TABLE_GPA, 3 * 16, IND, 0);
	publish(5);
	expect_pop(5, 1, 2, 16, 16);

	/* Direct descriptors may lead into an indirect table. */
	sdesc(DESC_GPA, 1, BUF_GPA + 256, 4, NEXT, 2);
	sdesc(DESC_GPA, 2, TABLE_GPA, 3 * 16, IND, 0);
	publish(1);
	expect_pop(1, 2, 2, 20, 16);
}

/* Free-running indexes cross 65535 -> 0 on both sides. */
static void t_split_wrap(void **state)
{
	const struct buf b = { BUF_GPA, 64, W };

	queue(4, false, false, false);
	vq.last_avail = vq.used_idx = 65534;
	drv.avail_idx = 65534;
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 4; i++) {
			sdesc(DESC_GPA, i, b.gpa, b.len, b.flags, 0);
			publish(i);
		}
		for (unsigned i = 0; i < 4; i++) {
			assert_int_equal(virtq_pop(&vq, &e), 1);
			assert_int_equal(e.id, i);
			virtq_push(&vq, &e, i + 1);
		}
		assert_int_equal(virtq_pop(&vq, &e), 0);
		assert_int_equal(r16(USED_GPA + 2), (uint16_t)(65534 + 4 * (round + 1)));
	}
	/* The last push of the last round (used idx 9) went to slot 9 % 4 = 1. */
	assert_int_equal(r32(USED_GPA + 4 + 8 * 1), 3);
	assert_int_equal(r32(USED_GPA + 4 + 8 * 1 + 4), 4);
}

static void push_one(void)
{
	sdesc(DESC_GPA, 0, BUF_GPA, 8, W, 0);
	publish(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	virtq_push(&vq, &e, 8);
}

static void t_split_event_idx(void **state)
{
	uint64_t used_event = AVAIL_GPA + 4 + 2 * 8;

	queue(8, false, true, false);
	push_one();				/* used idx 1 */
	assert_true(virtq_should_notify(&vq));	/* first one always */
	w16(used_event, 1);
	push_one();				/* 2: entry 1 used */
	assert_true(virtq_should_notify(&vq));
	w16(used_event, 5);
	push_one();				/* 3 */
	assert_false(virtq_should_notify(&vq));
	push_one();				/* 4 */
	assert_false(virtq_should_notify(&vq));
	push_one();				/* 5 */
	assert_false(virtq_should_notify(&vq));
	push_one();				/* 6: entry 5 used */
	assert_true(virtq_should_notify(&vq));
	/* A batch that passes the event at once. */
	w16(used_event, 6);
	push_one();
	push_one();				/* 8 */
	assert_true(virtq_should_notify(&vq));
	/* The event behind us: the driver is not asking. */
	w16(used_event, 3);
	push_one();
	assert_false(virtq_should_notify(&vq));

	/* Across 65535 -> 0. */
	vq.used_idx = vq.signalled_used = 65535;
	w16(used_event, 65535);
	push_one();
	assert_int_equal(vq.used_idx, 0);
	assert_true(virtq_should_notify(&vq));
}

static void t_split_no_interrupt(void **state)
{
	queue(8, false, false, false);
	push_one();
	assert_true(virtq_should_notify(&vq));
	w16(AVAIL_GPA, VRING_AVAIL_F_NO_INTERRUPT);
	push_one();
	assert_false(virtq_should_notify(&vq));
	w16(AVAIL_GPA, 0);
	assert_true(virtq_should_notify(&vq));
}

static void t_split_set_notification(void **state)
{
	queue(8, false, false, false);
	virtq_set_notification(&vq, false);
	assert_int_equal(r16(USED_GPA), VRING_USED_F_NO_NOTIFY);
	virtq_set_notification(&vq, true);
	assert_int_equal(r16(USED_GPA), 0);

	/* EVENT_IDX: avail_event asks for a kick after what is there now. */
	queue(8, false, true, false);
	w16(AVAIL_GPA + 2, 3);
	virtq_set_notification(&vq, true);
	assert_int_equal(r16(USED_GPA + 4 + 8 * 8), 3);
	assert_int_equal(r16(USED_GPA), 0);

	/* Off while a batch is worked through; an empty pop asks again. */
	queue(8, false, true, false);
	push_one();
	push_one();
	virtq_set_notification(&vq, false);
	assert_int_equal(r16(USED_GPA + 4 + 8 * 8), 0);
	assert_int_equal(virtq_pop(&vq, &e), 0);
	assert_int_equal(r16(USED_GPA + 4 + 8 * 8), 2);
}

/* --- malformed split chains: each one breaks the queue --- */

/* A descriptor the driver writes: in the ring, or in the indirect table. */
struct sd {
	bool table;
	uint16_t i;
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

#define END	(RAM2_GPA + sizeof(ram2))	/* past the last byte of RAM */
#define RING	false
#define TABLE	true

static const struct split_bad {
	const char *why;	/* in the message */
	bool indirect;		/* negotiated */
	uint16_t head;
	unsigned n;
	struct sd d[3];
} split_bad[] = {
	{ "outside guest RAM", false, 0, 1, { { RING, 0, END, 16, 0, 0 } } },
	{ "outside guest RAM", false, 0, 1, { { RING, 0, END - 16, 17, 0, 0 } } },
	/* address + len wraps the 64-bit space */
	{ "outside guest RAM", false, 0, 1, { { RING, 0, UINT64_MAX - 0xf, 0x100, 0, 0 } } },
	/* regions that touch are still separate mappings */
	{ "outside guest RAM", false, 0, 1, { { RING, 0, RAM2_GPA - 8, 16, 0, 0 } } },
	{ "loops", false, 0, 2, {
		{ RING, 0, BUF_GPA, 8, NEXT, 1 }, { RING, 1, BUF_GPA, 8, NEXT, 0 } } },
	{ "readable descriptor after a writable", false, 0, 3, {
		{ RING, 0, BUF_GPA, 8, NEXT, 1 }, { RING, 1, BUF_GPA, 8, NEXT | W, 2 },
		{ RING, 2, BUF_GPA, 8, 0, 0 } } },
	{ "out of range", false, 8, 0 },		/* head */
	{ "out of range", false, 0, 1, { { RING, 0, BUF_GPA, 8, NEXT, 200 } } },
	{ "without VIRTIO_F_INDIRECT_DESC", false, 0, 1, { { RING, 0, TABLE_GPA, 32, IND, 0 } } },
	{ "inside an indirect table", true, 0, 3, {
		{ RING, 0, TABLE_GPA, 32, IND, 0 }, { TABLE, 0, BUF_GPA, 8, NEXT, 1 },
		{ TABLE, 1, TABLE_GPA + 0x100, 16, IND, 0 } } },
	{ "with NEXT", true, 0, 2, {
		{ RING, 0, TABLE_GPA, 32, IND | NEXT, 1 }, { RING, 1, BUF_GPA, 8, 0, 0 } } },
	{ "not a multiple of 16", true, 0, 1, { { RING, 0, TABLE_GPA, 24, IND, 0 } } },
	{ "not a multiple of 16", true, 0, 1, { { RING, 0, TABLE_GPA, 0, IND, 0 } } },
	{ "indirect table", true, 0, 1, { { RING, 0, 0x1000, 32, IND, 0 } } },
	{ "indirect table", true, 0, 1, { { RING, 0, RAM2_GPA - 16, 32, IND, 0 } } },
	{ "loops", true, 0, 3, {
		{ RING, 0, TABLE_GPA, 32, IND, 0 }, { TABLE, 0, BUF_GPA, 8, NEXT, 1 },
		{ TABLE, 1, BUF_GPA, 8, NEXT, 0 } } },
	{ "out of range", true, 0, 2, {
		{ RING, 0, TABLE_GPA, 32, IND, 0 }, { TABLE, 0, BUF_GPA, 8, NEXT, 2 } } },
};

static void t_split_malformed(void **state)
{
	for (unsigned c = 0; c < ARRAY_SIZE(split_bad); c++) {
		const struct split_bad *b = &split_bad[c];

		queue(8, false, false, b->indirect);
		for (unsigned i = 0; i < b->n; i++) {
			const struct sd *d = &b->d[i];

			sdesc(d->table ? TABLE_GPA : DESC_GPA, d->i, d->addr, d->len, d->flags,
			      d->next);
		}
		publish(b->head);
		if (virtq_pop(&vq, &e) != -EIO || !vq.broken || !strstr(log_last(), b->why))
			fail_msg("case %u (%s): not refused: %s", c, b->why, log_last());
		/* Stays broken: nothing is served, nothing is signalled. */
		assert_int_equal(virtq_pop(&vq, &e), -EIO);
		assert_false(virtq_should_notify(&vq));
	}
}

/* The limits themselves are fine: the last bytes of RAM, every descriptor once. */
static void t_split_limits(void **state)
{
	queue(4, false, false, false);
	sdesc(DESC_GPA, 0, END - 16, 16, 0, 0);
	publish(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	for (unsigned i = 0; i < 4; i++)
		sdesc(DESC_GPA, i, BUF_GPA, 8, i < 3 ? NEXT : 0, i + 1);
	publish(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.out_num, 4);
	sdesc(DESC_GPA, 3, BUF_GPA, 8, NEXT, 1);	/* one more: a loop */
	publish(0);
	expect_broken("loops");
}

static void t_split_avail_jump(void **state)
{
	queue(8, false, false, false);
	w16(AVAIL_GPA + 2, 9);
	expect_broken("impossible avail index jump");

	/* A full ring is not a jump. */
	queue(8, false, false, false);
	w16(AVAIL_GPA + 2, 8);
	assert_int_equal(virtq_pop(&vq, &e), 1);
}

static void t_split_max_iov(void **state)
{
	/* VIRTQ_MAX_IOV descriptors in an indirect table: the limit, accepted. */
	queue(8, false, false, true);
	for (unsigned i = 0; i < VIRTQ_MAX_IOV + 1; i++)
		sdesc(TABLE_GPA, i, BUF_GPA, 1, NEXT, i + 1);
	sdesc(TABLE_GPA, VIRTQ_MAX_IOV - 1, BUF_GPA, 1, 0, 0);
	sdesc(DESC_GPA, 0, TABLE_GPA, VIRTQ_MAX_IOV * 16, IND, 0);
	publish(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.out_num, VIRTQ_MAX_IOV);

	/* One more. */
	sdesc(TABLE_GPA, VIRTQ_MAX_IOV - 1, BUF_GPA, 1, NEXT, VIRTQ_MAX_IOV);
	sdesc(TABLE_GPA, VIRTQ_MAX_IOV, BUF_GPA, 1, 0, 0);
	sdesc(DESC_GPA, 0, TABLE_GPA, (VIRTQ_MAX_IOV + 1) * 16, IND, 0);
	publish(0);
	expect_broken("longer than 256");

	/* And in the ring itself. */
	queue(512, false, false, false);
	for (unsigned i = 0; i <= VIRTQ_MAX_IOV; i++)
		sdesc(DESC_GPA, i, BUF_GPA, 1, i < VIRTQ_MAX_IOV ? NEXT : 0, i + 1);
	publish(0);
	expect_broken("longer than 256");
}

/* Lengths that each fit but add up past 4 GiB (addresses never touched). */
static void t_split_len_overflow(void **state)
{
	queue(8, false, false, false);
	sdesc(DESC_GPA, 0, BIG_GPA, 0x80000000u, NEXT, 1);
	sdesc(DESC_GPA, 1, BIG_GPA, 0x7fffffffu, NEXT, 2);
	sdesc(DESC_GPA, 2, BIG_GPA, 1, 0, 0);
	publish(0);
	expect_broken("longer than 4 GiB");
}

/* --- packed --- */

static void t_packed_direct(void **state)
{
	const struct buf b[] = { { BUF_GPA, 16, 0 }, { BUF_GPA + 0x100, 256, W } };

	queue(8, true, false, false);
	assert_int_equal(virtq_pop(&vq, &e), 0);
	padd(b, 2, 0x1234);
	expect_pop(0x1234, 1, 1, 16, 256);
	assert_int_equal(e.ndescs, 2);
	assert_ptr_equal(e.iov[1].iov_base, gp(BUF_GPA + 0x100));
	assert_int_equal(virtq_pop(&vq, &e), 0);

	virtq_push(&vq, &e, 200);
	assert_int_equal(r32(DESC_GPA + 8), 200);
	assert_int_equal(r16(DESC_GPA + 12), 0x1234);
	assert_int_equal(r16(DESC_GPA + 14), P_AVAIL | P_USED | W);
	assert_int_equal(vq.used_idx, 2);
}

/* A head whose flags are not yet published is not taken. */
static void t_packed_not_ready(void **state)
{
	queue(8, true, false, false);
	pdesc(DESC_GPA, 0, BUF_GPA, 8, 1, P_AVAIL | P_USED);	/* a used one */
	assert_int_equal(virtq_pop(&vq, &e), 0);
	pdesc(DESC_GPA, 0, BUF_GPA, 8, 1, P_USED);		/* next lap's */
	assert_int_equal(virtq_pop(&vq, &e), 0);
	pdesc(DESC_GPA, 0, BUF_GPA, 8, 1, P_AVAIL);
	assert_int_equal(virtq_pop(&vq, &e), 1);
}

static void t_packed_indirect(void **state)
{
	const struct buf ind = { TABLE_GPA, 3 * 16, IND };

	queue(8, true, false, true);
	/* NEXT in the table means nothing: its entries are taken in order. */
	pdesc(TABLE_GPA, 0, BUF_GPA, 16, 0, NEXT);
	pdesc(TABLE_GPA, 1, BUF_GPA + 64, 8, 0, W);
	pdesc(TABLE_GPA, 2, BUF_GPA + 128, 8, 0, W);
	padd(&ind, 1, 7);
	expect_pop(7, 1, 2, 16, 16);
	assert_int_equal(e.ndescs, 1);
	virtq_push(&vq, &e, 16);
	assert_int_equal(vq.used_idx, 1);
}

/* Chains that wrap the ring; the used wrap counter flips on the way. */
static void t_packed_wrap(void **state)
{
	const struct buf one = { BUF_GPA, 8, W };
	const struct buf two[] = { { BUF_GPA, 8, 0 }, { BUF_GPA, 8, W } };
	struct virtq_elem e2;

	queue(4, true, false, false);
	padd(&one, 1, 10);
	padd(&one, 1, 11);
	padd(&one, 1, 12);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(virtq_pop(&vq, &e), 1);
		virtq_push(&vq, &e, 1);
	}
	padd(two, 2, 13);			/* slots 3 and 0 */
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.id, 13);
	assert_int_equal(e.ndescs, 2);
	assert_int_equal(vq.last_avail, 1);
	assert_false(vq.avail_wrap);
	assert_int_equal(virtq_pop(&vq, &e), 0);
	virtq_push(&vq, &e, 8);			/* used descriptor in slot 3 */
	assert_int_equal(r16(DESC_GPA + 16 * 3 + 14), P_AVAIL | P_USED | W);
	assert_int_equal(vq.used_idx, 1);
	assert_false(vq.used_wrap);

	/* Second lap: the driver's flags and ours are inverted. */
	padd(&one, 1, 14);
	padd(&one, 1, 15);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(virtq_pop(&vq, &e2), 1);
	assert_int_equal(e2.id, 15);
	virtq_push(&vq, &e2, 8);		/* out of order is fine */
	assert_int_equal(r16(DESC_GPA + 16 * 1 + 14), W);
	assert_int_equal(r16(DESC_GPA + 16 * 1 + 12), 15);
	virtq_push(&vq, &e, 8);
	assert_int_equal(r16(DESC_GPA + 16 * 2 + 12), 14);
	assert_int_equal(vq.used_idx, 3);
}

static void packed_push_one(void)
{
	const struct buf one = { BUF_GPA, 8, W };

	padd(&one, 1, 0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	virtq_push(&vq, &e, 8);
}

static void driver_event(uint16_t off_wrap, uint16_t flags)
{
	w16(AVAIL_GPA, off_wrap);
	w16(AVAIL_GPA + 2, flags);
}

static void t_packed_event(void **state)
{
	queue(4, true, true, false);
	packed_push_one();				/* used 1 */
	driver_event(0, VRING_PACKED_EVENT_FLAG_DISABLE);
	assert_false(virtq_should_notify(&vq));
	driver_event(0, VRING_PACKED_EVENT_FLAG_ENABLE);
	assert_true(virtq_should_notify(&vq));

	driver_event(2 | 0x8000, VRING_PACKED_EVENT_FLAG_DESC);	/* slot 2, lap 1 */
	packed_push_one();				/* slot 1 written */
	assert_false(virtq_should_notify(&vq));
	packed_push_one();				/* slot 2 written */
	assert_true(virtq_should_notify(&vq));

	/* Slot 0 of the next lap: not yet when we wrap, then yes. */
	driver_event(0, VRING_PACKED_EVENT_FLAG_DESC);
	packed_push_one();				/* slot 3; used 0, lap 0 */
	assert_false(vq.used_wrap);
	assert_false(virtq_should_notify(&vq));
	packed_push_one();				/* slot 0 of lap 0 */
	assert_true(virtq_should_notify(&vq));

	/* An event for the slot we just wrapped past. */
	packed_push_one();
	packed_push_one();				/* slots 1, 2; used 3 */
	driver_event(0, VRING_PACKED_EVENT_FLAG_DISABLE);
	assert_false(virtq_should_notify(&vq));
	driver_event(3, VRING_PACKED_EVENT_FLAG_DESC);	/* slot 3, lap 0 */
	packed_push_one();				/* slot 3 written; used 0, lap 1 */
	assert_true(vq.used_wrap);
	assert_true(virtq_should_notify(&vq));

	/* Without EVENT_IDX, DESC is not ours to honour: always notify. */
	queue(4, true, false, false);
	driver_event(3, VRING_PACKED_EVENT_FLAG_DESC);
	packed_push_one();
	assert_true(virtq_should_notify(&vq));
	packed_push_one();
	assert_true(virtq_should_notify(&vq));
}

static void t_packed_set_notification(void **state)
{
	queue(4, true, false, false);
	virtq_set_notification(&vq, false);
	assert_int_equal(r16(USED_GPA + 2), VRING_PACKED_EVENT_FLAG_DISABLE);
	virtq_set_notification(&vq, true);
	assert_int_equal(r16(USED_GPA + 2), VRING_PACKED_EVENT_FLAG_ENABLE);

	queue(4, true, true, false);
	packed_push_one();
	virtq_set_notification(&vq, true);
	assert_int_equal(r16(USED_GPA + 2), VRING_PACKED_EVENT_FLAG_DESC);
	assert_int_equal(r16(USED_GPA), 1 | 0x8000);

	/* EVENT_IDX: an empty pop asks for a kick at the next chain. */
	packed_push_one();
	packed_push_one();
	packed_push_one();			/* the ring wrapped */
	virtq_set_notification(&vq, false);
	assert_int_equal(r16(USED_GPA + 2), VRING_PACKED_EVENT_FLAG_DISABLE);
	assert_int_equal(virtq_pop(&vq, &e), 0);
	assert_int_equal(r16(USED_GPA + 2), VRING_PACKED_EVENT_FLAG_DESC);
	assert_int_equal(r16(USED_GPA), 0);
}

static void t_packed_bad(void **state)
{
	const struct buf rw[] = { { BUF_GPA, 8, W }, { BUF_GPA, 8, 0 } };
	const struct buf out = { RAM2_GPA + sizeof(ram2), 8, 0 };
	struct buf ind = { TABLE_GPA, 32, IND };

	queue(8, true, false, false);
	padd(&out, 1, 0);
	expect_broken("outside guest RAM");

	queue(8, true, false, false);
	padd(rw, 2, 0);
	expect_broken("readable descriptor after a writable");

	/* Every slot says NEXT: longer than the queue. */
	queue(4, true, false, false);
	for (unsigned i = 0; i < 4; i++)
		pdesc(DESC_GPA, i, BUF_GPA, 8, 0, NEXT | W | P_AVAIL);
	expect_broken("longer than the queue");

	queue(8, true, false, false);
	padd(&ind, 1, 0);
	expect_broken("without VIRTIO_F_INDIRECT_DESC");

	queue(8, true, false, true);
	ind.len = 20;
	padd(&ind, 1, 0);
	expect_broken("not a multiple of 16");

	queue(8, true, false, true);
	ind = (struct buf){ 0x1000, 32, IND };
	padd(&ind, 1, 0);
	expect_broken("indirect table");

	queue(8, true, false, true);
	pdesc(DESC_GPA, 0, TABLE_GPA, 32, 0, IND | NEXT | P_AVAIL);
	pdesc(DESC_GPA, 1, BUF_GPA, 8, 0, P_AVAIL);
	expect_broken("with NEXT");

	queue(8, true, false, true);
	for (unsigned i = 0; i <= VIRTQ_MAX_IOV; i++)
		pdesc(TABLE_GPA, i, BUF_GPA, 1, 0, 0);
	ind = (struct buf){ TABLE_GPA, (VIRTQ_MAX_IOV + 1) * 16, IND };
	padd(&ind, 1, 0);
	expect_broken("longer than 256");

	queue(8, true, false, true);
	pdesc(TABLE_GPA, 0, BUF_GPA, 8, 0, W);
	pdesc(TABLE_GPA, 1, BUF_GPA, 8, 0, 0);
	ind = (struct buf){ TABLE_GPA, 32, IND };
	padd(&ind, 1, 0);
	expect_broken("readable descriptor after a writable");

	/* A restored position past the end of the ring. */
	queue(8, true, false, false);
	vq.last_avail = 8;
	expect_broken("out of range");
}

/* --- setup --- */

static int try_start(uint16_t size, bool packed, uint64_t desc, uint64_t drv_gpa, uint64_t dev)
{
	vq.size = size;
	vq.desc_gpa = desc;
	vq.driver_gpa = drv_gpa;
	vq.device_gpa = dev;
	return virtq_start(&vq, &mem, packed, false, false);
}

static void t_start_checks(void **state)
{
	virtq_reset(&vq);
	vq.enabled = true;
	assert_int_equal(try_start(256, false, DESC_GPA, AVAIL_GPA, USED_GPA), 0);
	assert_int_equal(try_start(0, false, DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
	assert_null(vq.mem);
	assert_int_equal(virtq_pop(&vq, &e), 0);	/* not started: nothing */
	assert_int_equal(try_start(3, false, DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
	assert_int_equal(try_start(3, true, DESC_GPA, AVAIL_GPA, USED_GPA), 0);
	assert_int_equal(try_start(VIRTQ_MAX_SIZE, true, BIG_GPA, AVAIL_GPA, USED_GPA), 0);
	assert_int_equal(try_start(VIRTQ_MAX_SIZE + 1, true, BIG_GPA, AVAIL_GPA, USED_GPA),
			 -EINVAL);

	/* Alignment: 16/2/4 split, 16/4/4 packed. */
	assert_int_equal(try_start(8, false, DESC_GPA + 8, AVAIL_GPA, USED_GPA), -EINVAL);
	assert_int_equal(try_start(8, false, DESC_GPA, AVAIL_GPA + 2, USED_GPA), 0);
	assert_int_equal(try_start(8, false, DESC_GPA, AVAIL_GPA + 1, USED_GPA), -EINVAL);
	assert_int_equal(try_start(8, false, DESC_GPA, AVAIL_GPA, USED_GPA + 2), -EINVAL);
	assert_int_equal(try_start(8, true, DESC_GPA, AVAIL_GPA + 2, USED_GPA), -EINVAL);
	assert_int_equal(try_start(8, true, DESC_GPA, AVAIL_GPA, USED_GPA + 2), -EINVAL);

	/* Every byte of each area inside one region. */
	assert_int_equal(try_start(8, false, END - 128, AVAIL_GPA, USED_GPA), 0);
	assert_int_equal(try_start(8, false, END - 112, AVAIL_GPA, USED_GPA), -EINVAL);
	assert_int_equal(try_start(8, false, DESC_GPA, END - 22, USED_GPA), 0);
	assert_int_equal(try_start(8, false, DESC_GPA, END - 20, USED_GPA), -EINVAL);
	assert_int_equal(try_start(8, false, DESC_GPA, AVAIL_GPA, END - 72), 0);
	assert_int_equal(try_start(8, false, DESC_GPA, AVAIL_GPA, END - 68), -EINVAL);
	assert_int_equal(try_start(8, false, RAM2_GPA - 64, AVAIL_GPA, USED_GPA), -EINVAL);
	assert_int_equal(try_start(8, true, DESC_GPA, END - 4, END - 4), 0);
	assert_int_equal(try_start(8, true, DESC_GPA, END, USED_GPA), -EINVAL);
	assert_int_equal(try_start(8, false, 0, AVAIL_GPA, USED_GPA), -EINVAL);
	assert_int_equal(try_start(8, false, UINT64_MAX - 15, AVAIL_GPA, USED_GPA), -EINVAL);
}

/* A reset forgets the driver's setup but keeps the transport's fds. */
static void t_reset(void **state)
{
	queue(8, false, true, true);
	vq.index = 3;
	vq.kick_fd = 7;
	vq.call_fd = 9;
	virtq_reset(&vq);
	assert_int_equal(vq.index, 3);
	assert_int_equal(vq.kick_fd, 7);
	assert_int_equal(vq.call_fd, 9);
	assert_int_equal(vq.size, 0);
	assert_false(vq.enabled);
	assert_null(vq.mem);
	assert_int_equal(vq.msix_vector, 0xffff);
	assert_int_equal(virtq_pop(&vq, &e), 0);
	virtq_push(&vq, &e, 0);			/* nothing to write to */
	assert_false(virtq_should_notify(&vq));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_split_direct),
		cmocka_unit_test(t_split_zero_len),
		cmocka_unit_test(t_split_indirect),
		cmocka_unit_test(t_split_wrap),
		cmocka_unit_test(t_split_event_idx),
		cmocka_unit_test(t_split_no_interrupt),
		cmocka_unit_test(t_split_set_notification),
		cmocka_unit_test(t_split_malformed),
		cmocka_unit_test(t_split_limits),
		cmocka_unit_test(t_split_avail_jump),
		cmocka_unit_test(t_split_max_iov),
		cmocka_unit_test(t_split_len_overflow),
		cmocka_unit_test(t_packed_direct),
		cmocka_unit_test(t_packed_not_ready),
		cmocka_unit_test(t_packed_indirect),
		cmocka_unit_test(t_packed_wrap),
		cmocka_unit_test(t_packed_event),
		cmocka_unit_test(t_packed_set_notification),
		cmocka_unit_test(t_packed_bad),
		cmocka_unit_test(t_start_checks),
		cmocka_unit_test(t_reset),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, setup, teardown);
}
