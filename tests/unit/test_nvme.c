/*
 * The NVMe command checks (devices/nvme_cmd.c) against PRPs and lists built
 * by hand in synthetic guest memory, the way a driver builds them: offsets,
 * PRP2 as a page or a list, lists chained across pages, and each malformed
 * form refused with its NVMe status; SLBA/NLB decoding against a namespace.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "devices/nvme.h"
#include "kvm/gmem.h"
#include "lib/util.h"

#define BASE	0x100000ull
#define PAGES	256
#define PG	NVME_PAGE_SIZE

static uint8_t ram[PAGES * PG] __attribute__((aligned(4096)));
static struct gmem mem;
static struct iovec iov[NVME_MAX_IOV];
static unsigned niov;

static int setup(void **state)
{
	(void)state;
	memset(&mem, 0, sizeof(mem));
	memset(ram, 0, sizeof(ram));
	return gmem_add(&mem, BASE, sizeof(ram), ram, -1, 0);
}

static uint8_t *host(uint64_t gpa)
{
	return ram + (gpa - BASE);
}

static uint64_t page(unsigned i)
{
	return BASE + (uint64_t)i * PG;
}

static void set_entry(uint64_t list, unsigned i, uint64_t v)
{
	memcpy(host(list) + 8 * i, &v, 8);
}

static uint16_t map(uint64_t prp1, uint64_t prp2, uint64_t len)
{
	struct nvme_sqe c = { .opcode = NVME_CMD_READ, .prp1 = prp1, .prp2 = prp2 };

	return nvme_map_prp(&mem, &c, len, iov, &niov);
}

static void t_one_page(void **state)
{
	(void)state;
	assert_int_equal(map(page(3) + 0x100, 0, 0x200), 0);
	assert_int_equal(niov, 1);
	assert_ptr_equal(iov[0].iov_base, host(page(3) + 0x100));
	assert_int_equal(iov[0].iov_len, 0x200);
	assert_int_equal(map(page(3), 0, 0), 0);
	assert_int_equal(niov, 0);
}

static void t_bad_offset(void **state)
{
	(void)state;
	assert_int_equal(map(page(3) + 2, 0, 16), NVME_SC_PRP_OFFSET_INVALID | NVME_DNR);
	/* PRP2 as the second page must be page aligned. */
	assert_int_equal(map(page(3) + 0x800, page(9) + 8, PG),
			 NVME_SC_PRP_OFFSET_INVALID | NVME_DNR);
}

static void t_two_pages(void **state)
{
	(void)state;
	assert_int_equal(map(page(3) + 0x800, page(9), PG), 0);
	assert_int_equal(niov, 2);
	assert_int_equal(iov[0].iov_len, 0x800);
	assert_ptr_equal(iov[1].iov_base, host(page(9)));
	assert_int_equal(iov[1].iov_len, 0x800);
	/* Adjacent pages merge. */
	assert_int_equal(map(page(3), page(4), 2 * PG), 0);
	assert_int_equal(niov, 1);
	assert_int_equal(iov[0].iov_len, 2 * PG);
}

static void t_list(void **state)
{
	uint64_t list = page(50);

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		set_entry(list, i, page(10 + 2 * i));
	assert_int_equal(map(page(2) + 0x200, list, 0xe00 + 4 * PG - 0x100), 0);
	assert_int_equal(niov, 5);
	assert_int_equal(iov[0].iov_len, 0xe00);
	for (unsigned i = 0; i < 3; i++) {
		assert_ptr_equal(iov[1 + i].iov_base, host(page(10 + 2 * i)));
		assert_int_equal(iov[1 + i].iov_len, PG);
	}
	assert_int_equal(iov[4].iov_len, PG - 0x100);
}

static void t_list_chain(void **state)
{
	/* Two entries fit before the first list page ends: data, then the chain. */
	uint64_t list = page(51) + PG - 16, list2 = page(52);

	(void)state;
	set_entry(list, 0, page(20));
	set_entry(list, 1, list2);
	set_entry(list2, 0, page(22));
	set_entry(list2, 1, page(24));
	assert_int_equal(map(page(2), list, 4 * PG), 0);
	assert_int_equal(niov, 4);
	assert_ptr_equal(iov[1].iov_base, host(page(20)));
	assert_ptr_equal(iov[2].iov_base, host(page(22)));
	assert_ptr_equal(iov[3].iov_base, host(page(24)));
	/* With exactly two entries left the last one is data, not a pointer. */
	set_entry(list, 1, page(30));
	assert_int_equal(map(page(2), list, 3 * PG), 0);
	assert_int_equal(niov, 3);
	assert_ptr_equal(iov[2].iov_base, host(page(30)));
}

static void t_list_bad(void **state)
{
	uint64_t list = page(53);

	(void)state;
	set_entry(list, 0, page(20));
	set_entry(list, 1, page(21) + 0x10);
	assert_int_equal(map(page(2), list, 3 * PG), NVME_SC_PRP_OFFSET_INVALID | NVME_DNR);
	set_entry(list, 1, 0x7000000000ull);		/* no RAM there */
	assert_int_equal(map(page(2), list, 3 * PG), NVME_SC_DATA_XFER_ERROR | NVME_DNR);
	set_entry(list, 1, page(PAGES - 1) + PG);	/* just past RAM */
	assert_int_equal(map(page(2), list, 3 * PG), NVME_SC_DATA_XFER_ERROR | NVME_DNR);
	assert_int_equal(map(page(2), 0x7000000000ull, 3 * PG), NVME_SC_DATA_XFER_ERROR | NVME_DNR);
	assert_int_equal(map(page(2), list + 4, 3 * PG), NVME_SC_PRP_OFFSET_INVALID | NVME_DNR);
	/* A list page with room for its chain pointer only would never end. */
	set_entry(page(54) + PG - 8, 0, page(54) + PG - 8);
	assert_int_equal(map(page(2), page(54) + PG - 8, 3 * PG),
			 NVME_SC_PRP_OFFSET_INVALID | NVME_DNR);
	/* A chain that points at itself ends: its pointer is no data page. */
	set_entry(page(55) + PG - 16, 0, page(20));
	set_entry(page(55) + PG - 16, 1, page(55) + PG - 16);
	assert_int_equal(map(page(2), page(55) + PG - 16, NVME_MAX_XFER),
			 NVME_SC_PRP_OFFSET_INVALID | NVME_DNR);
}

static void t_limits(void **state)
{
	uint64_t list = page(56);
	struct nvme_sqe c = { .flags = 3 << 6, .prp1 = page(2) };

	(void)state;
	assert_int_equal(map(page(2), list, NVME_MAX_XFER + 1), NVME_SC_INVALID_FIELD | NVME_DNR);
	assert_int_equal(nvme_map_prp(&mem, &c, 512, iov, &niov), NVME_SC_INVALID_FIELD | NVME_DNR);
	/* The largest transfer, starting mid-page, in pages that never touch. */
	for (unsigned i = 0; i < NVME_MAX_IOV - 1; i++)
		set_entry(list, i, page(60 + (i % 64) * 2 + (i >= 64)));
	assert_int_equal(map(page(2) + 0x200, list, NVME_MAX_XFER), 0);
	assert_int_equal(niov, NVME_MAX_IOV);
	assert_int_equal(iov[NVME_MAX_IOV - 1].iov_len, 0x200);
}

static void t_copy(void **state)
{
	uint8_t buf[2 * PG], back[2 * PG];
	struct nvme_sqe c = { .prp1 = page(5) + 0x400, .prp2 = page(40) };

	(void)state;
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = i * 7;
	assert_int_equal(nvme_copy_prp(&mem, &c, buf, PG, true), 0);
	assert_memory_equal(host(page(5) + 0x400), buf, PG - 0x400);
	assert_memory_equal(host(page(40)), buf + PG - 0x400, 0x400);
	memset(back, 0, sizeof(back));
	assert_int_equal(nvme_copy_prp(&mem, &c, back, PG, false), 0);
	assert_memory_equal(back, buf, PG);
}

static struct nvme_sgl sgl(uint8_t type, uint64_t addr, uint32_t len)
{
	return (struct nvme_sgl){ .addr = addr, .len = len, .type = type << 4 };
}

static uint16_t map_sgl1(struct nvme_sgl d, uint64_t len)
{
	struct nvme_sqe c = { .opcode = NVME_CMD_READ, .flags = 1 << 6 };

	memcpy(&c.prp1, &d, sizeof(d));
	return nvme_map_prp(&mem, &c, len, iov, &niov);
}

static void put_sgl(uint64_t gpa, unsigned i, struct nvme_sgl d)
{
	memcpy(host(gpa) + 16 * i, &d, 16);
}

static void t_sgl(void **state)
{
	uint64_t s1 = page(70) + 0x100, s2 = page(71);

	(void)state;
	/* One data block in SGL1, at any byte offset. */
	assert_int_equal(map_sgl1(sgl(NVME_SGL_DATA, page(3) + 3, 1000), 1000), 0);
	assert_int_equal(niov, 1);
	assert_ptr_equal(iov[0].iov_base, host(page(3) + 3));
	/* Too short, too long. */
	assert_int_equal(map_sgl1(sgl(NVME_SGL_DATA, page(3), 999), 1000),
			 NVME_SC_SGL_INVALID_DATA_LEN | NVME_DNR);
	assert_int_equal(map_sgl1(sgl(NVME_SGL_DATA, page(3), 1001), 1000),
			 NVME_SC_SGL_INVALID_DATA_LEN | NVME_DNR);
	assert_int_equal(map_sgl1(sgl(NVME_SGL_DATA, 0x7000000000ull, 512), 512),
			 NVME_SC_DATA_XFER_ERROR | NVME_DNR);
	/* A segment of data blocks chained to a last segment. */
	put_sgl(s1, 0, sgl(NVME_SGL_DATA, page(10), 4096));
	put_sgl(s1, 1, sgl(NVME_SGL_DATA, page(12) + 8, 100));
	put_sgl(s1, 2, sgl(NVME_SGL_SEGMENT, s2, 32));
	put_sgl(s2, 0, sgl(NVME_SGL_DATA, page(13), 0));
	put_sgl(s2, 1, sgl(NVME_SGL_LAST_SEGMENT, page(72), 16));
	put_sgl(page(72), 0, sgl(NVME_SGL_DATA, page(14), 412));
	assert_int_equal(map_sgl1(sgl(NVME_SGL_SEGMENT, s1, 48), 4608), 0);
	assert_int_equal(niov, 3);
	assert_ptr_equal(iov[1].iov_base, host(page(12) + 8));
	assert_ptr_equal(iov[2].iov_base, host(page(14)));
	assert_int_equal(iov[2].iov_len, 412);
	/* A pointer inside a last segment, or not at a segment's end. */
	put_sgl(page(72), 0, sgl(NVME_SGL_SEGMENT, page(72), 16));
	assert_int_equal(map_sgl1(sgl(NVME_SGL_SEGMENT, s1, 48), 4608),
			 NVME_SC_SGL_INVALID_SEG | NVME_DNR);
	put_sgl(page(73), 0, sgl(NVME_SGL_LAST_SEGMENT, page(72), 16));
	put_sgl(page(73), 1, sgl(NVME_SGL_DATA, page(14), 512));
	assert_int_equal(map_sgl1(sgl(NVME_SGL_SEGMENT, page(73), 32), 512),
			 NVME_SC_SGL_INVALID_SEG | NVME_DNR);
	/* Segment lengths: zero, not a multiple of 16, over a page, outside RAM. */
	assert_int_equal(map_sgl1(sgl(NVME_SGL_LAST_SEGMENT, s1, 0), 512),
			 NVME_SC_SGL_INVALID_SEG | NVME_DNR);
	assert_int_equal(map_sgl1(sgl(NVME_SGL_LAST_SEGMENT, s1, 24), 512),
			 NVME_SC_SGL_INVALID_SEG | NVME_DNR);
	assert_int_equal(map_sgl1(sgl(NVME_SGL_LAST_SEGMENT, s1, 2 * PG), 512),
			 NVME_SC_SGL_INVALID_SEG | NVME_DNR);
	assert_int_equal(map_sgl1(sgl(NVME_SGL_LAST_SEGMENT, 0x7000000000ull, 16), 512),
			 NVME_SC_DATA_XFER_ERROR | NVME_DNR);
	/* Bit buckets, keyed descriptors, subtypes: refused. */
	assert_int_equal(map_sgl1(sgl(1, page(3), 512), 512), NVME_SC_SGL_INVALID_TYPE | NVME_DNR);
	assert_int_equal(map_sgl1(sgl(4, page(3), 512), 512), NVME_SC_SGL_INVALID_TYPE | NVME_DNR);
	assert_int_equal(map_sgl1((struct nvme_sgl){ .addr = page(3), .len = 512, .type = 1 }, 512),
			 NVME_SC_SGL_INVALID_TYPE | NVME_DNR);
	/* A segment chained to itself runs out of descriptors. */
	put_sgl(page(74), 0, sgl(NVME_SGL_DATA, page(3), 0));
	put_sgl(page(74), 1, sgl(NVME_SGL_SEGMENT, page(74), 32));
	assert_int_equal(map_sgl1(sgl(NVME_SGL_SEGMENT, page(74), 32), 512),
			 NVME_SC_SGL_INVALID_COUNT | NVME_DNR);
	/* More pieces than a command may have. */
	for (unsigned i = 0; i < 200; i++)
		put_sgl(page(75), i, sgl(NVME_SGL_DATA, page(80 + (i % 2) * 40) + 16 * i, 8));
	assert_int_equal(map_sgl1(sgl(NVME_SGL_LAST_SEGMENT, page(75), 200 * 16), 1600),
			 NVME_SC_SGL_INVALID_COUNT | NVME_DNR);
}

static struct nvme_sqe rw(uint8_t op, uint64_t slba, uint32_t nlb0, uint32_t flags)
{
	return (struct nvme_sqe){ .opcode = op, .nsid = 1, .cdw10 = (uint32_t)slba,
				  .cdw11 = slba >> 32, .cdw12 = nlb0 | flags };
}

static void t_decode(void **state)
{
	struct nvme_ns_geom g = { .nlbas = 1000, .lbads = 9 };
	struct nvme_rw out;
	struct nvme_sqe c;

	(void)state;
	c = rw(NVME_CMD_READ, 10, 7, 0);
	assert_int_equal(nvme_decode_rw(&c, &g, &out), 0);
	assert_int_equal(out.offset, 10 * 512);
	assert_int_equal(out.len, 8 * 512);
	c = rw(NVME_CMD_WRITE, 992, 7, BIT(30));
	assert_int_equal(nvme_decode_rw(&c, &g, &out), 0);
	assert_true(out.fua);
	c = rw(NVME_CMD_WRITE, 993, 7, 0);
	assert_int_equal(nvme_decode_rw(&c, &g, &out), NVME_SC_LBA_RANGE | NVME_DNR);
	c = rw(NVME_CMD_READ, 1000, 0, 0);
	assert_int_equal(nvme_decode_rw(&c, &g, &out), NVME_SC_LBA_RANGE | NVME_DNR);
	c = rw(NVME_CMD_READ, UINT64_MAX, 1, 0);	/* slba + nlb wraps */
	assert_int_equal(nvme_decode_rw(&c, &g, &out), NVME_SC_LBA_RANGE | NVME_DNR);
	/* Over the MDTS for data, not for write zeroes. */
	g.nlbas = 1u << 20;
	c = rw(NVME_CMD_READ, 0, NVME_MAX_XFER / 512, 0);
	assert_int_equal(nvme_decode_rw(&c, &g, &out), NVME_SC_INVALID_FIELD | NVME_DNR);
	c = rw(NVME_CMD_WRITE_ZEROES, 0, 0xffff, BIT(25));
	assert_int_equal(nvme_decode_rw(&c, &g, &out), 0);
	assert_int_equal(out.len, 0x10000ull * 512);
	assert_true(out.deallocate);
	/* Read-only namespaces take reads only. */
	g.ro = true;
	c = rw(NVME_CMD_WRITE_ZEROES, 0, 0, 0);
	assert_int_equal(nvme_decode_rw(&c, &g, &out), NVME_SC_READ_ONLY | NVME_DNR);
	c = rw(NVME_CMD_READ, 0, 0, 0);
	assert_int_equal(nvme_decode_rw(&c, &g, &out), 0);
}

static void t_range(void **state)
{
	struct nvme_ns_geom g = { .nlbas = 100, .lbads = 12 };
	struct nvme_dsm_range r = { .nlb = 10, .slba = 90 };
	uint64_t off, len;

	(void)state;
	assert_int_equal(nvme_decode_range(&r, &g, &off, &len), 0);
	assert_int_equal(off, 90 * 4096);
	assert_int_equal(len, 10 * 4096);
	r.nlb = 11;
	assert_int_equal(nvme_decode_range(&r, &g, &off, &len), NVME_SC_LBA_RANGE | NVME_DNR);
	r = (struct nvme_dsm_range){ .nlb = 0, .slba = UINT64_MAX };
	assert_int_equal(nvme_decode_range(&r, &g, &off, &len), 0);
	assert_int_equal(len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_one_page, setup),
		cmocka_unit_test_setup(t_bad_offset, setup),
		cmocka_unit_test_setup(t_two_pages, setup),
		cmocka_unit_test_setup(t_list, setup),
		cmocka_unit_test_setup(t_list_chain, setup),
		cmocka_unit_test_setup(t_list_bad, setup),
		cmocka_unit_test_setup(t_limits, setup),
		cmocka_unit_test_setup(t_copy, setup),
		cmocka_unit_test_setup(t_sgl, setup),
		cmocka_unit_test(t_decode),
		cmocka_unit_test(t_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
