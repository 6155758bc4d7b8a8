/*
 * virtio-scsi (virtio 1.2 section 5.6) in QEMU's model: a host controller
 * ("virtio-scsi-device" on virtio-mmio, "virtio-scsi-pci") provides a SCSI
 * bus ID.0; "scsi-hd" and "scsi-cd" plug into it, each over a -blockdev
 * node, at a target (scsi-id=) and LUN (lun=).
 *
 * Queues: 0 control (task management answered at once), 1 event (kept:
 * hotplug events are not sent yet), then the request queues. Commands are
 * popped on the loop thread (under vdev->lock) into slots pre-allocated per
 * queue and parsed (scsi_req.c); what a unit answers itself is built by
 * devices/scsi_disk.c and returned at once, reads and writes go to the
 * unit's node through the block layer, request queue i on the node's ring
 * i. Completions come back on the loop thread, with one interrupt per
 * completion batch.
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
#include "devices/scsi_disk.h"
#include "lib/log.h"
#include "lib/util.h"
#include "virtio/reqq.h"
#include "virtio/scsi.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

#define CTRL_Q		0
#define EVENT_Q		1
#define REQ_Q		2	/* the first request queue */
#define MAX_UNITS	64	/* per controller */
#define OP_REPORT_LUNS	0xa0

struct vscsi;

/* scsi-hd, scsi-cd */
struct scsi_unit {
	/* Properties. */
	char *drive, *bus, *serial, *vendor, *product, *write_cache;
	uint32_t scsi_id, lun, block_size;

	struct scsi_disk disk;
	struct blk *blk;
	struct vscsi *vs;
	bool gone;			/* being unrealized, under vs->vdev.lock */
};

struct vscsi_slot {
	struct blk_req req;
	struct vscsi_queue *q;
	struct scsi_unit *unit;
	uint32_t gen;			/* device generation at submission */
	uint32_t resid;			/* data bytes the guest gave beyond the transfer */
	bool read;
	struct vscsi_cmd cmd;
	struct iovec data[VIRTQ_MAX_IOV];
	struct reqq_slot rs;		/* the chain */
};

struct vscsi_queue {
	struct vscsi *vs;
	struct reqq rq;			/* virtqueue rq.index */
	struct vscsi_slot *slots;
};

struct vscsi {
	/* Properties. */
	uint32_t num_queues, queue_size;
	struct virtio_link link;

	/* Guest-visible state. */
	struct virtio_dev vdev;
	struct virtio_scsi_config cfg;

	uint32_t gen;
	struct vscsi_queue *queues;	/* num_queues request queues */
	struct scsi_unit *units[MAX_UNITS];
	unsigned nunits;
	struct virtq_elem ctrl_elem;
	uint8_t buf[SCSI_BUF_SIZE], param[SCSI_BUF_SIZE];
};

static struct vscsi *to_vscsi(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vscsi, vdev);
}

static struct scsi_unit *unit_find(struct vscsi *vs, uint32_t target, uint32_t lun)
{
	for (unsigned i = 0; i < vs->nunits; i++)
		if (vs->units[i]->scsi_id == target && vs->units[i]->lun == lun)
			return vs->units[i];
	return NULL;
}

static bool target_exists(struct vscsi *vs, uint32_t target)
{
	for (unsigned i = 0; i < vs->nunits; i++)
		if (vs->units[i]->scsi_id == target)
			return true;
	return false;
}

static bool live(struct vscsi *vs, unsigned qi)
{
	uint8_t st = __atomic_load_n(&vs->vdev.status, __ATOMIC_ACQUIRE);

	return !vs->link.dying && vs->vdev.vqs[qi].enabled &&
	       (st & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

/* ---- the data path (loop thread, under vdev->lock) ---- */

static void slot_free(struct vscsi_queue *q, struct vscsi_slot *s)
{
	reqq_slot_free(&q->rq, &s->rs);
}

/* The response (and @data bytes of data-in already written) back to the guest. */
static void finish(struct vscsi_queue *q, struct vscsi_slot *s, uint8_t response,
		   const struct scsi_cmd *sc, uint32_t data, uint32_t resid)
{
	struct virtio_scsi_cmd_resp r;

	memset(&r, 0, sizeof(r));
	r.response = response;
	r.resid = htole32(resid);
	if (sc) {
		r.status = sc->status;
		r.sense_len = htole32(sc->sense_len);
		memcpy(r.sense, sc->sense, sc->sense_len);
	}
	vscsi_copy_in(&s->rs.elem, 0, &r, sizeof(r));
	reqq_push(&q->rq, &s->rs, sizeof(r) + data);
}

/* Cuts the segments @iov[0..*n) to @len bytes. */
static void iov_cut(struct iovec *iov, unsigned *n, uint64_t len)
{
	unsigned i = 0;

	for (; i < *n && len; i++) {
		if (iov[i].iov_len > len)
			iov[i].iov_len = len;
		len -= iov[i].iov_len;
	}
	*n = i;
}

static void on_done(struct blk_req *r, int result);

/* A read or write of the unit's node: needs the guest's buffer to hold it. */
static void submit(struct vscsi_queue *q, struct vscsi_slot *s, struct scsi_unit *u,
		   const struct scsi_cmd *sc)
{
	struct vscsi_cmd *c = &s->cmd;
	struct iovec *iov = NULL;
	unsigned n = 0;
	int ret;

	s->read = sc->op == BLK_READ;
	s->resid = 0;
	if (sc->op == BLK_READ || sc->op == BLK_WRITE) {
		uint64_t have = s->read ? c->din_len : c->dout_len;

		if (have < sc->len) {
			finish(q, s, VIRTIO_SCSI_S_OVERRUN, NULL, 0, 0);
			return;
		}
		iov = s->read ? s->data + c->dout_num : s->data;
		n = s->read ? c->din_num : c->dout_num;
		iov_cut(iov, &n, sc->len);
		s->resid = have - sc->len;
	}
	s->unit = u;
	s->req = (struct blk_req){
		.op = sc->op, .offset = sc->offset, .len = sc->len, .iov = iov, .iovcnt = n,
		.unmap = sc->unmap, .done = on_done, .opaque = s,
	};
	ret = blk_submit(u->blk, q->rq.index - REQ_Q, &s->req);
	if (ret) {
		struct scsi_cmd err;

		warn_once("%s: request refused by the block layer: %s", q->vs->vdev.name,
			  strerror(-ret));
		scsi_check(&err, SENSE_MEDIUM_ERROR, s->read ? ASC_READ_ERROR : ASC_WRITE_ERROR);
		finish(q, s, VIRTIO_SCSI_S_OK, &err, 0, s->resid);
	}
}

/* The LUNs of @target, for REPORT LUNS. */
static unsigned luns_of(struct vscsi *vs, uint8_t target, uint16_t *luns)
{
	unsigned n = 0;

	for (unsigned i = 0; i < vs->nunits; i++)
		if (vs->units[i]->scsi_id == target)
			luns[n++] = vs->units[i]->lun;
	return n;
}

static void handle(struct reqq *rq, struct reqq_slot *rs)
{
	struct vscsi_queue *q = container_of(rq, struct vscsi_queue, rq);
	struct vscsi_slot *s = container_of(rs, struct vscsi_slot, rs);
	struct vscsi *vs = q->vs;
	struct vscsi_cmd *c = &s->cmd;
	struct scsi_unit *u;
	struct scsi_cmd sc;
	uint16_t luns[MAX_UNITS];
	size_t param = 0;
	uint32_t put;

	if (vscsi_parse_cmd(&s->rs.elem, c, s->data) < 0) {
		slot_free(q, s);
		virtio_needs_reset(&vs->vdev, "command without room for its header or response");
		return;
	}
	s->gen = vs->gen;
	if (!c->lun_ok || !target_exists(vs, c->target)) {
		finish(q, s, VIRTIO_SCSI_S_BAD_TARGET, NULL, 0, c->din_len);
		return;
	}
	u = unit_find(vs, c->target, c->lun);
	if (c->cdb[0] == OP_REPORT_LUNS) {
		scsi_report_luns(c->cdb, sizeof(c->cdb), luns, luns_of(vs, c->target, luns),
				 vs->buf, &sc);
	} else if (!u) {
		scsi_no_lun_exec(c->cdb, sizeof(c->cdb), vs->buf, &sc);
	} else {
		if (scsi_wants_param(c->cdb[0]))
			param = vscsi_iov_read(s->data, c->dout_num, vs->param, sizeof(vs->param));
		scsi_disk_exec(&u->disk, c->cdb, sizeof(c->cdb), vs->param, param, vs->buf, &sc);
		if (sc.action == SCSI_IO) {
			submit(q, s, u, &sc);
			return;
		}
	}
	put = vscsi_iov_fill(s->data + c->dout_num, c->din_num, vs->buf, sc.data_len);
	finish(q, s, VIRTIO_SCSI_S_OK, &sc, put, c->din_len - put);
}

static void process(struct vscsi_queue *q)
{
	struct vscsi *vs = q->vs;

	reqq_process(&q->rq);
	for (unsigned i = 0; i < vs->nunits; i++)
		blk_flush_queue(vs->units[i]->blk, q->rq.index - REQ_Q);
	reqq_notify(&q->rq);
}

static void on_done(struct blk_req *r, int result)
{
	struct vscsi_slot *s = r->opaque;
	struct vscsi_queue *q = s->q;
	struct vscsi *vs = q->vs;
	struct scsi_cmd err, *sc = NULL;
	uint32_t data = 0;

	pthread_mutex_lock(&vs->vdev.lock);
	if (s->gen != vs->gen || vs->link.dying || s->unit->gone) {
		slot_free(q, s);	/* the driver reset the device meanwhile */
	} else {
		if (result < 0) {
			scsi_check(&err, SENSE_MEDIUM_ERROR,
				   s->read ? ASC_READ_ERROR : ASC_WRITE_ERROR);
			sc = &err;
		} else if (s->read) {
			data = s->req.len;
		}
		finish(q, s, VIRTIO_SCSI_S_OK, sc, data, s->resid);
	}
	pthread_mutex_unlock(&vs->vdev.lock);
}

static void on_batch(void *opaque, unsigned ring)
{
	struct scsi_unit *u = opaque;
	struct vscsi *vs = u->vs;
	struct vscsi_queue *q;

	if (!vs)
		return;
	pthread_mutex_lock(&vs->vdev.lock);
	q = &vs->queues[ring];
	if (q->rq.stalled && live(vs, q->rq.index))
		process(q);
	else
		reqq_notify(&q->rq);
	pthread_mutex_unlock(&vs->vdev.lock);
}

static bool lun_exists(void *opaque, uint8_t target, uint16_t lun)
{
	return unit_find(opaque, target, lun) != NULL;
}

/* Task management and event subscriptions: answered at once. */
static void control(struct vscsi *vs)
{
	struct virtq *vq = &vs->vdev.vqs[CTRL_Q];
	bool pushed = false;
	int ret;

	while ((ret = virtq_pop(vq, &vs->ctrl_elem)) > 0) {
		virtq_push(vq, &vs->ctrl_elem, vscsi_ctrl(&vs->ctrl_elem, lun_exists, vs));
		pushed = true;
	}
	if (ret < 0)
		virtio_needs_reset(&vs->vdev, vq->why);
	if (pushed)
		virtio_notify(&vs->vdev, CTRL_Q);
}

/* ---- virtio_dev_ops (under vdev->lock) ---- */

static void vscsi_queue_notify(struct virtio_dev *vdev, unsigned qi)
{
	struct vscsi *vs = to_vscsi(vdev);

	if (!live(vs, qi))
		return;
	if (qi == CTRL_Q)
		control(vs);
	else if (qi >= REQ_Q && qi - REQ_Q < vs->num_queues)
		process(&vs->queues[qi - REQ_Q]);
	/* The event queue's buffers wait for events (none are sent yet). */
}

static uint64_t vscsi_get_features(struct virtio_dev *vdev)
{
	return 0;
}

static void vscsi_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	memcpy(data, (uint8_t *)&to_vscsi(vdev)->cfg + off, len);
}

/*
 * sense_size and cdb_size are writable in the spec; Linux writes the
 * defaults, which are the only sizes served, so writes are ignored.
 */
static void vscsi_write_config(struct virtio_dev *vdev, uint32_t off, const void *data,
			       unsigned len)
{
}

static void vscsi_reset(struct virtio_dev *vdev)
{
	struct vscsi *vs = to_vscsi(vdev);

	vs->gen++;
	for (unsigned i = 0; i < vs->nunits; i++)
		blk_drop_waiting(vs->units[i]->blk);
	for (unsigned i = 0; i < vs->num_queues; i++)
		vs->queues[i].rq.stalled = vs->queues[i].rq.pushed = false;
}

static const struct virtio_dev_ops vscsi_ops = {
	.device_id = VIRTIO_ID_SCSI,
	.get_features = vscsi_get_features,
	.config_size = sizeof(struct virtio_scsi_config),
	.read_config = vscsi_read_config,
	.write_config = vscsi_write_config,
	.reset = vscsi_reset,
	.queue_notify = vscsi_queue_notify,
};

/* ---- the controller ---- */

static void free_queues(struct vscsi *vs)
{
	for (unsigned i = 0; vs->queues && i < vs->num_queues; i++)
		free(vs->queues[i].slots);
	free(vs->queues);
	vs->queues = NULL;
}

static int alloc_queues(struct vscsi *vs, const char *owner)
{
	vs->queues = calloc(vs->num_queues, sizeof(*vs->queues));
	if (!vs->queues)
		goto nomem;
	for (unsigned i = 0; i < vs->num_queues; i++) {
		struct vscsi_queue *q = &vs->queues[i];

		q->vs = vs;
		q->rq = (struct reqq){ .vdev = &vs->vdev, .index = REQ_Q + i, .handle = handle };
		q->slots = calloc(vs->queue_size, sizeof(*q->slots));
		if (!q->slots)
			goto nomem;
		for (unsigned k = vs->queue_size; k-- > 0;) {
			q->slots[k].q = q;
			slot_free(q, &q->slots[k]);
		}
	}
	return 0;
nomem:
	free_queues(vs);
	err_msg("%s: out of memory", owner);
	return -ENOMEM;
}

static void vscsi_unrealize(struct device *dev, struct platform *pf)
{
	free_queues(dev->state);
}

static int vscsi_realize(struct device *dev, struct platform *pf, const char *owner)
{
	struct vscsi *vs = dev->state;
	struct virtio_scsi_config *c = &vs->cfg;
	char name[48];
	int ret;

	if (vs->queue_size & (vs->queue_size - 1)) {
		err_msg("%s: virtqueue_size=%u is not a power of 2", owner, vs->queue_size);
		return -EINVAL;
	}
	ret = alloc_queues(vs, owner);
	if (ret)
		return ret;
	c->num_queues = htole32(vs->num_queues);
	c->seg_max = htole32(MIN(vs->queue_size, (uint32_t)VIRTQ_MAX_IOV) - 2);
	c->max_sectors = htole32(SCSI_MAX_XFER_BLOCKS);
	c->cmd_per_lun = htole32(MIN(vs->queue_size, 128u));
	c->event_info_size = htole32(sizeof(struct virtio_scsi_event));
	c->sense_size = htole32(VIRTIO_SCSI_SENSE_SIZE);
	c->cdb_size = htole32(VIRTIO_SCSI_CDB_SIZE);
	c->max_target = htole16(VSCSI_MAX_TARGET);
	c->max_lun = htole32(VSCSI_MAX_LUN);
	snprintf(name, sizeof(name), "virtio-scsi %s", dev->id ? dev->id : "");
	ret = virtio_dev_init(&vs->vdev, &vscsi_ops, pf, REQ_Q + vs->num_queues,
			      vs->queue_size, name);
	if (ret)
		free_queues(vs);
	return ret;
}

/* Machine reset: reads still running must not land in the next boot's RAM. */
static void vscsi_quiesce(struct device *dev)
{
	struct vscsi *vs = dev->state;

	for (unsigned i = 0; i < vs->nunits; i++)
		blk_drain(vs->units[i]->blk);
}

static const struct prop vscsi_props[] = {
	{ "num_queues", PROP_U32, offsetof(struct vscsi, num_queues), "1",
	  "request queues", .min = 1, .max = VIRTIO_MAX_QUEUES - REQ_Q },
	{ "virtqueue_size", PROP_U32, offsetof(struct vscsi, queue_size), "256",
	  "entries per queue (power of 2)", .min = 4, .max = 1024 },
	{ NULL }
};

static const struct virtio_dev_type vscsi_type = {
	.stem = "virtio-scsi",
	.desc = "virtio SCSI host controller for scsi-hd and scsi-cd",
	.child_bus = "scsi-bus",
	VIRTIO_STATE(struct vscsi),
	.props = vscsi_props,
	.realize = vscsi_realize,
	.unrealize = vscsi_unrealize,
	.quiesce = vscsi_quiesce,
};
VIRTIO_DEV_TYPE(vscsi_type)

/* ---- scsi-hd, scsi-cd ---- */

static int check_str(const char *owner, const char *key, const char *v, size_t max)
{
	if (v && strlen(v) > max) {
		err_msg("%s: %s '%s' is longer than %zu bytes", owner, key, v, max);
		return -EINVAL;
	}
	return 0;
}

static int unit_props(struct scsi_unit *u, bool cd, const char *owner)
{
	int ret = check_str(owner, "vendor", u->vendor, 8);

	if (!ret)
		ret = check_str(owner, "product", u->product, 16);
	if (!ret)
		ret = check_str(owner, "serial", u->serial, 36);
	if (ret)
		return ret;
	if (u->scsi_id != UINT32_MAX && u->scsi_id > VSCSI_MAX_TARGET) {
		err_msg("%s: scsi-id=%u: expected 0 to %d", owner, u->scsi_id, VSCSI_MAX_TARGET);
		return -EINVAL;
	}
	if (cd)
		u->block_size = 2048;
	else if (u->block_size & (u->block_size - 1)) {
		err_msg("%s: logical_block_size=%u is not a power of 2", owner, u->block_size);
		return -EINVAL;
	}
	if (!cd && strcmp(u->write_cache, "on") && strcmp(u->write_cache, "off") &&
	    strcmp(u->write_cache, "auto")) {
		err_msg("%s: write-cache=%s: expected on, off or auto", owner, u->write_cache);
		return -EINVAL;
	}
	return 0;
}

/* Target and LUN: free on the bus; scsi-id unset takes the first target free at lun. */
static int place(struct scsi_unit *u, struct vscsi *vs, const char *owner, const char *bus)
{
	struct scsi_unit *other;

	if (vs->nunits == MAX_UNITS) {
		err_msg("%s: bus %s is full (%d units)", owner, bus, MAX_UNITS);
		return -ENOSPC;
	}
	if (u->scsi_id == UINT32_MAX) {
		for (u->scsi_id = 0; u->scsi_id <= VSCSI_MAX_TARGET; u->scsi_id++)
			if (!unit_find(vs, u->scsi_id, u->lun))
				return 0;
	}
	other = unit_find(vs, u->scsi_id, u->lun);
	if (other) {
		err_msg("%s: scsi-id=%u lun=%u on bus %s is taken by drive '%s'", owner,
			u->scsi_id, u->lun, bus, other->drive);
		return -EBUSY;
	}
	return 0;
}

static void unit_unrealize(struct device *dev, struct platform *pf)
{
	struct scsi_unit *u = dev->state;
	struct vscsi *vs = u->vs;
	unsigned i;

	if (!vs)
		return;
	pthread_mutex_lock(&vs->vdev.lock);
	u->gone = true;
	for (i = 0; i < vs->nunits && vs->units[i] != u; i++)
		;
	if (i < vs->nunits)
		vs->units[i] = vs->units[--vs->nunits];
	pthread_mutex_unlock(&vs->vdev.lock);
	/* Completions still due free their slots and touch nothing else. */
	blk_detach(u->blk);
	u->vs = NULL;
}

static int unit_realize(struct device *dev, struct platform *pf)
{
	struct scsi_unit *u = dev->state;
	bool cd = !strcmp(dev->type->name, "scsi-cd");
	struct device *parent;
	struct vscsi *vs;
	char owner[64], bus[80];
	int ret;

	snprintf(owner, sizeof(owner), "-device %s", dev->type->name);
	ret = unit_props(u, cd, owner);
	if (!ret)
		ret = device_find_parent(pf, dev->type, u->bus, owner, &parent);
	if (ret)
		return ret;
	vs = parent->state;
	snprintf(bus, sizeof(bus), "%s.0", parent->id ? parent->id : parent->type->name);
	pthread_mutex_lock(&vs->vdev.lock);
	ret = place(u, vs, owner, bus);
	pthread_mutex_unlock(&vs->vdev.lock);
	if (ret)
		return ret;
	u->blk = blk_find(u->drive);
	if (!u->blk) {
		err_msg("%s: no -blockdev with node-name '%s'", owner, u->drive);
		return -ENOENT;
	}
	ret = blk_attach(u->blk, owner, vs->num_queues, vs->queue_size);
	if (ret)
		return ret;
	if (!cd)
		blk_set_write_through(u->blk, !strcmp(u->write_cache, "off"));
	u->disk = (struct scsi_disk){
		.cd = cd,
		.ro = cd || blk_read_only(u->blk),
		.discard = !cd && blk_discard_supported(u->blk),
		.write_cache = !cd && strcmp(u->write_cache, "off"),
		.block_size = u->block_size,
		.blocks = blk_size(u->blk) / u->block_size,
		.vendor = u->vendor,
		.product = u->product,
		.serial = u->serial,
		.device_id = u->drive,
	};
	if (!u->disk.blocks)
		warn_msg("%s: drive '%s' is smaller than one block: the guest sees no data",
			 owner, u->drive);
	u->vs = vs;
	blk_set_batch_end(u->blk, on_batch, u);
	pthread_mutex_lock(&vs->vdev.lock);
	vs->units[vs->nunits++] = u;
	pthread_mutex_unlock(&vs->vdev.lock);
	return 0;
}

#define UNIT_PROPS							\
	{ "drive", PROP_STR, offsetof(struct scsi_unit, drive), NULL,	\
	  "node-name of the -blockdev to use", .required = 1 },		\
	{ "bus", PROP_STR, offsetof(struct scsi_unit, bus), NULL,	\
	  "SCSI bus: ID.0 of a virtio-scsi controller (default: the last one)" }, \
	{ "scsi-id", PROP_U32, offsetof(struct scsi_unit, scsi_id), "0xffffffff", \
	  "target, 0-255 (0xffffffff: the first with this lun free)",	\
	  .max = 0xffffffff },						\
	{ "lun", PROP_U32, offsetof(struct scsi_unit, lun), "0",	\
	  "logical unit number", .max = VSCSI_MAX_LUN },		\
	{ "serial", PROP_STR, offsetof(struct scsi_unit, serial), NULL,	\
	  "unit serial number (VPD page 0x80, up to 36 bytes)" },	\
	{ "vendor", PROP_STR, offsetof(struct scsi_unit, vendor), NULL,	\
	  "INQUIRY vendor (up to 8 bytes; default EMBER)" },		\
	{ "product", PROP_STR, offsetof(struct scsi_unit, product), NULL, \
	  "INQUIRY product (up to 16 bytes)" }

static const struct prop hd_props[] = {
	UNIT_PROPS,
	{ "logical_block_size", PROP_U32, offsetof(struct scsi_unit, block_size), "512",
	  "logical block size (power of 2)", .min = 512, .max = 4096 },
	{ "write-cache", PROP_STR, offsetof(struct scsi_unit, write_cache), "auto",
	  "on, auto: a volatile write cache the guest flushes (WCE); off: each write "
	  "durable (write through)" },
	{ NULL }
};

static const struct prop cd_props[] = {
	UNIT_PROPS,
	{ NULL }
};

static const struct device_type hd_type = {
	.name = "scsi-hd",
	.bus = "scsi-bus",
	.desc = "SCSI disk on a -blockdev node",
	.state_size = sizeof(struct scsi_unit),
	.props = hd_props,
	.realize = unit_realize,
	.unrealize = unit_unrealize,
};
DEVICE_TYPE(hd_type)

static const struct device_type cd_type = {
	.name = "scsi-cd",
	.bus = "scsi-bus",
	.desc = "SCSI CD-ROM (read-only) on a -blockdev node",
	.state_size = sizeof(struct scsi_unit),
	.props = cd_props,
	.realize = unit_realize,
	.unrealize = unit_unrealize,
};
DEVICE_TYPE(cd_type)
