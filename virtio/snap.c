/*
 * A virtio device's transport-independent state in a snapshot: features,
 * status, and each queue's addresses, size and ring indexes. A restore
 * starts the queues as DRIVER_OK would, then puts the indexes back.
 */
#include <errno.h>
#include <string.h>

#include "lib/log.h"
#include "lib/snapfile.h"
#include "virtio/virtio.h"

struct vq_snap {
	uint64_t desc_gpa, driver_gpa, device_gpa;
	uint16_t size, msix_vector, last_avail, used_idx, signalled_used;
	uint8_t enabled, avail_wrap, used_wrap, signalled_valid;
};

struct vdev_snap {
	uint64_t host_features, guest_features;
	uint32_t config_generation, num_queues;
	uint16_t config_vector;
	uint8_t status, isr;
	struct vq_snap vq[VIRTIO_MAX_QUEUES];
};

/*
 * The ring as if the chains the device holds had not been popped: the
 * restored device pops them again from the driver's ring in guest RAM,
 * which still has them.
 */
static void unpop(const struct virtq *vq, struct virtq_held h, struct vq_snap *s)
{
	if (!vq->packed) {
		s->last_avail -= h.chains;
		return;
	}
	if (s->last_avail < h.descs) {
		s->last_avail += vq->size;
		s->avail_wrap = !s->avail_wrap;
	}
	s->last_avail -= h.descs;
}

/* Under vdev->lock, with no request in flight (the device drained them). */
void virtio_save(struct virtio_dev *vdev, struct snapw *w, const struct virtq_held *held)
{
	struct vdev_snap s;

	memset(&s, 0, sizeof(s));
	s.host_features = vdev->host_features;
	s.guest_features = vdev->guest_features;
	s.config_generation = __atomic_load_n(&vdev->config_generation, __ATOMIC_RELAXED);
	s.num_queues = vdev->num_queues;
	s.config_vector = vdev->config_vector;
	s.status = __atomic_load_n(&vdev->status, __ATOMIC_ACQUIRE);
	s.isr = __atomic_load_n(&vdev->isr, __ATOMIC_RELAXED);
	for (unsigned q = 0; q < vdev->num_queues; q++) {
		const struct virtq *vq = &vdev->vqs[q];

		s.vq[q] = (struct vq_snap){
			.desc_gpa = vq->desc_gpa, .driver_gpa = vq->driver_gpa,
			.device_gpa = vq->device_gpa, .size = vq->size,
			.msix_vector = vq->msix_vector, .last_avail = vq->last_avail,
			.used_idx = vq->used_idx, .signalled_used = vq->signalled_used,
			.enabled = vq->enabled, .avail_wrap = vq->avail_wrap,
			.used_wrap = vq->used_wrap, .signalled_valid = vq->signalled_valid,
		};
		if (held && held[q].chains)
			unpop(vq, held[q], &s.vq[q]);
	}
	snapw_put(w, &s, sizeof(s));
}

size_t virtio_snap_size(void)
{
	return sizeof(struct vdev_snap);
}

/* What the driver set up: before DRIVER_OK starts the queue. */
static void set_layout(struct virtq *vq, const struct vq_snap *s)
{
	vq->desc_gpa = s->desc_gpa;
	vq->driver_gpa = s->driver_gpa;
	vq->device_gpa = s->device_gpa;
	vq->size = s->size;
	vq->msix_vector = s->msix_vector;
	vq->enabled = s->enabled;
}

/* Where the rings were: after the start, which zeroes them. */
static void set_indexes(struct virtq *vq, const struct vq_snap *s)
{
	vq->last_avail = s->last_avail;
	vq->used_idx = s->used_idx;
	vq->signalled_used = s->signalled_used;
	vq->avail_wrap = s->avail_wrap;
	vq->used_wrap = s->used_wrap;
	vq->signalled_valid = s->signalled_valid;
}

int virtio_load(struct virtio_dev *vdev, const void *data, size_t len)
{
	struct vdev_snap s;

	if (len != sizeof(s)) {
		err_msg("state file: %s's section has %zu bytes, this ember wants %zu", vdev->name,
			len, sizeof(s));
		return -EINVAL;
	}
	memcpy(&s, data, len);
	if (s.host_features != vdev->host_features || s.num_queues != vdev->num_queues) {
		err_msg("state file: %s had other features or queues (other device options)",
			vdev->name);
		return -EINVAL;
	}
	pthread_mutex_lock(&vdev->lock);
	vdev->guest_features = s.guest_features;
	vdev->config_generation = s.config_generation;
	vdev->config_vector = s.config_vector;
	for (unsigned q = 0; q < vdev->num_queues; q++)
		set_layout(&vdev->vqs[q], &s.vq[q]);
	/* DRIVER_OK checks and starts the queues and the device, as the driver's write does. */
	virtio_set_status(vdev, s.status & ~VIRTIO_STATUS_NEEDS_RESET);
	for (unsigned q = 0; q < vdev->num_queues; q++) {
		struct virtq *vq = &vdev->vqs[q];

		set_indexes(vq, &s.vq[q]);
		/* what the driver queued while the snapshot was taken is served now */
		if (vq->enabled && vq->mem)
			virtio_queue_doorbell(vdev, q);
	}
	__atomic_or_fetch(&vdev->status, s.status & VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vdev->lock);
	/* An interrupt pending at the snapshot: raised again (a spurious one is harmless). */
	if (s.isr && vdev->tops && vdev->tops->notify_queue)
		vdev->tops->notify_queue(vdev, 0);
	return 0;
}
