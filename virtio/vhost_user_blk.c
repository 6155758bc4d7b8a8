/*
 * vhost-user-blk: a virtio-blk device whose data plane is a vhost-user
 * daemon (qemu-storage-daemon --export type=vhost-user-blk, SPDK), as
 * QEMU's "vhost-user-blk-pci" and "vhost-user-blk-device" (virtio-mmio).
 *
 * ember keeps the transport and the config space (read from the daemon
 * with GET_CONFIG at set-up); at DRIVER_OK it hands the daemon guest RAM
 * (one memfd per region), each ring and its eventfds: the kick is the
 * queue's KVM ioeventfd, the call its MSI-X irqfd (virtio_call_fd), so
 * requests never pass through ember. At reset GET_VRING_BASE stops each
 * ring. A daemon that fails or goes away ends the device (NEEDS_RESET and
 * one log line); ember and the other devices keep running.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_blk.h>

#include "backends/vhost_user.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"
#include "virtio/transport.h"
#include "virtio/vhost_user_dev.h"
#include "virtio/virtio.h"

/* Device bits the daemon serves and ember passes on (virtio 1.2 5.2.3). */
#define BLK_FEATURES	(BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) |	\
			 BIT(VIRTIO_BLK_F_GEOMETRY) | BIT(VIRTIO_BLK_F_RO) |		\
			 BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH) |		\
			 BIT(VIRTIO_BLK_F_TOPOLOGY) | BIT(VIRTIO_BLK_F_MQ) |		\
			 BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES) |	\
			 BIT(VIRTIO_BLK_F_CONFIG_WCE))

/*
 * The config space up to write_zeroes_may_unmap (60 bytes, virtio 1.1's):
 * the zoned fields after it are unknown to qemu-storage-daemon 7.2, which
 * refuses a GET_CONFIG longer than its own structure.
 */
#define CONFIG_SIZE	(offsetof(struct virtio_blk_config, unused1) + \
			 sizeof(((struct virtio_blk_config *)0)->unused1))

struct vublk {
	/* Properties. */
	char *chardev;
	uint32_t num_queues, queue_size;
	struct virtio_link link;

	struct vhost_user_dev vud;

	/* Guest-visible state (the virtio_dev is vud.vdev). */
	struct virtio_blk_config cfg;
};

static struct vublk *to_vublk(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vublk, vud.vdev);
}

static void vublk_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	memcpy(data, (uint8_t *)&to_vublk(vdev)->cfg + off, len);
}

/*
 * The guest's one writable field, the cache mode (CONFIG_WCE): passed to
 * the daemon, then the config read back from it, so that the guest sees
 * what the daemon took. Other writes are ignored, as the spec says.
 */
static void vublk_write_config(struct virtio_dev *vdev, uint32_t off, const void *data,
			       unsigned len)
{
	struct vublk *vb = to_vublk(vdev);
	struct virtio_blk_config cfg;

	if (off != offsetof(struct virtio_blk_config, wce) || len != 1 ||
	    !(vdev->guest_features & BIT(VIRTIO_BLK_F_CONFIG_WCE)))
		return;
	if (vhost_user_set_config(&vb->vud.vu, off, data, len) ||
	    vhost_user_get_config(&vb->vud.vu, &cfg, CONFIG_SIZE))
		return;		/* a broken daemon was logged; its device ends */
	vb->cfg.wce = cfg.wce;
}

static const struct virtio_dev_ops vublk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.config_size = CONFIG_SIZE,
	.read_config = vublk_read_config,
	.write_config = vublk_write_config,
	.activate = vhost_user_dev_activate,
	.reset = vhost_user_dev_reset,
	.queue_notify = vhost_user_dev_queue_notify,
};

/* ---- creation ---- */

static int setup_config(struct vublk *vb, const char *owner)
{
	int ret = vhost_user_get_config(&vb->vud.vu, &vb->cfg, CONFIG_SIZE);

	if (ret)
		return ret;
	if (vb->num_queues > vb->vud.vu.queues) {
		err_msg("%s: num-queues=%u but the back end serves %u", owner, vb->num_queues,
			vb->vud.vu.queues);
		return -EINVAL;
	}
	vb->cfg.num_queues = (uint16_t)vb->num_queues;
	return 0;
}

static void vublk_close(struct device *dev, struct platform *pf)
{
	struct vublk *vb = dev->state;

	vhost_user_dev_close(&vb->vud);
}

static int vublk_realize(struct device *dev, struct platform *pf, const char *owner)
{
	struct vublk *vb = dev->state;
	char name[48];
	int ret;

	vb->vud.vu.fd = -1;
	if (vb->queue_size & (vb->queue_size - 1)) {
		err_msg("%s: queue-size=%u is not a power of 2", owner, vb->queue_size);
		return -EINVAL;
	}
	vb->vud.can_reconnect = true;
	ret = vhost_user_dev_open(&vb->vud, pf, vb->chardev, owner,
				  BIT(VHOST_USER_PROTOCOL_F_CONFIG));
	if (!ret)
		ret = setup_config(vb, owner);
	if (ret)
		goto fail;
	snprintf(name, sizeof(name), "vhost-user-blk %s", dev->id ? dev->id : vb->chardev);
	ret = virtio_dev_init(&vb->vud.vdev, &vublk_ops, pf, vb->num_queues, vb->queue_size, name);
	if (ret)
		goto fail;
	vb->vud.vdev.host_features &= VHOST_USER_RING_FEATURES & vb->vud.vu.features;
	vb->vud.vdev.host_features |= BIT(VIRTIO_F_VERSION_1) | (vb->vud.vu.features & BLK_FEATURES);
	if (vb->num_queues == 1)
		vb->vud.vdev.host_features &= ~BIT(VIRTIO_BLK_F_MQ);
	vhost_user_dev_watch(&vb->vud);
	return 0;
fail:
	vublk_close(dev, pf);
	return ret;
}

static const struct prop vublk_props[] = {
	{ "chardev", PROP_STR, offsetof(struct vublk, chardev), NULL,
	  "id of the -chardev socket connected to the vhost-user daemon", .required = 1 },
	{ "num-queues", PROP_U32, offsetof(struct vublk, num_queues), "1",
	  "request queues (at most what the daemon serves)", .min = 1, .max = VIRTIO_MAX_QUEUES },
	{ "queue-size", PROP_U32, offsetof(struct vublk, queue_size), "128",
	  "entries per queue (power of 2)", .min = 2, .max = 1024 },
	{ NULL }
};

static const struct virtio_dev_type vublk_type = {
	.stem = "vhost-user-blk",
	.desc = "virtio block device served by a vhost-user daemon",
	.state_size = sizeof(struct vublk), .vdev_offset = offsetof(struct vublk, vud.vdev),
	.link_offset = offsetof(struct vublk, link),
	.props = vublk_props,
	.realize = vublk_realize,
	.stop = vublk_close,
	.unrealize = vublk_close,
};
VIRTIO_DEV_TYPE(vublk_type)
