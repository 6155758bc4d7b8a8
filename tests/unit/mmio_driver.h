/*
 * A virtio-mmio driver for the unit tests: the platform `pf` with its
 * virtio-mmio slots at BASE, 32-bit accesses to the first slot's registers,
 * Linux's probe up to FEATURES_OK, and a turn of pf.loop for tests that fake
 * KVM's eventfds. mmio_guest.h builds a whole guest on it; the transport and
 * vhost tests drive their fake devices with it alone.
 */
#ifndef EMBER_TEST_MMIO_DRIVER_H
#define EMBER_TEST_MMIO_DRIVER_H

#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/virtio_mmio.h>

#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/loop.h"
#include "virtio/virtio.h"

#define BASE		0xd0000000ull
#define SLOT_SIZE	0x200
#define GSI		16

static uint8_t *ram;
static struct gmem mem;
static struct platform pf;

/* A bus with @slots virtio-mmio slots at BASE and their lines from GSI on. */
static inline void mmio_platform(void (*irq_set)(void *, unsigned, int), unsigned slots)
{
	memset(&pf, 0, sizeof(pf));
	assert_int_equal(bus_init(&pf.mmio, "mmio"), 0);
	pf.mem = &mem;
	pf.irq_set = irq_set;
	pf.virtio_mmio_base = BASE;
	pf.virtio_mmio_size = SLOT_SIZE;
	pf.virtio_mmio_gsi_base = GSI;
	pf.virtio_mmio_slots = slots;
}

static inline uint32_t rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;	/* a read the transport leaves alone shows */

	assert_true(bus_read(&pf.mmio, BASE + off, &v, 4));
	return v;
}

static inline void wr(uint64_t off, uint32_t v)
{
	assert_true(bus_write(&pf.mmio, BASE + off, &v, 4));
}

static inline uint64_t dev_features(void)
{
	uint64_t f;

	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | rd(VIRTIO_MMIO_DEVICE_FEATURES);
}

/* Reset, ACKNOWLEDGE, DRIVER, features @f, FEATURES_OK; returns the status read back. */
static inline uint32_t negotiate(uint64_t f)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, f >> 32);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	return rd(VIRTIO_MMIO_STATUS);
}

/* How many times eventfd @fd was signalled since the last call (non-blocking). */
static inline uint64_t take(int fd)
{
	uint64_t n = 0;

	return read(fd, &n, 8) == 8 ? n : 0;
}

static inline void on_stopper(void *opaque, uint32_t events)
{
	take(*(int *)opaque);
	loop_stop(pf.loop, 0);
}

/* Runs pf.loop over everything ready now (KVM's fake eventfds), then stops. */
static inline void run_loop_once(void)
{
	int stopper = eventfd(1, EFD_NONBLOCK);

	assert_int_equal(loop_add(pf.loop, stopper, EPOLLIN, on_stopper, &stopper), 0);
	loop_run(pf.loop);
	loop_del(pf.loop, stopper);
	close(stopper);
}

#endif
