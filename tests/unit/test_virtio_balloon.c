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
#include <sys/timerfd.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "devices/device.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "virtio/balloon.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

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

#define BASE		0xd0000000ull
#define RAM_SIZE	(4 * MiB)
#define QSIZE		16
#define NQ		4
#define RING(q)		(0x1000 + (q) * 0x1000)	/* desc; avail +0x400; used +0x800 */
#define BUF_GPA		0x10000

static int ram_fd;
static uint8_t *ram;
static struct gmem mem;
static struct platform pf;
static struct loop *loop;
static int timer_fd, irqs;
static uint16_t avail_idx[NQ], next_desc[NQ];

static void irq_set(void *opaque, unsigned gsi, int level)
{
	if (level)
		irqs++;
}

static void on_timeout(void *opaque, uint32_t events)
{
	uint64_t n;

	if (read(timer_fd, &n, sizeof(n)) == sizeof(n))
		loop_stop(loop, 0);
}

int virtio_pci_attach(struct virtio_dev *vdev, struct platform *p,
		      const struct virtio_pci_opts *o)
{
	return 0;
}

void virtio_pci_detach(struct virtio_dev *vdev)
{
}

static uint32_t rd(uint64_t off)
{
	uint32_t v;

	assert_true(bus_read(&pf.mmio, BASE + off, &v, 4));
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	assert_true(bus_write(&pf.mmio, BASE + off, &v, 4));
}

static uint64_t start(uint64_t want)
{
	uint64_t f;

	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	f &= want;
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	wr(VIRTIO_MMIO_STATUS, 3 | VIRTIO_STATUS_FEATURES_OK);
	memset(ram + RING(0), 0, NQ * 0x1000);
	for (unsigned q = 0; q < NQ; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, RING(q));
		wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, RING(q) + 0x400);
		wr(VIRTIO_MMIO_QUEUE_USED_LOW, RING(q) + 0x800);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		avail_idx[q] = next_desc[q] = 0;
	}
	wr(VIRTIO_MMIO_STATUS, 3 | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return f;
}

static void post(unsigned q, uint64_t gpa, uint32_t len, bool write)
{
	struct vring_desc *d = (void *)(ram + RING(q));
	uint16_t *avail = (void *)(ram + RING(q) + 0x400);
	uint16_t k = next_desc[q]++ % QSIZE;

	d[k] = (struct vring_desc){ .addr = gpa, .len = len,
				    .flags = write ? VRING_DESC_F_WRITE : 0 };
	avail[2 + avail_idx[q] % QSIZE] = k;
	__atomic_store_n(&avail[1], ++avail_idx[q], __ATOMIC_RELEASE);
}

static uint16_t used(unsigned q)
{
	return __atomic_load_n((uint16_t *)(ram + RING(q) + 0x800 + 2), __ATOMIC_ACQUIRE);
}

/* Runs the loop for up to @ms, or until queue @q has @n used entries. */
static void run(unsigned q, uint16_t n, unsigned ms)
{
	struct itimerspec its = { .it_value = { 0, 2000000 } };

	for (unsigned i = 0; i < ms / 2 && used(q) < n; i++) {
		timerfd_settime(timer_fd, 0, &its, NULL);
		loop_run(loop);
	}
}

static void kick(unsigned q, uint16_t n)
{
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
	run(q, n, 1000);
	assert_int_equal(used(q), n);
}

static uint64_t blocks(void)
{
	struct stat st;

	assert_int_equal(fstat(ram_fd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

static int setup_dev(void **state)
{
	log_set_quiet(1);
	ram_fd = memfd_create("test-ram", MFD_CLOEXEC);
	assert_true(ram_fd >= 0);
	assert_int_equal(ftruncate(ram_fd, RAM_SIZE), 0);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
	assert_true(ram != MAP_FAILED);
	memset(ram, 0xaa, RAM_SIZE);
	memset(&mem, 0, sizeof(mem));
	assert_int_equal(gmem_add(&mem, 0, RAM_SIZE, ram, ram_fd, 0), 0);
	loop = loop_new();
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	assert_int_equal(loop_add(loop, timer_fd, EPOLLIN, on_timeout, NULL), 0);
	memset(&pf, 0, sizeof(pf));
	assert_int_equal(bus_init(&pf.mmio, "mmio"), 0);
	assert_int_equal(bus_init(&pf.pio, "pio"), 0);
	pf.loop = loop;
	pf.mem = &mem;
	pf.ncpus = 1;
	pf.irq_set = irq_set;
	pf.virtio_mmio_base = BASE;
	pf.virtio_mmio_size = 0x200;
	pf.virtio_mmio_gsi_base = 16;
	pf.virtio_mmio_slots = 4;
	irqs = 0;
	return 0;
}

static int teardown_dev(void **state)
{
	device_destroy_all(&pf);
	bus_destroy(&pf.mmio);
	bus_destroy(&pf.pio);
	loop_del(loop, timer_fd);
	close(timer_fd);
	loop_free(loop);
	munmap(ram, RAM_SIZE);
	close(ram_fd);
	return 0;
}

static uint32_t cfg(unsigned off)
{
	uint32_t v;

	assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_CONFIG + off, &v, 4));
	return le32toh(v);
}

#define F(b) (1ull << (b))

static void t_inflate_deflate(void **state)
{
	uint32_t pfns[] = { 0x100, 0x101, 0x102, 0x200, 0xfffff, 0x100 };
	uint64_t b0, actual;
	int irq0;

	assert_int_equal(balloon_set_target(1 * MiB), -ENODEV);
	assert_int_equal(device_create(&pf, "virtio-balloon-device,id=b0"), 0);
	assert_string_equal(balloon_id(), "b0");
	assert_int_equal(balloon_ram_size(), RAM_SIZE);
	assert_int_equal(device_create(&pf, "virtio-balloon-device"), -EEXIST);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
	assert_int_equal(start(0xffffff), F(VIRTIO_BALLOON_F_STATS_VQ));

	/* The target: config num_pages, and a config interrupt. */
	irq0 = irqs;
	assert_int_equal(balloon_set_target(0), -ERANGE);
	assert_int_equal(balloon_set_target(RAM_SIZE + 4096), -ERANGE);
	assert_int_equal(balloon_set_target(3 * MiB + 100), 0);
	assert_int_equal(cfg(0), 256);
	assert_true(irqs > irq0);
	assert_true(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_ISR_CONFIG);

	/* Inflate: the pages leave the memfd and read back as zeros. */
	b0 = blocks();
	for (unsigned i = 0; i < ARRAY_SIZE(pfns); i++)
		pfns[i] = htole32(pfns[i]);
	memcpy(ram + BUF_GPA, pfns, sizeof(pfns));
	post(0, BUF_GPA, sizeof(pfns), false);
	kick(0, 1);
	/* (Before reading: a read of a hole fills it again.) */
	assert_int_equal(b0 - blocks(), 4 * 4096);
	assert_int_equal(ram[0x100000], 0);
	assert_int_equal(ram[0x102fff], 0);
	assert_int_equal(ram[0x200000], 0);
	assert_int_equal(ram[0x103000], 0xaa);
	assert_int_equal(ram[0x1fffff], 0xaa);
	assert_string_equal(log_last(), "virtio-balloon b0: the guest inflated 1 page(s) outside "
			    "its RAM (first PFN list with such pages); they are ignored");

	/* The driver reports what it holds. */
	wr(VIRTIO_MMIO_CONFIG + 4, htole32(4));
	assert_int_equal(balloon_get_actual(&actual), 0);
	assert_int_equal(actual, RAM_SIZE - 4 * 4096);

	/* Deflate: nothing to do for the host; the chain is returned. */
	post(1, BUF_GPA, 8, false);
	kick(1, 1);
	/* Reset: the driver's balloon is empty again; the target stays. */
	wr(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(balloon_get_actual(&actual), 0);
	assert_int_equal(actual, RAM_SIZE);
	assert_int_equal(cfg(0), 256);
}

static void t_reporting_and_stats(void **state)
{
	struct balloon_stats st;
	uint32_t iv;
	int64_t when;
	uint8_t s[20];

	assert_int_equal(device_create(&pf, "virtio-balloon-device,free-page-reporting=on,"
				       "deflate-on-oom=on"), 0);
	assert_int_equal(start(0xffffff), F(VIRTIO_BALLOON_F_STATS_VQ) |
			 F(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) | F(VIRTIO_BALLOON_F_REPORTING));
	/* Reported blocks: device-writable buffers, given back whole. */
	post(3, 2 * MiB, 1 * MiB, true);
	kick(3, 1);
	assert_int_equal(ram[2 * MiB], 0);
	assert_int_equal(ram[3 * MiB - 1], 0);
	assert_int_equal(ram[3 * MiB], 0xaa);

	/* The first statistics come at once; the buffer is held for the next poll. */
	put_stat(s, VIRTIO_BALLOON_S_MEMTOT, 4 * MiB);
	put_stat(s + 10, VIRTIO_BALLOON_S_MEMFREE, 1 * MiB);
	memcpy(ram + BUF_GPA, s, sizeof(s));
	post(2, BUF_GPA, sizeof(s), false);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	run(2, 1, 20);
	assert_int_equal(used(2), 0);
	assert_int_equal(balloon_get_stats(&st, &when, &iv), 0);
	assert_int_equal(st.val[VIRTIO_BALLOON_S_MEMTOT], 4 * MiB);
	assert_true(when > 0);
	assert_int_equal(iv, 0);
	/* Polling returns it so that the driver refills it. */
	assert_int_equal(balloon_set_stats_interval(1), 0);
	run(2, 1, 2500);
	assert_int_equal(used(2), 1);
	assert_int_equal(balloon_set_stats_interval(0), 0);
}

static void t_broken_chain(void **state)
{
	assert_int_equal(device_create(&pf, "virtio-balloon-device"), 0);
	start(0xffffff);
	post(0, RAM_SIZE - 4, 8, false);	/* runs past the end of RAM */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(ram[0], 0xaa);
}

static void t_props(void **state)
{
	assert_int_equal(device_create(&pf, "virtio-balloon-device,deflate-on-oom=maybe"), -EINVAL);
	assert_int_equal(device_create(&pf, "virtio-balloon-pci,addr=zz"), -EINVAL);
	assert_non_null(strstr(log_last(), "addr=zz"));
	assert_int_equal(device_create(&pf, "virtio-balloon-device,guest-stats-polling-interval=99999"),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_read_pfns),
		cmocka_unit_test(t_runs),
		cmocka_unit_test(t_stats_parse),
		cmocka_unit_test(t_huge_pages),
		cmocka_unit_test_setup_teardown(t_inflate_deflate, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_reporting_and_stats, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_broken_chain, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_props, setup_dev, teardown_dev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
