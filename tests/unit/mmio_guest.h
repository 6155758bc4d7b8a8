/*
 * The guest's side of one virtio-mmio slot at BASE for device unit tests:
 * register accessors through the platform's MMIO bus, as vCPU exits do.
 * The including test drives the one platform `pf` declared here.
 */
#ifndef EMBER_TEST_MMIO_GUEST_H
#define EMBER_TEST_MMIO_GUEST_H

#include <stdint.h>
#include <linux/virtio_mmio.h>

#include "devices/bus.h"
#include "devices/platform.h"

#define BASE		0xd0000000ull
#define SLOT_SIZE	0x200

static struct platform pf;

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

static uint64_t dev_features(void)
{
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = rd(VIRTIO_MMIO_DEVICE_FEATURES);

	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

/* Status and features up to FEATURES_OK, as Linux's probe does. */
static void driver_features(uint64_t f)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, f >> 32);
	wr(VIRTIO_MMIO_STATUS, 3 | VIRTIO_STATUS_FEATURES_OK);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
}

#endif
