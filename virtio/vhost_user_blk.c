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

#include "backends/chardev.h"
#include "backends/memory.h"
#include "backends/vhost_user.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/props.h"
#include "lib/util.h"
#include "virtio/transport.h"
#include "virtio/vhost.h"
#include "virtio/virtio.h"

/* Device bits the daemon serves and ember passes on (virtio 1.2 5.2.3). */
#define BLK_FEATURES	(BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) |	\
			 BIT(VIRTIO_BLK_F_GEOMETRY) | BIT(VIRTIO_BLK_F_RO) |		\
			 BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH) |		\
			 BIT(VIRTIO_BLK_F_TOPOLOGY) | BIT(VIRTIO_BLK_F_MQ) |		\
			 BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES))
/* Ring features the daemon must serve itself (libvhost-user has no packed rings). */
#define RING_FEATURES	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_INDIRECT_DESC) |	\
			 BIT(VIRTIO_F_EVENT_IDX))

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

	/* Guest-visible state. */
	struct virtio_dev vdev;
	struct virtio_blk_config cfg;

	struct platform *pf;
	struct vhost_user vu;
	unsigned started;	/* rings handed to the daemon */
	bool watched;		/* the socket is on the loop for a hang-up */
};

static struct vublk *to_vublk(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vublk, vdev);
}

static void vublk_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	memcpy(data, (uint8_t *)&to_vublk(vdev)->cfg + off, len);
}

/* Ring @k: NUM, BASE, ADDR (host addresses, as in the memory table), CALL, KICK, ENABLE. */
static int start_ring(struct vublk *vb, unsigned k)
{
	struct virtio_dev *vdev = &vb->vdev;
	struct virtq *vq = &vdev->vqs[k];
	struct vhost_vring_addr a;
	int call, kick, ret;

	if (!vq->enabled)
		return 0;	/* a queue the driver left unused (fewer CPUs than queues) */
	if (vhost_ring_addr(vq, vdev->mem, k, &a) < 0) {
		err_msg("%s: queue %u is not a split ring inside guest RAM", vb->vu.owner, k);
		return -EINVAL;
	}
	call = virtio_call_fd(vdev, k);
	if (call < 0 && call != -ENOENT) {
		err_msg("%s: queue %u has no interrupt eventfd: %s", vb->vu.owner, k,
			strerror(-call));
		return call;
	}
	ret = vhost_user_set_vring(&vb->vu, VHOST_USER_SET_VRING_NUM, k, vq->size);
	if (!ret)
		ret = vhost_user_set_vring(&vb->vu, VHOST_USER_SET_VRING_BASE, k, vq->last_avail);
	if (!ret)
		ret = vhost_user_set_vring_addr(&vb->vu, k, a.desc_user_addr, a.used_user_addr,
						a.avail_user_addr);
	if (!ret)
		ret = vhost_user_set_vring_fd(&vb->vu, VHOST_USER_SET_VRING_CALL, k, call);
	if (ret)
		return ret;
	kick = virtio_kick_fd_to_kernel(vdev, k);
	if (kick < 0) {
		err_msg("%s: queue %u has no KVM ioeventfd to hand to the back end", vb->vu.owner, k);
		return kick;
	}
	ret = vhost_user_set_vring_fd(&vb->vu, VHOST_USER_SET_VRING_KICK, k, kick);
	if (!ret)
		ret = vhost_user_set_vring(&vb->vu, VHOST_USER_SET_VRING_ENABLE, k, 1);
	if (ret)
		virtio_kick_fd_to_loop(vdev, k);
	return ret;
}

/* Ring @k back from the daemon: its avail index is the state a restart resumes from. */
static void stop_ring(struct vublk *vb, unsigned k)
{
	struct virtq *vq = &vb->vdev.vqs[k];
	uint32_t num;

	if (!vq->enabled)
		return;
	vhost_user_set_vring(&vb->vu, VHOST_USER_SET_VRING_ENABLE, k, 0);
	if (!vhost_user_get_vring_base(&vb->vu, k, &num))
		vq->last_avail = (uint16_t)num;
	virtio_kick_fd_to_loop(&vb->vdev, k);
}

static void stop_rings(struct vublk *vb)
{
	while (vb->started > 0)
		stop_ring(vb, --vb->started);
}

static int set_mem_table(struct vublk *vb)
{
	const struct gmem *m = vb->vdev.mem;
	struct vhost_user_region r[VHOST_USER_MAX_REGIONS];
	int fds[VHOST_USER_MAX_REGIONS];

	for (unsigned i = 0; i < m->nr && i < VHOST_USER_MAX_REGIONS; i++) {
		r[i] = (struct vhost_user_region){
			.gpa = m->r[i].gpa,
			.size = m->r[i].size,
			.uaddr = (uint64_t)(uintptr_t)m->r[i].hva,
			.mmap_offset = m->r[i].fd_offset,
		};
		fds[i] = m->r[i].fd;
	}
	return vhost_user_set_mem_table(&vb->vu, r, fds, m->nr);
}

static int vublk_activate(struct virtio_dev *vdev)
{
	struct vublk *vb = to_vublk(vdev);
	uint64_t f = vdev->guest_features | BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	int ret;

	ret = vhost_user_set_features(&vb->vu, f);
	if (!ret)
		ret = set_mem_table(vb);
	for (vb->started = 0; !ret && vb->started < vdev->num_queues; vb->started++)
		ret = start_ring(vb, vb->started);
	if (ret)
		stop_rings(vb);
	return ret;
}

/* Before the core resets the rings: the daemon must be off them. */
static void vublk_reset(struct virtio_dev *vdev)
{
	stop_rings(to_vublk(vdev));
}

/* Kicks reach the daemon through the ioeventfd; one that came here has nowhere to go. */
static void vublk_queue_notify(struct virtio_dev *vdev, unsigned q)
{
}

static const struct virtio_dev_ops vublk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.config_size = CONFIG_SIZE,
	.read_config = vublk_read_config,
	.activate = vublk_activate,
	.reset = vublk_reset,
	.queue_notify = vublk_queue_notify,
};

/* ---- creation ---- */

/* The daemon hung up (loop thread): the device stops, ember goes on. */
static void on_hangup(void *opaque, uint32_t events)
{
	struct vublk *vb = opaque;

	loop_del(vb->pf->loop, vb->vu.fd);
	vb->watched = false;
	pthread_mutex_lock(&vb->vdev.lock);
	if (!vb->vu.broken)
		err_msg("%s: vhost-user back end: it closed the connection", vb->vu.owner);
	vb->vu.broken = true;
	virtio_needs_reset(&vb->vdev, "its vhost-user back end is gone");
	pthread_mutex_unlock(&vb->vdev.lock);
}

/* vhost-user maps guest RAM itself: it must be shared memory with an fd. */
static int check_ram(const struct gmem *m, const char *owner)
{
	for (unsigned i = 0; i < m->nr; i++) {
		const struct mem_backend *b = mem_backend_by_hva(m->r[i].hva);

		if (m->r[i].fd < 0 || !b || !b->share) {
			err_msg("%s: guest RAM is not shared memory the vhost-user back end can map: "
				"use -object memory-backend-memfd,id=mem,size=SIZE,share=on "
				"-machine memory-backend=mem", owner);
			return -EINVAL;
		}
	}
	if (m->nr > VHOST_USER_MAX_REGIONS) {
		err_msg("%s: guest RAM has %u regions (vhost-user takes %u)", owner, m->nr,
			VHOST_USER_MAX_REGIONS);
		return -E2BIG;
	}
	return 0;
}

static int connect_daemon(struct vublk *vb, const char *owner)
{
	struct chardev *c = chardev_find(vb->chardev);
	int fd;

	if (!c) {
		err_msg("%s: no -chardev with id '%s'", owner, vb->chardev);
		return -ENOENT;
	}
	fd = chardev_socket_take(c);
	if (fd == -ENOTSOCK) {
		err_msg("%s: chardev '%s' is not a socket (use -chardev socket,id=%s,path=SOCKET)",
			owner, vb->chardev, vb->chardev);
		return -EINVAL;
	}
	if (fd < 0) {
		err_msg("%s: chardev '%s' is not connected (in use by another device?)", owner,
			vb->chardev);
		return fd;
	}
	return vhost_user_connect(&vb->vu, fd, owner, BIT(VHOST_USER_PROTOCOL_F_CONFIG));
}

static int setup_config(struct vublk *vb, const char *owner)
{
	int ret = vhost_user_get_config(&vb->vu, &vb->cfg, CONFIG_SIZE);

	if (ret)
		return ret;
	if (vb->num_queues > vb->vu.queues) {
		err_msg("%s: num-queues=%u but the back end serves %u", owner, vb->num_queues,
			vb->vu.queues);
		return -EINVAL;
	}
	vb->cfg.num_queues = (uint16_t)vb->num_queues;
	return 0;
}

static void vublk_close(struct device *dev, struct platform *pf)
{
	struct vublk *vb = dev->state;

	if (vb->watched)
		loop_del(pf->loop, vb->vu.fd);
	vb->watched = false;
	vhost_user_close(&vb->vu);
}

static int vublk_realize(struct device *dev, struct platform *pf, const char *owner)
{
	struct vublk *vb = dev->state;
	char name[48];
	int ret;

	vb->pf = pf;
	vb->vu.fd = -1;
	if (vb->queue_size & (vb->queue_size - 1)) {
		err_msg("%s: queue-size=%u is not a power of 2", owner, vb->queue_size);
		return -EINVAL;
	}
	ret = check_ram(pf->mem, owner);
	if (!ret)
		ret = connect_daemon(vb, owner);
	if (!ret)
		ret = setup_config(vb, owner);
	if (ret)
		goto fail;
	snprintf(name, sizeof(name), "vhost-user-blk %s", dev->id ? dev->id : vb->chardev);
	ret = virtio_dev_init(&vb->vdev, &vublk_ops, pf, vb->num_queues, vb->queue_size, name);
	if (ret)
		goto fail;
	vb->vdev.host_features = (vb->vdev.host_features & RING_FEATURES & vb->vu.features) |
				 BIT(VIRTIO_F_VERSION_1) | (vb->vu.features & BLK_FEATURES);
	if (vb->num_queues == 1)
		vb->vdev.host_features &= ~BIT(VIRTIO_BLK_F_MQ);
	if (pf->loop && !loop_add(pf->loop, vb->vu.fd, EPOLLRDHUP, on_hangup, vb))
		vb->watched = true;
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
	VIRTIO_STATE(struct vublk),
	.props = vublk_props,
	.realize = vublk_realize,
	.stop = vublk_close,
	.unrealize = vublk_close,
};
VIRTIO_DEV_TYPE(vublk_type)
