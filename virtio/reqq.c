/* The request-queue pump of virtio-blk and virtio-scsi; see reqq.h. */
#include "virtio/reqq.h"
#include "virtio/virtio.h"

void reqq_slot_free(struct reqq *q, struct reqq_slot *s)
{
	s->next = q->free;
	q->free = s;
}

void reqq_push(struct reqq *q, struct reqq_slot *s, uint32_t len)
{
	virtq_push(&q->vdev->vqs[q->index], &s->elem, len);
	q->pushed = true;
	reqq_slot_free(q, s);
}

/* 1: a chain was handled; 0: the ring is empty; -1: stalled or broken. */
static int pop_one(struct reqq *q, struct virtq *vq)
{
	struct reqq_slot *s = q->free;
	int ret;

	if (!s) {
		q->stalled = true;	/* a completion restarts us */
		return -1;
	}
	ret = virtq_pop(vq, &s->elem);
	if (ret < 0) {
		virtio_needs_reset(q->vdev, vq->why);
		return -1;
	}
	if (!ret)
		return 0;
	q->free = s->next;
	q->handle(q, s);
	return 1;
}

void reqq_process(struct reqq *q)
{
	struct virtq *vq = &q->vdev->vqs[q->index];
	int ret;

	q->stalled = false;
	for (;;) {
		virtq_set_notification(vq, false);
		while ((ret = pop_one(q, vq)) > 0)
			;
		if (ret < 0)
			break;		/* kicks stay off until we are restarted */
		virtq_set_notification(vq, true);
		/* A chain the driver added before it saw the flag gets no kick. */
		if (pop_one(q, vq) <= 0)
			break;
	}
}

void reqq_notify(struct reqq *q)
{
	if (q->pushed) {
		q->pushed = false;
		virtio_notify(q->vdev, q->index);
	}
}
