/*
 * vhost-user-fs: a virtio-fs device served by a vhost-user daemon
 * (virtiofsd). Queue 0 is the high-priority queue (FORGET, interrupts),
 * queues 1..num-request-queues the request queues; the daemon serves all
 * of them from guest RAM (vhost_user_dev.c). ember keeps the transport and
 * the config space (virtiofsd offers no GET_CONFIG: the tag is ember's).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "backends/vhost_user.h"
#include "devices/device.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"
#include "virtio/transport.h"
#include "virtio/vhost_user_dev.h"
#include "virtio/vhost_user_fs.h"
#include "virtio/virtio.h"

struct vufs {
	/* Properties. */
	char *chardev, *tag;
	uint32_t num_request_queues, queue_size;
	struct virtio_link link;

	struct vhost_user_dev vud;

	/* Guest-visible state (the virtio_dev is vud.vdev). */
	struct virtio_fs_config cfg;
};

int vhost_user_fs_config(struct virtio_fs_config *cfg, const char *tag, unsigned nrq)
{
	size_t len = tag ? strlen(tag) : 0;

	if (!len)
		return -EINVAL;
	if (len > VUFS_TAG_MAX)
		return -ENAMETOOLONG;
	if (!nrq)
		return -ERANGE;
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->tag, tag, len);
	cfg->num_request_queues = nrq;	/* little-endian x86 */
	return 0;
}

static struct vufs *to_vufs(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vufs, vud.vdev);
}

static void vufs_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	memcpy(data, (uint8_t *)&to_vufs(vdev)->cfg + off, len);
}

static const struct virtio_dev_ops vufs_ops = {
	.device_id = VIRTIO_ID_FS,
	.config_size = sizeof(struct virtio_fs_config),
	.read_config = vufs_read_config,
	.activate = vhost_user_dev_activate,
	.reset = vhost_user_dev_reset,
	.queue_notify = vhost_user_dev_queue_notify,
};

/* ---- creation ---- */

static int setup_config(struct vufs *fs, const char *owner)
{
	int ret = vhost_user_fs_config(&fs->cfg, fs->tag, fs->num_request_queues);

	if (ret == -EINVAL)
		err_msg("%s: tag= is empty (the name the guest mounts: mount -t virtiofs TAG DIR)",
			owner);
	else if (ret == -ENAMETOOLONG)
		err_msg("%s: tag='%s' is %zu bytes long (at most %u)", owner, fs->tag,
			strlen(fs->tag), VUFS_TAG_MAX);
	return ret;
}

static void vufs_close(struct device *dev, struct platform *pf)
{
	struct vufs *fs = dev->state;

	vhost_user_dev_close(&fs->vud);
}

static int vufs_realize(struct device *dev, struct platform *pf, const char *owner)
{
	struct vufs *fs = dev->state;
	unsigned nq = 1 + fs->num_request_queues;
	char name[48];
	int ret;

	fs->vud.vu.fd = -1;
	if (fs->queue_size & (fs->queue_size - 1)) {
		err_msg("%s: queue-size=%u is not a power of 2", owner, fs->queue_size);
		return -EINVAL;
	}
	ret = setup_config(fs, owner);
	if (ret)
		return ret;
	ret = vhost_user_dev_open(&fs->vud, pf, fs->chardev, owner, 0);
	if (ret)
		goto fail;
	if (nq > fs->vud.vu.queues) {
		err_msg("%s: num-request-queues=%u needs %u queues but the back end serves %u",
			owner, fs->num_request_queues, nq, fs->vud.vu.queues);
		ret = -EINVAL;
		goto fail;
	}
	snprintf(name, sizeof(name), "vhost-user-fs %s", dev->id ? dev->id : fs->tag);
	ret = virtio_dev_init(&fs->vud.vdev, &vufs_ops, pf, nq, fs->queue_size, name);
	if (ret)
		goto fail;
	fs->vud.vdev.host_features &= VHOST_USER_RING_FEATURES & fs->vud.vu.features;
	fs->vud.vdev.host_features |= BIT(VIRTIO_F_VERSION_1);
	vhost_user_dev_watch(&fs->vud);
	return 0;
fail:
	vufs_close(dev, pf);
	return ret;
}

static const struct prop vufs_props[] = {
	{ "chardev", PROP_STR, offsetof(struct vufs, chardev), NULL,
	  "id of the -chardev socket connected to the vhost-user daemon (virtiofsd)",
	  .required = 1 },
	{ "tag", PROP_STR, offsetof(struct vufs, tag), NULL,
	  "the name the guest mounts (mount -t virtiofs TAG DIR), 1 to 36 bytes", .required = 1 },
	{ "num-request-queues", PROP_U32, offsetof(struct vufs, num_request_queues), "1",
	  "request queues besides the high-priority one (all served by the daemon)", .min = 1,
	  .max = VIRTIO_MAX_QUEUES - 1 },
	{ "queue-size", PROP_U32, offsetof(struct vufs, queue_size), "128",
	  "entries per queue (power of 2)", .min = 2, .max = 1024 },
	{ NULL }
};

static const struct virtio_dev_type vufs_type = {
	.stem = "vhost-user-fs",
	.desc = "virtio-fs device served by a vhost-user daemon (virtiofsd)",
	.state_size = sizeof(struct vufs), .vdev_offset = offsetof(struct vufs, vud.vdev),
	.link_offset = offsetof(struct vufs, link),
	.props = vufs_props,
	.realize = vufs_realize,
	.stop = vufs_close,
	.unrealize = vufs_close,
};
VIRTIO_DEV_TYPE(vufs_type)
