/*
 * The device side shared by vhost-user devices (vhost_user_blk.c,
 * vhost_user_fs.c): see vhost_user_dev.h. A daemon that fails or goes
 * away ends the device (NEEDS_RESET and one log line), or with reconnect=
 * (vhost-user-blk) is waited for and set up again; ember and the other
 * devices keep running.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>

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
#include "virtio/virtq.h"

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

static void drop_inflight(struct vhost_user_dev *d)
{
	if (d->inflight_fd >= 0)
		close(d->inflight_fd);
	d->inflight_fd = -1;
}

/* The in-flight area: the back end's at the first start, handed back at every later one. */
static int set_inflight(struct vhost_user_dev *d, unsigned n)
{
	uint16_t qsize = 0;
	int ret;

	if (d->inflight_fd < 0) {
		for (unsigned k = 0; k < n; k++)
			qsize = MAX(qsize, d->vdev.vqs[k].size);
		ret = vhost_user_get_inflight_fd(&d->vu, (uint16_t)n, qsize, &d->inflight,
						 &d->inflight_fd);
		if (ret)
			return ret;
	}
	return vhost_user_set_inflight_fd(&d->vu, &d->inflight, d->inflight_fd);
}

/* SET_FEATURES (the guest's), SET_MEM_TABLE, the in-flight area, then every enabled ring. */
static int start(struct vhost_user_dev *d)
{
	struct virtio_dev *vdev = &d->vdev;
	uint64_t f = vdev->guest_features & (d->ack_mask ? d->ack_mask : ~0ull);
	unsigned n = d->nrings ? MIN(d->nrings, vdev->num_queues) : vdev->num_queues;
	int ret;

	f |= BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	ret = vhost_user_set_features(&d->vu, f);
	if (!ret)
		ret = set_mem_table(d);
	if (!ret && (d->vu.protocol & BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)))
		ret = set_inflight(d, n);
	for (d->started = 0; !ret && d->started < n; d->started++)
		ret = start_ring(d, d->started);
	if (ret)
		stop_rings(d);
	return ret;
}

int vhost_user_dev_activate(struct virtio_dev *vdev)
{
	struct vhost_user_dev *d = to_dev(vdev);

	/* A back end that is gone gets the rings when it returns. */
	return d->gone ? 0 : start(d);
}

void vhost_user_dev_reset(struct virtio_dev *vdev)
{
	struct vhost_user_dev *d = to_dev(vdev);

	stop_rings(d);
	/* What was in flight was the old driver's: the next start asks for a new area. */
	drop_inflight(d);
}

void vhost_user_dev_queue_notify(struct virtio_dev *vdev, unsigned q)
{
}

static void on_hangup(void *opaque, uint32_t events);

static bool any_reconnect;

bool vhost_user_dev_any_reconnect(void)
{
	return any_reconnect;
}

/* The daemon may serve the guest again only with every feature the guest took. */
static int same_features(struct vhost_user_dev *d)
{
	uint64_t mask = (d->ack_mask ? d->ack_mask : ~0ull) & ~BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	uint64_t missing = d->vdev.guest_features & mask & ~d->vu.features;

	if (!missing)
		return 0;
	err_msg("%s: vhost-user back end: it came back without features the guest uses (%#llx)",
		d->owner, (unsigned long long)missing);
	return -ENOTSUP;
}

/* While the back end is gone (loop thread): connect again, and set it up if it answers. */
static void on_retry(void *opaque, uint32_t events)
{
	struct vhost_user_dev *d = opaque;
	struct itimerspec off = { 0 };
	uint32_t status;
	uint64_t n;
	int fd, ret;

	if (read(d->timer_fd, &n, sizeof(n)) != sizeof(n) || !d->gone)
		return;
	fd = chardev_socket_connect(d->chr);
	if (fd < 0)
		return;		/* not back yet: the timer fires again */
	pthread_mutex_lock(&d->vdev.lock);
	ret = vhost_user_connect(&d->vu, fd, d->owner, d->need,
				 BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD));
	if (!ret)
		ret = same_features(d);
	status = __atomic_load_n(&d->vdev.status, __ATOMIC_ACQUIRE);
	if (!ret && (status & VIRTIO_STATUS_DRIVER_OK) && !(status & VIRTIO_STATUS_NEEDS_RESET))
		ret = start(d);
	if (ret == -ENOTSUP) {
		d->gone = false;
		virtio_needs_reset(&d->vdev, "its vhost-user back end came back unable to serve it");
	}
	if (ret) {
		vhost_user_close(&d->vu);
		pthread_mutex_unlock(&d->vdev.lock);
		if (ret == -ENOTSUP)
			timerfd_settime(d->timer_fd, 0, &off, NULL);
		return;		/* a broken set-up: try a fresh connection later */
	}
	d->gone = false;
	d->reconnects++;
	timerfd_settime(d->timer_fd, 0, &off, NULL);
	info_msg("%s: vhost-user back end: connected again%s", d->owner,
		 d->inflight_fd >= 0 ? " (it resubmits what was in flight)" : "");
	pthread_mutex_unlock(&d->vdev.lock);
	if (!loop_add(d->pf->loop, d->vu.fd, EPOLLRDHUP, on_hangup, d))
		d->watched = true;
}

/*
 * The back end died without saying where each ring stood (GET_VRING_BASE).
 * Without an in-flight area the next one starts where the used index is,
 * so that what was taken but not finished is taken again, as QEMU does:
 * exact while requests complete in order (the in-flight area is what makes
 * it exact otherwise).
 */
static void resume_from_used(struct vhost_user_dev *d)
{
	for (unsigned k = 0; k < d->started; k++) {
		struct virtq *vq = &d->vdev.vqs[k];
		uint16_t used;

		if (vq->enabled && !virtq_used_idx_in_ram(vq, d->vdev.mem, &used))
			vq->last_avail = used;
	}
}

/* The daemon hung up (loop thread): the device stops, or waits for it with reconnect=. */
static void on_hangup(void *opaque, uint32_t events)
{
	struct vhost_user_dev *d = opaque;
	unsigned secs = d->timer_fd >= 0 ? chardev_socket_reconnect(d->chr) : 0;
	struct itimerspec every = { { secs, 0 }, { secs, 0 } };

	loop_del(d->pf->loop, d->vu.fd);
	d->watched = false;
	pthread_mutex_lock(&d->vdev.lock);
	if (secs && !timerfd_settime(d->timer_fd, 0, &every, NULL)) {
		err_msg("%s: vhost-user back end: it closed the connection; connecting again "
			"every %u s, the guest's requests wait", d->owner, secs);
		vhost_user_close(&d->vu);
		resume_from_used(d);
		d->started = 0;
		d->gone = true;
		pthread_mutex_unlock(&d->vdev.lock);
		return;
	}
	if (!d->vu.broken)
		err_msg("%s: vhost-user back end: it closed the connection", d->vu.owner);
	d->vu.broken = true;
	virtio_needs_reset(&d->vdev, "its vhost-user back end is gone");
	pthread_mutex_unlock(&d->vdev.lock);
}

void vhost_user_dev_watch(struct vhost_user_dev *d)
{
	if (!d->pf->loop)
		return;
	if (!loop_add(d->pf->loop, d->vu.fd, EPOLLRDHUP, on_hangup, d))
		d->watched = true;
	if (d->timer_fd >= 0 && loop_add(d->pf->loop, d->timer_fd, EPOLLIN, on_retry, d)) {
		close(d->timer_fd);
		d->timer_fd = -1;
	}
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
	d->timer_fd = d->inflight_fd = -1;
	d->gone = false;
	d->need = need;
	snprintf(d->owner, sizeof(d->owner), "%s", owner);
	ret = check_ram(pf->mem, owner);
	if (ret)
		return ret;
	c = chardev_find(chardev);
	if (!c) {
		err_msg("%s: no -chardev with id '%s'", owner, chardev);
		return -ENOENT;
	}
	d->chr = c;
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
	if (chardev_socket_reconnect(c) && !d->can_reconnect)
		warn_msg("%s: reconnect= on chardev '%s' is not used by this device: a back end "
			 "that leaves ends it", owner, chardev);
	if (chardev_socket_reconnect(c) && d->can_reconnect) {
		d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (d->timer_fd < 0) {
			ret = -errno;
			err_msg("%s: cannot create a timer to reconnect: %s", owner, strerror(-ret));
			close(fd);
			return ret;
		}
		any_reconnect = true;
	}
	return vhost_user_connect(&d->vu, fd, owner, need,
				  d->can_reconnect ? BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) : 0);
}

void vhost_user_dev_close(struct vhost_user_dev *d)
{
	if (d->watched)
		loop_del(d->pf->loop, d->vu.fd);
	d->watched = false;
	if (d->timer_fd >= 0) {
		if (d->pf->loop)
			loop_del(d->pf->loop, d->timer_fd);
		close(d->timer_fd);
		d->timer_fd = -1;
	}
	drop_inflight(d);
	vhost_user_close(&d->vu);
}
