/*
 * virtio-blk (virtio 1.2 section 5.2) over a -blockdev node: the device
 * types "virtio-blk-device" (virtio-mmio) and "virtio-blk-pci".
 *
 * Requests are popped on the loop thread (queue_notify, under vdev->lock)
 * into slots pre-allocated per queue, parsed (blk_req.c) and handed to the
 * block layer; completions come back on the loop thread, write the status
 * byte and go to the used ring, with one interrupt per completion batch.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/block.h"
#include "backends/block_batch.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/util.h"
#include "virtio/blk.h"
#include "virtio/reqq.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

struct vblk;

struct vblk_slot {
	struct blk_req req;
	struct vblk_queue *q;
	uint8_t *status;		/* in guest RAM, from the checked iovecs */
	uint32_t written;		/* used length to report */
	uint32_t gen;			/* device generation at submission */
	struct reqq_slot rs;		/* the chain */
};

struct vblk_queue {
	struct vblk *vb;
	struct reqq rq;			/* virtqueue rq.index */
	struct vblk_slot *slots;
};

struct vblk {
	/* Properties. */
	char *drive, *serial, *write_cache;
	bool write_through;		/* write-cache=off: no FLUSH feature, durable writes */
	uint32_t num_queues, queue_size, block_size;
	struct virtio_link link;	/* bus=, addr=; on which transport */

	/* Guest-visible state. */
	struct virtio_dev vdev;
	struct virtio_blk_config cfg;
	struct blk_limits lim;		/* from the negotiated features */
	uint64_t features;

	struct platform *pf;
	struct blk *blk;
	uint32_t gen;			/* bumped by reset: older completions are dropped */
	struct vblk_queue *queues;
};

static struct vblk *to_vblk(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vblk, vdev);
}

/* ---- the data path (loop thread, under vdev->lock) ---- */

static void slot_free(struct vblk_queue *q, struct vblk_slot *s)
{
	reqq_slot_free(&q->rq, &s->rs);
}

static void reply(struct vblk_queue *q, struct vblk_slot *s, uint8_t status)
{
	*s->status = status;
	reqq_push(&q->rq, &s->rs, status == VIRTIO_BLK_S_OK ? s->written : 1);
}

static void on_done(struct blk_req *r, int result);

/* One popped chain: answered now, or handed to the block layer. */
static void handle(struct reqq *rq, struct reqq_slot *rs)
{
	struct vblk_queue *q = container_of(rq, struct vblk_queue, rq);
	struct vblk_slot *s = container_of(rs, struct vblk_slot, rs);
	struct vblk *vb = q->vb;
	struct blk_parsed p;
	int ret;

	s->q = q;	/* a slot is set up as first used (reqq_pool) */
	if (blk_parse(&s->rs.elem, &vb->lim, &p) < 0) {
		slot_free(q, s);
		virtio_needs_reset(&vb->vdev, "request without a writable status byte");
		return;
	}
	s->status = p.status_byte;
	s->written = 1;
	s->gen = vb->gen;
	if (p.status != VIRTIO_BLK_S_OK) {
		reply(q, s, p.status);
		return;
	}
	blk_trim_iov(&s->rs.elem, &p);
	if (p.type == VIRTIO_BLK_T_GET_ID) {
		s->written += blk_write_id(&s->rs.elem, &p, vb->serial);
		reply(q, s, VIRTIO_BLK_S_OK);
		return;
	}
	if (p.op != BLK_FLUSH && !p.len) {
		reply(q, s, VIRTIO_BLK_S_OK);
		return;
	}
	if (p.op == BLK_READ)
		s->written += p.in_data;
	s->req = (struct blk_req){
		.op = p.op, .offset = p.offset, .len = p.len,
		.iov = &s->rs.elem.iov[p.iov_first], .iovcnt = p.iov_count,
		.unmap = p.unmap, .done = on_done, .opaque = s,
	};
	ret = blk_submit(vb->blk, q->rq.index, &s->req);
	if (ret) {
		warn_once("%s: request refused by the block layer: %s", vb->vdev.name,
			  strerror(-ret));
		reply(q, s, VIRTIO_BLK_S_IOERR);
	}
}

static bool live(struct vblk *vb, unsigned qi)
{
	uint8_t st = __atomic_load_n(&vb->vdev.status, __ATOMIC_ACQUIRE);

	return !vb->link.dying && vb->vdev.vqs[qi].enabled &&
	       (st & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

static void process(struct vblk_queue *q)
{
	reqq_process(&q->rq);
	blk_flush_queue(q->vb->blk, q->rq.index);
	reqq_notify(&q->rq);
}

static void on_done(struct blk_req *r, int result)
{
	struct vblk_slot *s = r->opaque;
	struct vblk_queue *q = s->q;
	struct vblk *vb = q->vb;

	pthread_mutex_lock(&vb->vdev.lock);
	if (s->gen != vb->gen || vb->link.dying)
		slot_free(q, s);	/* the driver reset the device meanwhile */
	else
		reply(q, s, result < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
	pthread_mutex_unlock(&vb->vdev.lock);
}

/* After a batch of completions: one interrupt, and resume a stalled queue. */
static void on_batch(void *opaque, unsigned qi)
{
	struct vblk *vb = opaque;
	struct vblk_queue *q = &vb->queues[qi];

	pthread_mutex_lock(&vb->vdev.lock);
	if (q->rq.stalled && live(vb, qi))
		process(q);
	else
		reqq_notify(&q->rq);
	pthread_mutex_unlock(&vb->vdev.lock);
}

/* ---- virtio_dev_ops (under vdev->lock) ---- */

static void vblk_queue_notify(struct virtio_dev *vdev, unsigned qi)
{
	struct vblk *vb = to_vblk(vdev);

	if (qi < vb->num_queues && live(vb, qi))
		process(&vb->queues[qi]);
}

static uint64_t vblk_get_features(struct virtio_dev *vdev)
{
	return to_vblk(vdev)->features;
}

static void vblk_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	memcpy(data, (uint8_t *)&to_vblk(vdev)->cfg + off, len);
}

static int vblk_activate(struct virtio_dev *vdev)
{
	struct vblk *vb = to_vblk(vdev);

	vb->lim.discard = vdev->guest_features & BIT(VIRTIO_BLK_F_DISCARD);
	vb->lim.write_zeroes = vdev->guest_features & BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	return 0;
}

/*
 * Requests in flight cannot be called back from the kernel; they finish in
 * the background and their completions are dropped (gen).
 */
static void vblk_reset(struct virtio_dev *vdev)
{
	struct vblk *vb = to_vblk(vdev);

	vb->gen++;
	/* Requests held back by throttling.* are dropped, not started later. */
	blk_drop_waiting(vb->blk);
	vb->lim.discard = vb->lim.write_zeroes = false;
	for (unsigned i = 0; i < vb->num_queues; i++)
		vb->queues[i].rq.stalled = vb->queues[i].rq.pushed = false;
}

static const struct virtio_dev_ops vblk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.get_features = vblk_get_features,
	/* Up to write_zeroes_may_unmap: no secure erase. */
	.config_size = offsetof(struct virtio_blk_config, max_secure_erase_sectors),
	.read_config = vblk_read_config,
	.activate = vblk_activate,
	.reset = vblk_reset,
	.queue_notify = vblk_queue_notify,
};

/* ---- creation ---- */

static void setup_config(struct vblk *vb)
{
	struct virtio_blk_config *c = &vb->cfg;
	uint32_t bs_sectors = vb->block_size / VIRTIO_BLK_SECTOR;
	bool ro = blk_read_only(vb->blk), discard = blk_discard_supported(vb->blk);

	vb->lim.capacity = ALIGN_DOWN(blk_size(vb->blk) / VIRTIO_BLK_SECTOR,
				      (uint64_t)bs_sectors);
	vb->lim.block_size = vb->block_size;
	vb->lim.ro = ro;
	/* Without FLUSH the guest knows there is no volatile cache (write through). */
	vb->features = BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
		       (vb->write_through ? 0 : BIT(VIRTIO_BLK_F_FLUSH));
	if (vb->num_queues > 1)
		vb->features |= BIT(VIRTIO_BLK_F_MQ);
	if (ro)
		vb->features |= BIT(VIRTIO_BLK_F_RO);
	else
		vb->features |= BIT(VIRTIO_BLK_F_WRITE_ZEROES) |
				(discard ? BIT(VIRTIO_BLK_F_DISCARD) : 0);

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(vb->lim.capacity);
	/*
	 * A request is header + segments + status. Without indirect descriptors
	 * Linux must fit it in the ring, so a small queue means fewer segments
	 * (with more, a 16-entry queue hangs the guest's I/O).
	 */
	c->seg_max = htole32(MIN(vb->queue_size, (uint32_t)VIRTQ_MAX_IOV) - 2);
	c->blk_size = htole32(vb->block_size);
	c->min_io_size = htole16(1);
	c->num_queues = htole16(vb->num_queues);
	c->max_discard_sectors = htole32(VIRTIO_BLK_MAX_DWZ_SECTORS);
	c->max_discard_seg = htole32(VIRTIO_BLK_MAX_DWZ_SEG);
	c->discard_sector_alignment = htole32(bs_sectors);
	c->max_write_zeroes_sectors = htole32(VIRTIO_BLK_MAX_DWZ_SECTORS);
	c->max_write_zeroes_seg = htole32(VIRTIO_BLK_MAX_DWZ_SEG);
	c->write_zeroes_may_unmap = discard;
}

static int alloc_queues(struct vblk *vb, const char *owner)
{
	vb->queues = calloc(vb->num_queues, sizeof(*vb->queues));
	if (!vb->queues)
		goto nomem;
	for (unsigned i = 0; i < vb->num_queues; i++) {
		struct vblk_queue *q = &vb->queues[i];

		q->vb = vb;
		q->rq = (struct reqq){ .vdev = &vb->vdev, .index = i, .handle = handle };
		q->slots = calloc(vb->queue_size, sizeof(*q->slots));
		if (!q->slots)
			goto nomem;
		reqq_pool(&q->rq, q->slots, vb->queue_size, sizeof(*q->slots),
			  offsetof(struct vblk_slot, rs));
	}
	return 0;
nomem:
	err_msg("%s: out of memory", owner);
	return -ENOMEM;
}

static void free_queues(struct vblk *vb)
{
	for (unsigned i = 0; vb->queues && i < vb->num_queues; i++)
		free(vb->queues[i].slots);
	free(vb->queues);
	vb->queues = NULL;
}

static int check_props(struct vblk *vb, const char *owner)
{
	if (vb->queue_size & (vb->queue_size - 1)) {
		err_msg("%s: queue-size=%u is not a power of 2", owner, vb->queue_size);
		return -EINVAL;
	}
	if (vb->block_size & (vb->block_size - 1)) {
		err_msg("%s: logical_block_size=%u is not a power of 2", owner, vb->block_size);
		return -EINVAL;
	}
	if (vb->serial && strlen(vb->serial) > VIRTIO_BLK_ID_BYTES) {
		err_msg("%s: serial '%s' is longer than %d bytes", owner, vb->serial,
			VIRTIO_BLK_ID_BYTES);
		return -EINVAL;
	}
	if (!strcmp(vb->write_cache, "off"))
		vb->write_through = true;
	else if (strcmp(vb->write_cache, "on") && strcmp(vb->write_cache, "auto")) {
		err_msg("%s: write-cache=%s: expected on, off or auto", owner, vb->write_cache);
		return -EINVAL;
	}
	vb->blk = blk_find(vb->drive);
	if (!vb->blk) {
		err_msg("%s: no -blockdev with node-name '%s'", owner, vb->drive);
		return -ENOENT;
	}
	if (blk_size(vb->blk) < vb->block_size)
		warn_msg("%s: drive '%s' is smaller than one block: the guest sees no data",
			 owner, vb->drive);
	return 0;
}

static void vblk_unrealize(struct device *dev, struct platform *pf)
{
	struct vblk *vb = dev->state;

	/* Completions still due free their slots and touch nothing else. */
	if (vb->blk && vb->queues)
		blk_detach(vb->blk);
	free_queues(vb);
}

static int vblk_realize(struct device *dev, struct platform *pf, const char *owner)
{
	struct vblk *vb = dev->state;
	char name[48];
	int ret;

	vb->pf = pf;
	ret = check_props(vb, owner);
	if (ret)
		return ret;
	ret = alloc_queues(vb, owner);
	if (!ret)
		ret = blk_attach(vb->blk, owner, vb->num_queues, vb->queue_size);
	if (!ret)
		blk_set_write_through(vb->blk, vb->write_through);
	if (ret) {
		free_queues(vb);
		return ret;
	}
	blk_set_batch_end(vb->blk, on_batch, vb);
	setup_config(vb);
	snprintf(name, sizeof(name), "virtio-blk %s", dev->id ? dev->id : vb->drive);
	ret = virtio_dev_init(&vb->vdev, &vblk_ops, pf, vb->num_queues, vb->queue_size, name);
	if (ret)
		vblk_unrealize(dev, pf);
	return ret;
}

static const struct prop vblk_props[] = {
	{ "drive", PROP_STR, offsetof(struct vblk, drive), NULL,
	  "node-name of the -blockdev to use", .required = 1 },
	{ "serial", PROP_STR, offsetof(struct vblk, serial), NULL,
	  "disk serial number (up to 20 bytes)" },
	{ "num-queues", PROP_U32, offsetof(struct vblk, num_queues), "1",
	  "request queues", .min = 1, .max = VIRTIO_MAX_QUEUES },
	{ "queue-size", PROP_U32, offsetof(struct vblk, queue_size), "256",
	  "entries per queue (power of 2)", .min = 2, .max = 1024 },
	{ "logical_block_size", PROP_U32, offsetof(struct vblk, block_size),
	  "512", "logical block size (power of 2)", .min = 512, .max = 4096 },
	{ "write-cache", PROP_STR, offsetof(struct vblk, write_cache), "auto",
	  "on, auto: a volatile write cache the guest flushes; off: each write durable "
	  "(write through)" },
	{ NULL }
};

/* Machine reset: reads still running must not land in the next boot's RAM. */
static void vblk_quiesce(struct device *dev)
{
	struct vblk *vb = dev->state;

	if (vb->blk)
		blk_drain(vb->blk);
}

static const struct virtio_dev_type vblk_type = {
	.snapshot = true,
	.stem = "virtio-blk",
	.desc = "virtio block device",
	VIRTIO_STATE(struct vblk),
	.props = vblk_props,
	.realize = vblk_realize,
	.unrealize = vblk_unrealize,
	.quiesce = vblk_quiesce,
	.hotplug = true,
};
VIRTIO_DEV_TYPE(vblk_type)
