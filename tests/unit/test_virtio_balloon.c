/*
 * virtio-balloon: the request parsers on hand-made chains, then the device
 * through the virtio-mmio registers over guest RAM that is a real memfd, so
 * that inflated and reported pages are seen to leave it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "backends/memory.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"
#include "virtio/balloon.h"

/* ---- parsers ---- */

static struct virtq_elem el;

static void add_out(void *p, size_t len)
{
	el.iov[el.out_num++] = (struct iovec){ p, len };
	el.out_len += len;
}

static void t_read_pfns(void **state)
{
	uint32_t a[3] = { htole32(1), htole32(2), htole32(3) }, out[8];
	uint8_t *b = (uint8_t *)a;

	memset(&el, 0, sizeof(el));
	/* An entry cut across two buffers, and a partial one at the end. */
	add_out(b, 5);
	add_out(b + 5, 6);
	assert_int_equal(balloon_read_pfns(&el, out, 8), 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	add_out(b + 11, 1);
	assert_int_equal(balloon_read_pfns(&el, out, 8), 3);
	assert_int_equal(out[2], 3);
	assert_int_equal(balloon_read_pfns(&el, out, 2), 2);
	/* Device-writable buffers are not read. */
	el.out_num = 0;
	el.in_num = 3;
	assert_int_equal(balloon_read_pfns(&el, out, 8), 0);
}

static void t_runs(void **state)
{
	static uint8_t lo[16 * 4096], hi[8 * 4096];
	struct gmem m = { 0 };
	/* 16..19 then a jump; 15 is the last page of the low region. */
	uint32_t pfns[] = { 1, 2, 3, 7, 15, 0x100000, 0x100001, 16, 0xffffffff, 0x100007, 0x100008 };
	struct balloon_run r[16];
	unsigned bad, n;

	assert_int_equal(gmem_add(&m, 0, sizeof(lo), lo, -1, 0), 0);
	assert_int_equal(gmem_add(&m, 1ull << 32, sizeof(hi), hi, -1, 0), 0);
	n = balloon_runs(&m, pfns, ARRAY_SIZE(pfns), r, &bad);
	assert_int_equal(bad, 3);	/* 16, 0xffffffff, 0x100008 */
	assert_int_equal(n, 5);
	assert_int_equal(r[0].gpa, 4096);
	assert_int_equal(r[0].len, 3 * 4096);
	assert_int_equal(r[1].gpa, 7 * 4096);
	assert_int_equal(r[2].gpa, 15 * 4096);
	assert_int_equal(r[2].len, 4096);
	assert_int_equal(r[3].gpa, 1ull << 32);
	assert_int_equal(r[3].len, 2 * 4096);
	assert_int_equal(r[4].gpa, (1ull << 32) + 7 * 4096);
	assert_int_equal(r[4].len, 4096);
}

static void put_stat(uint8_t *p, uint16_t tag, uint64_t val)
{
	tag = htole16(tag);
	val = htole64(val);
	memcpy(p, &tag, 2);
	memcpy(p + 2, &val, 8);
}

static void t_stats_parse(void **state)
{
	uint8_t b[40];
	struct balloon_stats st = { 0 };

	put_stat(b, VIRTIO_BALLOON_S_MEMTOT, 512 << 20);
	put_stat(b + 10, 200, 1);		/* unknown: skipped */
	put_stat(b + 20, VIRTIO_BALLOON_S_AVAIL, 300 << 20);
	put_stat(b + 30, VIRTIO_BALLOON_S_MEMFREE, 7);
	memset(&el, 0, sizeof(el));
	add_out(b, 13);
	add_out(b + 13, 22);		/* the last entry is cut short */
	assert_int_equal(balloon_parse_stats(&el, &st), 3);
	assert_int_equal(st.valid, (1u << VIRTIO_BALLOON_S_MEMTOT) | (1u << VIRTIO_BALLOON_S_AVAIL));
	assert_int_equal(st.val[VIRTIO_BALLOON_S_MEMTOT], 512 << 20);
	assert_int_equal(st.val[VIRTIO_BALLOON_S_AVAIL], 300 << 20);
	assert_string_equal(balloon_stat_name(VIRTIO_BALLOON_S_AVAIL), "stat-available-memory");
	assert_null(balloon_stat_name(BALLOON_STATS_MAX));
}

static void t_huge_pages(void **state)
{
	struct balloon_hp h;
	uint64_t hp = 2 * MiB;

	assert_int_equal(balloon_hp_init(&h, 3 * MiB, 8 * MiB), -EINVAL);
	assert_int_equal(balloon_hp_init(&h, hp, 8 * MiB), 0);
	for (uint64_t a = hp; a < 2 * hp - 4096; a += 4096)
		assert_false(balloon_hp_mark(&h, a, true));
	/* A page taken back leaves the huge page incomplete. */
	assert_false(balloon_hp_mark(&h, hp, false));
	assert_false(balloon_hp_mark(&h, 2 * hp - 4096, true));
	assert_true(balloon_hp_mark(&h, hp, true));
	assert_false(balloon_hp_mark(&h, 100 * MiB, true));	/* outside: ignored */
	balloon_hp_clear(&h);
	assert_false(balloon_hp_mark(&h, hp, true));
	balloon_hp_free(&h);
}

/* ---- the device ---- */

#include "mmio_guest.h"

/* Inflate, deflate, stats; reporting after them with free-page-reporting=on. */
#define NQ		3

static int ram_fd;

static uint64_t blocks(void)
{
	struct stat st;

	assert_int_equal(fstat(ram_fd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* The harness's guest with its RAM in a memfd, so that punched pages show. */
static int setup_dev(void **state)
{
	guest_setup();
	free(ram);
	ram_fd = memfd_create("test-ram", MFD_CLOEXEC);
	assert_true(ram_fd >= 0);
	assert_int_equal(ftruncate(ram_fd, RAM_SIZE), 0);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
	assert_true(ram != MAP_FAILED);
	memset(ram, 0xaa, RAM_SIZE);
	memset(&mem, 0, sizeof(mem));
	assert_int_equal(gmem_add(&mem, 0, RAM_SIZE, ram, ram_fd, 0), 0);
	return 0;
}

static int teardown_dev(void **state)
{
	device_destroy_all(&pf);
	munmap(ram, RAM_SIZE);
	close(ram_fd);
	ram = NULL;
	guest_teardown();
	return 0;
}

static uint32_t cfg(unsigned off)
{
	uint32_t v;

	assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_CONFIG + off, &v, 4));
	return le32toh(v);
}

#define F(b) (1ull << (b))

static void t_inflate(void **state)
{
	uint32_t pfns[] = { 0x100, 0x101, 0x102, 0x180, 0xfffff, 0x100 };
	struct seg sg = { BUF_GPA, sizeof(pfns), false };
	uint64_t b0, actual;
	int irq0;

	assert_int_equal(balloon_set_target(&pf, 1 * MiB), -ENODEV);
	assert_int_equal(device_create(&pf, "virtio-balloon-device,id=b0"), 0);
	assert_string_equal(balloon_id(&pf), "b0");
	assert_int_equal(balloon_ram_size(&pf), RAM_SIZE);
	expect_dev_error("virtio-balloon-device", "only one balloon device is supported");
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
	assert_int_equal(dev_features() & 0xffffff, F(VIRTIO_BALLOON_F_STATS_VQ));
	driver_start(0);

	/* The target: config num_pages, and a config interrupt. */
	irq0 = irqs;
	assert_int_equal(balloon_set_target(&pf, 0), -ERANGE);
	assert_int_equal(balloon_set_target(&pf, RAM_SIZE + 4096), -ERANGE);
	assert_int_equal(balloon_set_target(&pf, 3 * MiB / 2 + 100), 0);
	assert_int_equal(cfg(0), 128);
	assert_true(irqs > irq0);
	assert_true(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_ISR_CONFIG);

	/* Inflate: the pages leave the memfd and read back as zeros. */
	b0 = blocks();
	for (unsigned i = 0; i < ARRAY_SIZE(pfns); i++)
		pfns[i] = htole32(pfns[i]);
	memcpy(ram + BUF_GPA, pfns, sizeof(pfns));
	post(&sg, 1);
	kick_wait(1);
	assert_int_equal(used_elem(0).len, 0);
	/* (Before reading: a read of a hole fills it again.) */
	assert_int_equal(b0 - blocks(), 4 * 4096);
	assert_int_equal(ram[0x100000], 0);
	assert_int_equal(ram[0x102fff], 0);
	assert_int_equal(ram[0x180000], 0);
	assert_int_equal(ram[0x103000], 0xaa);
	assert_int_equal(ram[0x17ffff], 0xaa);
	assert_string_equal(log_last(), "virtio-balloon b0: the guest inflated 1 page(s) outside "
			    "its RAM (first PFN list with such pages); they are ignored");

	/* The driver reports what it holds. */
	wr(VIRTIO_MMIO_CONFIG + 4, htole32(4));
	assert_int_equal(balloon_get_actual(&pf, &actual), 0);
	assert_int_equal(actual, RAM_SIZE - 4 * 4096);
	/* Reset: the driver's balloon is empty again; the target stays. */
	wr(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(balloon_get_actual(&pf, &actual), 0);
	assert_int_equal(actual, RAM_SIZE);
	assert_int_equal(cfg(0), 128);
}

static void t_reporting_and_stats(void **state)
{
	int irq0;
	struct balloon_stats st;
	uint32_t iv;
	int64_t when;
	uint8_t s[20];

	assert_int_equal(device_create(&pf, "virtio-balloon-device,free-page-reporting=on,"
				       "deflate-on-oom=on"), 0);
	assert_int_equal(dev_features() & 0xffffff, F(VIRTIO_BALLOON_F_STATS_VQ) |
			 F(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) | F(VIRTIO_BALLOON_F_REPORTING));
	driver_start_queues(0xffffff, NQ + 1);
	/* Deflate: nothing to do for the host; the chain is returned. */
	qpost_buf(1, BUF_GPA, 8, false);
	qkick_wait(1, 1);
	/* Reported blocks: device-writable buffers, given back whole. */
	qpost_buf(3, 1 * MiB, 256 * KiB, true);
	qkick_wait(3, 1);
	assert_int_equal(ram[1 * MiB], 0);
	assert_int_equal(ram[1 * MiB + 256 * KiB - 1], 0);
	assert_int_equal(ram[1 * MiB + 256 * KiB], 0xaa);

	/* The first statistics come at once; the buffer is held for the next poll. */
	put_stat(s, VIRTIO_BALLOON_S_MEMTOT, 2 * MiB);
	put_stat(s + 10, VIRTIO_BALLOON_S_MEMFREE, 1 * MiB);
	memcpy(ram + BUF_GPA, s, sizeof(s));
	qpost_buf(2, BUF_GPA, sizeof(s), false);
	qkick(2);
	assert_int_equal(qrun(2, 1, 20), 0);
	assert_int_equal(balloon_get_stats(&pf, &st, &when, &iv), 0);
	assert_int_equal(st.val[VIRTIO_BALLOON_S_MEMTOT], 2 * MiB);
	assert_true(when > 0);
	assert_int_equal(iv, 0);
	/* A second buffer: the held one goes back, with an interrupt. */
	irq0 = irqs;
	qpost_buf(2, BUF_GPA, sizeof(s), false);
	qkick_wait(2, 1);
	assert_true(irqs > irq0);
	/* Polling returns the held one so that the driver refills it. */
	assert_int_equal(balloon_set_stats_interval(&pf, 1), 0);
	assert_int_equal(qrun(2, 1, 2500), 1);
	assert_int_equal(balloon_set_stats_interval(&pf, 0), 0);
}

/* Linux adds the first statistics buffer and kicks before DRIVER_OK. */
static void t_stats_before_driver_ok(void **state)
{
	struct balloon_stats st;
	uint32_t iv;
	int64_t when;
	uint8_t s[10];

	assert_int_equal(device_create(&pf, "virtio-balloon-device"), 0);
	driver_negotiate(0xffffff);
	driver_queues(NQ);
	put_stat(s, VIRTIO_BALLOON_S_AVAIL, 3 * MiB);
	memcpy(ram + BUF_GPA, s, sizeof(s));
	qpost_buf(2, BUF_GPA, sizeof(s), false);
	qkick(2);
	driver_ok();
	assert_int_equal(balloon_get_stats(&pf, &st, &when, &iv), 0);
	assert_int_equal(st.valid, 1u << VIRTIO_BALLOON_S_AVAIL);
	assert_int_equal(st.val[VIRTIO_BALLOON_S_AVAIL], 3 * MiB);
}

/*
 * Private RAM: the guest's pages are ember's own copies, dropped with
 * MADV_DONTNEED (and, for a memfd, the file's pages punched as well).
 */
static void check_ram(struct mem_backend *b, uint8_t expect)
{
	uint32_t pfn = htole32((2 * MiB >> 12) + 3);
	uint8_t *p;

	assert_int_equal(mem_backend_map(b), 0);
	p = b->hva;
	memset(p, 0xaa, 1 * MiB);
	/* The rings stay in the test's RAM below; the private RAM above it. */
	memset(&mem, 0, sizeof(mem));
	assert_int_equal(gmem_add(&mem, 0, 2 * MiB, ram, ram_fd, 0), 0);
	assert_int_equal(gmem_add(&mem, 2 * MiB, 1 * MiB, p, b->fd, 0), 0);
	assert_int_equal(device_create(&pf, "virtio-balloon-device"), 0);
	memcpy(ram + BUF_GPA, &pfn, 4);
	driver_start_queues(0xffffff, NQ);
	qpost_buf(0, BUF_GPA, 4, false);
	qkick_wait(0, 1);
	assert_int_equal(p[3 * 4096], expect);
	assert_int_equal(p[4 * 4096 - 1], expect);
	assert_int_equal(p[4 * 4096], 0xaa);
	if (expect)	/* kept: RAM pinned */
		assert_non_null(strstr(log_last(), "pinned for device DMA"));
	device_destroy_all(&pf);
	object_cleanup_all();
}

/* The RAM of plain -m: anonymous, no fd. */
static void t_private_ram(void **state)
{
	struct mem_backend *b;

	assert_int_equal(mem_backend_create_default(1 * MiB, &b), 0);
	check_ram(b, 0);
}

/* RAM pinned for VFIO keeps its pages (QEMU's ram_block_discard_disable). */
static void t_discard_disabled(void **state)
{
	struct mem_backend *b;

	assert_int_equal(mem_backend_create_default(1 * MiB, &b), 0);
	gmem_discard_disable(true);
	check_ram(b, 0xaa);
	gmem_discard_disable(false);
	assert_false(gmem_discard_disabled());
}

static void t_private_memfd(void **state)
{
	assert_int_equal(object_create(OBJ_OBJECT, "qom-type=memory-backend-memfd,id=m,size=1M,share=off",
				       NULL), 0);
	check_ram(mem_backend_find("m"), 0);
}

static void t_broken_chain(void **state)
{
	assert_int_equal(device_create(&pf, "virtio-balloon-device"), 0);
	driver_start_queues(0xffffff, NQ);
	qpost_buf(0, RAM_SIZE - 4, 8, false);	/* runs past the end of RAM */
	qkick(0);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(ram[0], 0xaa);
}

static void t_props(void **state)
{
	expect_dev_error("virtio-balloon-device,deflate-on-oom=maybe", "deflate-on-oom");
	expect_dev_error("virtio-balloon-pci,addr=zz", "addr=zz");
	expect_dev_error("virtio-balloon-device,guest-stats-polling-interval=99999",
			 "guest-stats-polling-interval");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_read_pfns),
		cmocka_unit_test(t_runs),
		cmocka_unit_test(t_stats_parse),
		cmocka_unit_test(t_huge_pages),
		cmocka_unit_test_setup_teardown(t_inflate, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_reporting_and_stats, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_stats_before_driver_ok, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_private_ram, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_private_memfd, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_discard_disabled, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_broken_chain, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_props, setup_dev, teardown_dev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
