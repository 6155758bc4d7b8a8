/*
 * The guest's side of one virtio-mmio device for the virtio unit tests: fake
 * guest RAM, a platform with the slots at BASE, Linux's probe sequence and
 * split queues of QSIZE driven through the registers, with the event loop
 * run until the device used what was posted. The PCI transport is stubbed:
 * only what a device hands it is recorded. Helpers a test may not use are
 * inline.
 */
#ifndef EMBER_TEST_MMIO_GUEST_H
#define EMBER_TEST_MMIO_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "devices/device.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "mmio_driver.h"

#define RAM_SIZE	(2 * MiB)
#define QSIZE		16
#define QMAX		15
/* Queue q's ring: desc, avail +0x400, used +0x800; all QMAX below BUF_GPA. */
#define QRING(q)	(0x1000ull * ((q) + 1))
#define BUF_GPA		0x10000

static struct loop *loop;
static int timer_fd, irqs;
static uint16_t next_desc[QMAX], avail_idx[QMAX], used_seen[QMAX];

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

/* The PCI transport is not ours: record what it would have been given. */
static struct virtio_pci_opts pci_got;
static struct virtio_dev *pci_dev;

int virtio_pci_attach(struct virtio_dev *vdev, struct platform *p,
		      const struct virtio_pci_opts *o)
{
	pci_got = *o;
	pci_dev = vdev;
	return 0;
}

void virtio_pci_detach(struct virtio_dev *vdev)
{
	pci_dev = NULL;
}

struct pci_dev *virtio_pci_dev(struct virtio_dev *vdev)
{
	return NULL;
}

/* Reset, then the features Linux would take of @want (split rings). */
static inline void driver_negotiate(uint64_t want)
{
	uint64_t f = dev_features() & (want | 1ull << VIRTIO_F_VERSION_1) &
		     ~(1ull << VIRTIO_F_RING_PACKED);

	assert_true(negotiate(f) & VIRTIO_STATUS_FEATURES_OK);
}

/* Queues 0..@nq-1 of QSIZE set up and ready, their rings zeroed (after FEATURES_OK). */
static inline void driver_queues(unsigned nq)
{
	assert_true(nq <= QMAX);
	memset(ram + QRING(0), 0, nq * 0x1000);
	for (unsigned q = 0; q < nq; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		assert_true(rd(VIRTIO_MMIO_QUEUE_NUM_MAX) >= QSIZE);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, QRING(q));
		wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, QRING(q) + 0x400);
		wr(VIRTIO_MMIO_QUEUE_USED_LOW, QRING(q) + 0x800);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		next_desc[q] = avail_idx[q] = used_seen[q] = 0;
	}
}

static inline void driver_ok(void)
{
	wr(VIRTIO_MMIO_STATUS, 3 | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

/* Linux's virtio_mmio probe with @nq split queues of QSIZE. */
static inline void driver_start_queues(uint64_t want, unsigned nq)
{
	driver_negotiate(want);
	driver_queues(nq);
	driver_ok();
}

static inline void driver_start(uint64_t want)
{
	driver_start_queues(want, 1);
}

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Puts a chain on queue @q's avail ring (not kicked); returns its head. */
static inline uint16_t qpost(unsigned q, const struct seg *s, unsigned n)
{
	struct vring_desc *d = (void *)(ram + QRING(q));
	uint16_t *avail = (void *)(ram + QRING(q) + 0x400);
	uint16_t head = next_desc[q];

	for (unsigned i = 0; i < n; i++) {
		uint16_t k = (head + i) % QSIZE;

		d[k] = (struct vring_desc){
			.addr = s[i].gpa, .len = s[i].len,
			.flags = (s[i].write ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			.next = (k + 1) % QSIZE };
	}
	next_desc[q] = (head + n) % QSIZE;
	avail[2 + avail_idx[q] % QSIZE] = head;
	__atomic_store_n(&avail[1], ++avail_idx[q], __ATOMIC_RELEASE);
	return head;
}

static inline uint16_t qpost_buf(unsigned q, uint64_t gpa, uint32_t len, bool write)
{
	return qpost(q, &(struct seg){ gpa, len, write }, 1);
}

static inline uint16_t qused_idx(unsigned q)
{
	return __atomic_load_n((uint16_t *)(ram + QRING(q) + 0x802), __ATOMIC_ACQUIRE);
}

static inline struct vring_used_elem qused_elem(unsigned q, uint16_t i)
{
	return ((struct vring_used_elem *)(ram + QRING(q) + 0x804))[i % QSIZE];
}

/* Chains queue @q used that the test has not counted in used_seen[q]. */
static inline unsigned qused_new(unsigned q)
{
	return (uint16_t)(qused_idx(q) - used_seen[q]);
}

static inline void qkick(unsigned q)
{
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* Runs the loop until queue @q has @n new used chains, or for about @ms; returns how many. */
static inline unsigned qrun(unsigned q, unsigned n, unsigned ms)
{
	struct itimerspec its = { .it_value = { 0, 2000000 } };

	for (unsigned i = 0; i < ms / 2 && qused_new(q) < n; i++) {
		timerfd_settime(timer_fd, 0, &its, NULL);
		loop_run(loop);
	}
	return qused_new(q);
}

/* Kicks queue @q; exactly @n more chains must be used within 5 s. */
static inline void qkick_wait(unsigned q, unsigned n)
{
	qkick(q);
	assert_int_equal(qrun(q, n, 5000), n);
	used_seen[q] += n;
}

/* Queue 0, for the devices with one queue. */
static inline uint16_t post(const struct seg *s, unsigned n)
{
	return qpost(0, s, n);
}

static inline uint16_t used_idx(void)
{
	return qused_idx(0);
}

static inline struct vring_used_elem used_elem(uint16_t i)
{
	return qused_elem(0, i);
}

static inline void kick_wait(unsigned n)
{
	qkick_wait(0, n);
}

/* -device @opts must be refused with a message holding @msg. */
static inline void expect_dev_error(const char *opts, const char *msg)
{
	int ret = device_create(&pf, opts);

	if (ret >= 0)
		fail_msg("'%s' was accepted", opts);
	if (!strstr(log_last(), msg))
		fail_msg("'%s': got \"%s\", want \"%s\"", opts, log_last(), msg);
}

/* -device @opts is created on virtio-pci, handed this address and bus. */
static inline void expect_pci(const char *opts, int slot, int fn, const char *bus)
{
	assert_int_equal(device_create(&pf, opts), 0);
	assert_non_null(pci_dev);
	assert_int_equal(pci_got.slot, slot);
	assert_int_equal(pci_got.function, fn);
	if (bus)
		assert_string_equal(pci_got.bus, bus);
	else
		assert_null(pci_got.bus);
}

static void guest_setup(void)
{
	log_set_quiet(1);
	ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(ram);
	memset(ram, 0, RAM_SIZE);
	memset(&mem, 0, sizeof(mem));
	assert_int_equal(gmem_add(&mem, 0, RAM_SIZE, ram, -1, 0), 0);
	loop = loop_new();
	assert_non_null(loop);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	assert_int_equal(loop_add(loop, timer_fd, EPOLLIN, on_timeout, NULL), 0);
	mmio_platform(irq_set, 4);
	assert_int_equal(bus_init(&pf.pio, "pio"), 0);
	pf.loop = loop;
	pf.ncpus = 2;
	irqs = 0;
}

static void guest_teardown(void)
{
	bus_destroy(&pf.mmio);
	bus_destroy(&pf.pio);
	loop_del(loop, timer_fd);
	close(timer_fd);
	loop_free(loop);
	free(ram);
}

#endif
