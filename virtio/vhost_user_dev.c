/*
 * The device side shared by vhost-user devices (vhost_user_blk.c,
 * vhost_user_fs.c): see vhost_user_dev.h. A daemon that fails or goes
 * away ends the device (NEEDS_RESET and one log line); ember and the other
 * devices keep running.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backends/chardev.h"
#include "backends/memory.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "virtio/vhost.h"
#include "virtio/vhost_user_dev.h"
#include "virtio/virtio.h"

/* Ring @k: NUM, BASE, ADDR (host addresses, as in the memory table), CALL, KICK, ENABLE. */
static int start_ring(struct vhost_user_dev *d, unsigned k)
{
	struct virtio_dev *vdev = &d->vdev;
	struct virtq *vq = &vdev->vqs[k];
	struct vhost_vring_addr a;
	int call, kick, ret;

	if (!vq->enabled)
		return 0;	/* a queue the driver left unused (fewer CPUs than queues) */
	if (vhost_ring_addr(vq, vdev->mem, k, &a) < 0) {
		err_msg("%s: queue %u is not a split ring inside guest RAM", d->vu.owner, k);
		return -EINVAL;
	}
	call = virtio_call_fd(vdev, k);
	if (call < 0 && call != -ENOENT) {
		err_msg("%s: queue %u has no interrupt eventfd: %s", d->vu.owner, k,
			strerror(-call));
		return call;
	}
	ret = vhost_user_set_vring(&d->vu, VHOST_USER_SET_VRING_NUM, k, vq->size);
	if (!ret)
		ret = vhost_user_set_vring(&d->vu, VHOST_USER_SET_VRING_BASE, k, vq->last_avail);
	if (!ret)
		ret = vhost_user_set_vring_addr(&d->vu, k, a.desc_user_addr, a.used_user_addr,
						a.avail_user_addr);
	if (!ret)
		ret = vhost_user_set_vring_fd(&d->vu, VHOST_USER_SET_VRING_CALL, k, call);
	if (ret)
		return ret;
	kick = virtio_kick_fd_to_kernel(vdev, k);
	if (kick < 0) {
		err_msg("%s: queue %u has no KVM ioeventfd to hand to the back end", d->vu.owner, k);
		return kick;
	}
	ret = vhost_user_set_vring_fd(&d->vu, VHOST_USER_SET_VRING_KICK, k, kick);
	if (!ret)
		ret = vhost_user_set_vring(&d->vu, VHOST_USER_SET_VRING_ENABLE, k, 1);
	if (ret)
		virtio_kick_fd_to_loop(vdev, k);
	return ret;
}

/* Ring @k back from the daemon: its avail index is the state a restart resumes from. */
static void stop_ring(struct vhost_user_dev *d, unsigned k)
{
	struct virtq *vq = &d->vdev.vqs[k];
	uint32_t num;

	if (!vq->enabled)
		return;
	vhost_user_set_vring(&d->vu, VHOST_USER_SET_VRING_ENABLE, k, 0);
	if (!vhost_user_get_vring_base(&d->vu, k, &num))
		vq->last_avail = (uint16_t)num;
	virtio_kick_fd_to_loop(&d->vdev, k);
}

static void stop_rings(struct vhost_user_dev *d)
{
	while (d->started > 0)
		stop_ring(d, --d->started);
}

static int set_mem_table(struct vhost_user_dev *d)
{
	const struct gmem *m = d->vdev.mem;
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
	return vhost_user_set_mem_table(&d->vu, r, fds, m->nr);
}

static struct vhost_user_dev *to_dev(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vhost_user_dev, vdev);
}

int vhost_user_dev_activate(struct virtio_dev *vdev)
{
	struct vhost_user_dev *d = to_dev(vdev);
	uint64_t f = vdev->guest_features & (d->ack_mask ? d->ack_mask : ~0ull);
	unsigned n = d->nrings ? MIN(d->nrings, vdev->num_queues) : vdev->num_queues;
	int ret;

	f |= BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	ret = vhost_user_set_features(&d->vu, f);
	if (!ret)
		ret = set_mem_table(d);
	for (d->started = 0; !ret && d->started < n; d->started++)
		ret = start_ring(d, d->started);
	if (ret)
		stop_rings(d);
	return ret;
}

void vhost_user_dev_reset(struct virtio_dev *vdev)
{
	stop_rings(to_dev(vdev));
}

void vhost_user_dev_queue_notify(struct virtio_dev *vdev, unsigned q)
{
}

/* The daemon hung up (loop thread): the device stops, ember goes on. */
static void on_hangup(void *opaque, uint32_t events)
{
	struct vhost_user_dev *d = opaque;

	loop_del(d->pf->loop, d->vu.fd);
	d->watched = false;
	pthread_mutex_lock(&d->vdev.lock);
	if (!d->vu.broken)
		err_msg("%s: vhost-user back end: it closed the connection", d->vu.owner);
	d->vu.broken = true;
	virtio_needs_reset(&d->vdev, "its vhost-user back end is gone");
	pthread_mutex_unlock(&d->vdev.lock);
}

void vhost_user_dev_watch(struct vhost_user_dev *d)
{
	if (d->pf->loop && !loop_add(d->pf->loop, d->vu.fd, EPOLLRDHUP, on_hangup, d))
		d->watched = true;
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

int vhost_user_dev_open(struct vhost_user_dev *d, struct platform *pf, const char *chardev,
			const char *owner, uint64_t need)
{
	struct chardev *c;
	int fd, ret;

	d->pf = pf;
	d->started = 0;
	d->watched = false;
	d->nrings = 0;
	d->ack_mask = 0;
	d->vu.fd = -1;
	ret = check_ram(pf->mem, owner);
	if (ret)
		return ret;
	c = chardev_find(chardev);
	if (!c) {
		err_msg("%s: no -chardev with id '%s'", owner, chardev);
		return -ENOENT;
	}
	fd = chardev_socket_take(c);
	if (fd == -ENOTSOCK) {
		err_msg("%s: chardev '%s' is not a socket (use -chardev socket,id=%s,path=SOCKET)",
			owner, chardev, chardev);
		return -EINVAL;
	}
	if (fd < 0) {
		err_msg("%s: chardev '%s' is not connected (in use by another device?)", owner,
			chardev);
		return fd;
	}
	return vhost_user_connect(&d->vu, fd, owner, need);
}

void vhost_user_dev_close(struct vhost_user_dev *d)
{
	if (d->watched)
		loop_del(d->pf->loop, d->vu.fd);
	d->watched = false;
	vhost_user_close(&d->vu);
}
