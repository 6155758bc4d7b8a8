/*
 * vhost-kernel; see vhost.h. The kernel reads and writes the guest's rings
 * itself, so ember hands it everything it checked for its own data path:
 * the memory table, ring addresses that virtq_start found inside guest RAM,
 * and the eventfds of the transport.
 *
 * Runs at DRIVER_OK and reset, on a vCPU thread under vdev->lock: no
 * allocation and no new fds here (the sandbox allows the vhost ioctls and
 * epoll_ctl on vCPU threads, nothing that creates a file).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/vhost.h>

#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"
#include "virtio/vhost.h"
#include "virtio/virtio.h"

/*
 * Transport and ring features are the kernel's to serve (bits 24 and up:
 * NOTIFY_ON_EMPTY, ANY_LAYOUT, INDIRECT_DESC, EVENT_IDX, VERSION_1, ...);
 * device bits below 24 are the device's business (vhost-net's offloads are
 * the tap's, not the kernel's).
 */
#define INDEPENDENT_FEATURES	(~0ull << 24)

/* The kernel's vhost has no packed rings: never offered with vhost. */
uint64_t vhost_features(const struct vhost *vh, uint64_t want)
{
	uint64_t ok = (want & ~INDEPENDENT_FEATURES) | (want & vh->features);

	return ok & ~(BIT(VIRTIO_F_RING_PACKED) | BIT(VHOST_F_LOG_ALL));
}

int vhost_mem_table(const struct gmem *m, struct vhost_mem_buf *buf)
{
	memset(buf, 0, sizeof(*buf));
	if (m->nr > GMEM_MAX_REGIONS)
		return -E2BIG;
	for (unsigned i = 0; i < m->nr; i++)
		buf->r[i] = (struct vhost_memory_region){
			.guest_phys_addr = m->r[i].gpa,
			.memory_size = m->r[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)m->r[i].hva,
		};
	buf->hdr.nregions = m->nr;
	return 0;
}

int vhost_ring_addr(const struct virtq *vq, const struct gmem *m, unsigned index,
		    struct vhost_vring_addr *a)
{
	uint64_t n = vq->size, extra = vq->event_idx ? 2 : 0;
	void *desc = gmem_ptr(m, vq->desc_gpa, 16 * n);
	void *avail = gmem_ptr(m, vq->driver_gpa, 4 + 2 * n + extra);
	void *used = gmem_ptr(m, vq->device_gpa, 4 + 8 * n + extra);

	if (vq->packed || !desc || !avail || !used)
		return -EINVAL;
	*a = (struct vhost_vring_addr){
		.index = index,
		.desc_user_addr = (uint64_t)(uintptr_t)desc,
		.avail_user_addr = (uint64_t)(uintptr_t)avail,
		.used_user_addr = (uint64_t)(uintptr_t)used,
	};
	return 0;
}

static int fail(const struct vhost *vh, const char *what, int err)
{
	err_msg("%s: vhost %s: %s", vh->owner, what, strerror(err));
	return -err;
}

/* /dev/vhost-vsock is vhost_vsock's. */
static const char *module_of(const char *path, char *buf, size_t size)
{
	const char *base = strrchr(path, '/');

	snprintf(buf, size, "%s", base ? base + 1 : path);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
	return buf;
}

int vhost_open(struct vhost *vh, const char *path, const char *owner)
{
	char mod[32];
	int fd, ret;

	memset(vh, 0, sizeof(*vh));
	vh->fd = -1;
	snprintf(vh->owner, sizeof(vh->owner), "%s", owner);
	snprintf(vh->path, sizeof(vh->path), "%s", path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (errno == ENOENT)
			err_msg("%s: %s: %s (is the %s module loaded?)", owner, path,
				strerror(errno), module_of(path, mod, sizeof(mod)));
		else
			err_msg("%s: %s: %s", owner, path, strerror(errno));
		return ret;
	}
	return vhost_adopt(vh, fd, path, owner);
}

int vhost_adopt(struct vhost *vh, int fd, const char *what, const char *owner)
{
	int ret;

	memset(vh, 0, sizeof(*vh));
	snprintf(vh->owner, sizeof(vh->owner), "%s", owner);
	snprintf(vh->path, sizeof(vh->path), "%s", what);
	vh->fd = fd;
	if (ioctl(vh->fd, VHOST_SET_OWNER) < 0 ||
	    ioctl(vh->fd, VHOST_GET_FEATURES, &vh->features) < 0) {
		ret = -errno;
		err_msg("%s: %s: %s", owner, what, strerror(errno));
		vhost_close(vh);
		return ret;
	}
	return 0;
}

void vhost_close(struct vhost *vh)
{
	if (vh->fd >= 0)
		close(vh->fd);
	vh->fd = -1;
	vh->started = false;
}

/* Unbinds what vhost_start bound of vhost vq @k, and gives the kick back. */
static void stop_vq(struct vhost *vh, struct virtio_dev *vdev, unsigned k)
{
	unsigned q = vh->first_q + k;
	struct vhost_vring_state st = { .index = k };
	struct vhost_vring_file f = { .index = k, .fd = VHOST_FILE_UNBIND };
	struct virtq *vq = &vdev->vqs[q];
	uint16_t used;

	if (ioctl(vh->fd, VHOST_GET_VRING_BASE, &st) == 0) {
		vq->last_avail = st.num;
		if (!gmem_read(vdev->mem, vq->device_gpa + 2, &used, sizeof(used)))
			vq->used_idx = le16toh(used);
	} else {
		warn_msg("%s: %s: cannot read queue %u's state back: %s", vh->owner,
			 vh->path, q, strerror(errno));
	}
	ioctl(vh->fd, VHOST_SET_VRING_KICK, &f);
	ioctl(vh->fd, VHOST_SET_VRING_CALL, &f);
	virtio_kick_fd_to_loop(vdev, q);
}

static int start_vq(struct vhost *vh, struct virtio_dev *vdev, unsigned k)
{
	unsigned q = vh->first_q + k;
	struct virtq *vq = &vdev->vqs[q];
	struct vhost_vring_state num = { .index = k, .num = vq->size };
	struct vhost_vring_state base = { .index = k, .num = vq->last_avail };
	struct vhost_vring_file kick = { .index = k }, call = { .index = k };
	struct vhost_vring_addr addr;
	char what[64];
	int ret;

	snprintf(what, sizeof(what), "queue %u", q);
	if (!vq->enabled) {
		err_msg("%s: %s: the driver did not enable queue %u", vh->owner, vh->path, q);
		return -EINVAL;
	}
	if (vhost_ring_addr(vq, vdev->mem, k, &addr) < 0) {
		err_msg("%s: %s: queue %u is not a split ring inside guest RAM", vh->owner,
			vh->path, q);
		return -EINVAL;
	}
	ret = virtio_call_fd(vdev, q);
	if (ret < 0 && ret != -ENOENT)
		return fail(vh, "interrupt eventfd", -ret);
	call.fd = ret < 0 ? VHOST_FILE_UNBIND : ret;	/* ENOENT: no vector, no interrupt */
	if (ioctl(vh->fd, VHOST_SET_VRING_NUM, &num) < 0 ||
	    ioctl(vh->fd, VHOST_SET_VRING_BASE, &base) < 0 ||
	    ioctl(vh->fd, VHOST_SET_VRING_ADDR, &addr) < 0 ||
	    ioctl(vh->fd, VHOST_SET_VRING_CALL, &call) < 0)
		return fail(vh, what, errno);
	ret = virtio_kick_fd_to_kernel(vdev, q);
	if (ret < 0)
		return fail(vh, "kick eventfd", -ret);
	kick.fd = ret;
	if (ioctl(vh->fd, VHOST_SET_VRING_KICK, &kick) < 0) {
		ret = errno;
		virtio_kick_fd_to_loop(vdev, q);
		return fail(vh, what, ret);
	}
	return 0;
}

int vhost_start(struct vhost *vh, struct virtio_dev *vdev, uint64_t features,
		unsigned first_q, unsigned nvqs)
{
	uint64_t f = features & vh->features;
	struct vhost_mem_buf mem;
	unsigned k;
	int ret;

	if (vh->fd < 0 || vh->started || !nvqs || nvqs > VHOST_MAX_VQS ||
	    first_q + nvqs > vdev->num_queues)
		return fail(vh, "start", EINVAL);
	vh->first_q = first_q;
	vh->nvqs = nvqs;
	if (ioctl(vh->fd, VHOST_SET_FEATURES, &f) < 0)
		return fail(vh, "features", errno);
	ret = vhost_mem_table(vdev->mem, &mem);
	if (ret < 0)
		return fail(vh, "memory table", -ret);
	if (ioctl(vh->fd, VHOST_SET_MEM_TABLE, &mem.hdr) < 0)
		return fail(vh, "memory table", errno);
	for (k = 0; k < nvqs; k++) {
		ret = start_vq(vh, vdev, k);
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		while (k-- > 0)
			stop_vq(vh, vdev, k);
		return ret;
	}
	vh->started = true;
	return 0;
}

void vhost_stop(struct vhost *vh, struct virtio_dev *vdev)
{
	if (!vh->started)
		return;
	for (unsigned k = 0; k < vh->nvqs; k++)
		stop_vq(vh, vdev, k);
	vh->started = false;
}
