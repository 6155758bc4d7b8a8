/*
 * The transport-independent virtio device: feature negotiation, the status
 * machine, config space and the interrupt decisions.
 *
 * Locking: transports call the feature, status and config functions with
 * vdev->lock held (from vCPU threads); ops->queue_notify runs on the loop
 * (on_kick; a doorbell from a vCPU is passed there by
 * virtio_queue_doorbell) with it held too, so a reset never runs in the
 * middle of a queue's processing.
 * virtio_notify, virtio_config_changed and virtio_needs_reset may be called
 * with or without the lock: they touch status and isr atomically and the
 * transport serialises its own interrupt state.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "devices/platform.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops,
		    struct platform *pf, unsigned num_queues, uint16_t max_queue_size,
		    const char *name)
{
	int ret;

	if (!num_queues || num_queues > VIRTIO_MAX_QUEUES || !max_queue_size ||
	    max_queue_size > VIRTQ_MAX_SIZE) {
		err_msg("%s: %u queues of %u entries is not possible (at most %d of %d)",
			name, num_queues, max_queue_size, VIRTIO_MAX_QUEUES, VIRTQ_MAX_SIZE);
		return -EINVAL;
	}
	memset(vdev, 0, sizeof(*vdev));
	ret = pthread_mutex_init(&vdev->lock, NULL);
	if (ret) {
		err_msg("%s: cannot create lock: %s", name, strerror(ret));
		return -ret;
	}
	vdev->ops = ops;
	vdev->pf = pf;
	vdev->mem = pf ? pf->mem : NULL;
	snprintf(vdev->name, sizeof(vdev->name), "%s", name);
	vdev->num_queues = num_queues;
	vdev->max_queue_size = max_queue_size;
	vdev->config_vector = VIRTIO_NO_VECTOR;
	vdev->call_fd = -1;
	vdev->host_features = (ops->get_features ? ops->get_features(vdev) : 0) |
		BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_RING_PACKED) |
		BIT(VIRTIO_F_EVENT_IDX) | BIT(VIRTIO_F_INDIRECT_DESC);
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		struct virtq *vq = &vdev->vqs[q];

		vq->index = q;
		vq->kick_fd = vq->call_fd = -1;
		virtq_reset(vq);
		vq->size = max_queue_size;
	}
	return 0;
}

uint32_t virtio_get_device_features(struct virtio_dev *vdev, unsigned word)
{
	return word < 2 ? (uint32_t)(vdev->host_features >> (32 * word)) : 0;
}

/* Fixed once FEATURES_OK is set (3.1.1). */
void virtio_set_driver_features(struct virtio_dev *vdev, unsigned word, uint32_t val)
{
	uint64_t mask = 0xffffffffull << (32 * (word & 1));

	if (word >= 2 || (vdev->status & VIRTIO_STATUS_FEATURES_OK))
		return;
	vdev->guest_features = (vdev->guest_features & ~mask) | ((uint64_t)val << (32 * word));
}

static bool has(const struct virtio_dev *vdev, unsigned bit)
{
	return vdev->guest_features & BIT(bit);
}

static void reset(struct virtio_dev *vdev)
{
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	for (unsigned q = 0; q < vdev->num_queues; q++) {
		virtq_reset(&vdev->vqs[q]);
		vdev->vqs[q].size = vdev->max_queue_size;
	}
	vdev->guest_features = 0;
	vdev->config_vector = VIRTIO_NO_VECTOR;
	__atomic_store_n(&vdev->isr, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vdev->status, 0, __ATOMIC_RELEASE);
}

/* DRIVER_OK: the queues the driver enabled are checked and started. */
static void start(struct virtio_dev *vdev)
{
	bool packed = has(vdev, VIRTIO_F_RING_PACKED);
	bool event_idx = has(vdev, VIRTIO_F_EVENT_IDX);
	bool indirect = has(vdev, VIRTIO_F_INDIRECT_DESC);
	char why[128];

	if (!(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_needs_reset(vdev, "DRIVER_OK without FEATURES_OK");
		return;
	}
	for (unsigned q = 0; q < vdev->num_queues; q++) {
		struct virtq *vq = &vdev->vqs[q];

		if (!vq->enabled)
			continue;
		if (vq->size > vdev->max_queue_size) {
			snprintf(why, sizeof(why), "queue %u: size %u is above the maximum %u",
				 q, vq->size, vdev->max_queue_size);
			virtio_needs_reset(vdev, why);
			return;
		}
		if (virtq_start(vq, vdev->mem, packed, event_idx, indirect)) {
			snprintf(why, sizeof(why), "queue %u: %s", q, vq->why);
			virtio_needs_reset(vdev, why);
			return;
		}
	}
	if (vdev->ops->activate && vdev->ops->activate(vdev) < 0)
		virtio_needs_reset(vdev, "the device could not start");
}

void virtio_set_status(struct virtio_dev *vdev, uint8_t status)
{
	uint8_t old = vdev->status;

	if (!status) {
		reset(vdev);
		return;
	}
	/* Not kept: the driver reads the status back and gives up cleanly. */
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    ((vdev->guest_features & ~vdev->host_features) || !has(vdev, VIRTIO_F_VERSION_1)))
		status &= ~VIRTIO_STATUS_FEATURES_OK;
	/* Only a reset clears NEEDS_RESET. */
	status = (status & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET);
	__atomic_store_n(&vdev->status, status, __ATOMIC_RELEASE);
	if ((status & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) &&
	    !(status & VIRTIO_STATUS_NEEDS_RESET))
		start(vdev);
}

static bool config_ok(const struct virtio_dev *vdev, uint32_t off, unsigned len)
{
	return (len == 1 || len == 2 || len == 4 || len == 8) &&
	       (uint64_t)off + len <= vdev->ops->config_size;
}

void virtio_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	if (config_ok(vdev, off, len) && vdev->ops->read_config)
		vdev->ops->read_config(vdev, off, data, len);
	else if (len <= 8)
		memset(data, 0, len);
}

void virtio_write_config(struct virtio_dev *vdev, uint32_t off, const void *data, unsigned len)
{
	if (config_ok(vdev, off, len) && vdev->ops->write_config)
		vdev->ops->write_config(vdev, off, data, len);
}

static void eventfd_signal(int fd)
{
	uint64_t one = 1;

	/* Fails only when the counter is saturated: a wakeup is pending anyway. */
	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

static bool kernel_kicks(const struct virtio_dev *vdev, unsigned q)
{
	return __atomic_load_n(&vdev->kernel_kicks, __ATOMIC_RELAXED) & BIT(q);
}

/* Kicks before DRIVER_OK or after a failure go nowhere. */
void virtio_queue_kick(struct virtio_dev *vdev, unsigned q)
{
	/* The kernel serves the queue: a doorbell that reached ember is its. */
	if (q < vdev->num_queues && kernel_kicks(vdev, q)) {
		eventfd_signal(vdev->vqs[q].kick_fd);
		return;
	}
	if (q < vdev->num_queues && vdev->vqs[q].enabled && vdev->ops->queue_notify &&
	    (vdev->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	    VIRTIO_STATUS_DRIVER_OK)
		vdev->ops->queue_notify(vdev, q);
}

/*
 * The loop, not the vCPU, serves queues: the block layer has no lock
 * against the loop's completions, and the vcpu seccomp filter lacks the
 * calls of rng's and the balloon's back ends. So the doorbell becomes a
 * write to the kick fd, which whoever watches it (on_kick, or vhost's
 * worker) serves as it does a KVM ioeventfd's signal.
 */
void virtio_queue_doorbell(struct virtio_dev *vdev, unsigned q)
{
	if (q < vdev->num_queues && vdev->vqs[q].kick_fd >= 0)
		eventfd_signal(vdev->vqs[q].kick_fd);
	else
		virtio_queue_kick(vdev, q);
}

static void on_kick(void *opaque, uint32_t events)
{
	struct virtq *vq = opaque;
	struct virtio_dev *vdev = container_of(vq - vq->index, struct virtio_dev, vqs);
	uint64_t n;

	/* An event fetched before the kernel took the fd: leave the kick to it. */
	if (kernel_kicks(vdev, vq->index))
		return;
	if (read(vq->kick_fd, &n, sizeof(n)) != sizeof(n))
		return;		/* nothing there after all */
	pthread_mutex_lock(&vdev->lock);
	virtio_queue_kick(vdev, vq->index);
	pthread_mutex_unlock(&vdev->lock);
}

int virtio_kick_fd_open(struct virtio_dev *vdev, unsigned q)
{
	struct virtq *vq = &vdev->vqs[q];
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), ret;

	if (fd < 0) {
		ret = -errno;
		err_msg("%s: eventfd: %s", vdev->name, strerror(errno));
		return ret;
	}
	ret = loop_add(vdev->pf->loop, fd, EPOLLIN, on_kick, vq);
	if (ret < 0) {
		err_msg("%s: cannot watch queue %u: %s", vdev->name, q, strerror(-ret));
		close(fd);
		return ret;
	}
	vq->kick_fd = fd;
	return 0;
}

void virtio_kick_fd_close(struct virtio_dev *vdev, unsigned q)
{
	struct virtq *vq = &vdev->vqs[q];

	if (vq->kick_fd < 0)
		return;
	loop_del(vdev->pf->loop, vq->kick_fd);
	close(vq->kick_fd);
	vq->kick_fd = -1;
	__atomic_fetch_and(&vdev->kernel_kicks, ~BIT(q), __ATOMIC_RELAXED);
}

int virtio_kick_fd_to_kernel(struct virtio_dev *vdev, unsigned q)
{
	int fd = q < vdev->num_queues ? vdev->vqs[q].kick_fd : -1, ret;

	if (fd < 0)
		return -ENODEV;
	if (!kernel_kicks(vdev, q)) {
		/* Not loop_del: the loop may be reading the slot table right now. */
		ret = loop_mod(vdev->pf->loop, fd, 0);
		if (ret < 0)
			return ret;
		__atomic_fetch_or(&vdev->kernel_kicks, BIT(q), __ATOMIC_RELAXED);
	}
	return fd;
}

/* A kick the kernel left unconsumed wakes the loop, which finds the device reset. */
void virtio_kick_fd_to_loop(struct virtio_dev *vdev, unsigned q)
{
	if (q >= vdev->num_queues || !kernel_kicks(vdev, q))
		return;
	__atomic_fetch_and(&vdev->kernel_kicks, ~BIT(q), __ATOMIC_RELAXED);
	loop_mod(vdev->pf->loop, vdev->vqs[q].kick_fd, EPOLLIN);
}

/* The interrupt fd fired: tell the guest, as the device would have. */
static void on_call(void *opaque, uint32_t events)
{
	struct virtio_dev *vdev = opaque;
	uint64_t n;

	if (read(vdev->call_fd, &n, sizeof(n)) != sizeof(n))
		return;
	/* Any queue: without MSI-X they all raise the same ISR bit and line. */
	if ((__atomic_load_n(&vdev->status, __ATOMIC_ACQUIRE) & VIRTIO_STATUS_DRIVER_OK) &&
	    vdev->tops && vdev->tops->notify_queue)
		vdev->tops->notify_queue(vdev, 0);
}

int virtio_call_fd_open(struct virtio_dev *vdev)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), ret;

	if (fd < 0) {
		ret = -errno;
		err_msg("%s: eventfd: %s", vdev->name, strerror(errno));
		return ret;
	}
	ret = loop_add(vdev->pf->loop, fd, EPOLLIN, on_call, vdev);
	if (ret < 0) {
		err_msg("%s: cannot watch its interrupt eventfd: %s", vdev->name,
			strerror(-ret));
		close(fd);
		return ret;
	}
	vdev->call_fd = fd;
	return 0;
}

void virtio_call_fd_close(struct virtio_dev *vdev)
{
	if (vdev->call_fd < 0)
		return;
	loop_del(vdev->pf->loop, vdev->call_fd);
	close(vdev->call_fd);
	vdev->call_fd = -1;
}

int virtio_call_fd(struct virtio_dev *vdev, unsigned q)
{
	if (q >= vdev->num_queues)
		return -EINVAL;
	if (vdev->tops && vdev->tops->call_fd)
		return vdev->tops->call_fd(vdev, q);
	return vdev->call_fd >= 0 ? vdev->call_fd : -ENODEV;
}

void virtio_notify(struct virtio_dev *vdev, unsigned q)
{
	if (q < vdev->num_queues && virtq_should_notify(&vdev->vqs[q]) &&
	    vdev->tops && vdev->tops->notify_queue)
		vdev->tops->notify_queue(vdev, q);
}

/* Before DRIVER_OK there is no handler for the interrupt yet. */
static void notify_config(struct virtio_dev *vdev)
{
	if ((__atomic_load_n(&vdev->status, __ATOMIC_ACQUIRE) & VIRTIO_STATUS_DRIVER_OK) &&
	    vdev->tops && vdev->tops->notify_config)
		vdev->tops->notify_config(vdev);
}

void virtio_config_changed(struct virtio_dev *vdev)
{
	__atomic_add_fetch(&vdev->config_generation, 1, __ATOMIC_RELEASE);
	notify_config(vdev);
}

void virtio_needs_reset(struct virtio_dev *vdev, const char *why)
{
	uint8_t old = __atomic_fetch_or(&vdev->status, VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_ACQ_REL);

	for (unsigned q = 0; q < vdev->num_queues; q++)
		__atomic_store_n(&vdev->vqs[q].broken, true, __ATOMIC_RELAXED);
	/*
	 * Warn once per device: a guest that breaks it in a loop must not flood
	 * the log. Later reasons still go to the debug log (EMBER_DEBUG=1).
	 */
	if (!__atomic_exchange_n(&vdev->reset_logged, true, __ATOMIC_RELAXED))
		warn_msg("%s needs reset: %s; the device stops until the guest resets it",
			 vdev->name, why);
	else
		debug_msg("%s needs reset: %s", vdev->name, why);
	if (!(old & VIRTIO_STATUS_NEEDS_RESET))
		notify_config(vdev);
}
