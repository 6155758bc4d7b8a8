/*
 * A fake virtio device for the transport tests, behind the real virtio
 * core: it offers DEV_FEATURES, has FAKE_CFG_SIZE bytes of config space and
 * counts what the transport makes it do. The including test defines those
 * two, FAKE_ID and fake_queue_notify(): how kicks arrive is what differs.
 */
#ifndef EMBER_TEST_FAKE_VDEV_H
#define EMBER_TEST_FAKE_VDEV_H

#include <stdint.h>
#include <string.h>

#include "virtio/virtio.h"

struct fake {
	struct virtio_dev vdev;
	uint8_t cfg[FAKE_CFG_SIZE];
	int activates, activate_ret, resets, kicks[2];
};

static struct fake fk;

static uint64_t fake_features(struct virtio_dev *vdev)
{
	return DEV_FEATURES;
}

static void fake_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	memcpy(data, fk.cfg + off, len);
}

static void fake_write_config(struct virtio_dev *vdev, uint32_t off, const void *data,
			      unsigned len)
{
	memcpy(fk.cfg + off, data, len);
}

static int fake_activate(struct virtio_dev *vdev)
{
	fk.activates++;
	return fk.activate_ret;
}

static void fake_reset(struct virtio_dev *vdev)
{
	fk.resets++;
}

static void fake_queue_notify(struct virtio_dev *vdev, unsigned q);

static const struct virtio_dev_ops fake_ops = {
	.device_id = FAKE_ID,
	.get_features = fake_features,
	.config_size = sizeof(fk.cfg),
	.read_config = fake_read_config,
	.write_config = fake_write_config,
	.activate = fake_activate,
	.reset = fake_reset,
	.queue_notify = fake_queue_notify,
};

#endif
