/*
 * Parsing virtio-scsi requests. The chain's iovecs were checked by the
 * virtqueue layer (inside guest RAM, readable ones first); the header is
 * copied once before anything reads it, and no framing is assumed: header,
 * response and data may be split across descriptors in any way.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "lib/util.h"
#include "virtio/scsi.h"

/* virtio 1.2 5.6.6.2: the spec's name for a TMF done, 0. */
#define VIRTIO_SCSI_S_FUNCTION_COMPLETE	0

/* Copies between the segments @iov[0..n) from byte @off and @buf. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len,
		       bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t k = iov[i].iov_len;

		if (off >= k) {
			off -= k;
			continue;
		}
		k = MIN(k - off, len - done);
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, (uint8_t *)buf + done, k);
		else
			memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t vscsi_iov_fill(const struct iovec *iov, unsigned n, const void *src, size_t len)
{
	return iov_copy(iov, n, 0, (void *)src, len, true);
}

size_t vscsi_iov_read(const struct iovec *iov, unsigned n, void *dst, size_t len)
{
	return iov_copy(iov, n, 0, dst, len, false);
}

size_t vscsi_copy_in(const struct virtq_elem *e, size_t off, const void *src, size_t len)
{
	return iov_copy(e->iov + e->out_num, e->in_num, off, (void *)src, len, true);
}

static size_t copy_hdr(const struct virtq_elem *e, void *dst, size_t len)
{
	return iov_copy(e->iov, e->out_num, 0, dst, len, false);
}

/* The segments of iov[0..n) after the first @skip bytes, into @out; returns their count. */
static unsigned tail(const struct iovec *iov, unsigned n, size_t skip, struct iovec *out,
		     uint64_t *bytes)
{
	unsigned k = 0;

	*bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t len = iov[i].iov_len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		out[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		out[k].iov_len = len - skip;
		*bytes += len - skip;
		skip = 0;
		k++;
	}
	return k;
}

bool vscsi_lun_decode(const uint8_t f[8], uint8_t *target, uint16_t *lun)
{
	*target = f[1];
	*lun = (uint16_t)((f[2] & 0x3f) << 8 | f[3]);
	/* Peripheral (0) or flat (1) addressing of one level, nothing below. */
	return f[0] == 1 && (f[2] >> 6) <= 1 && !f[4] && !f[5] && !f[6] && !f[7] &&
	       (f[2] >> 6 == 1 || !(f[2] & 0x3f));
}

int vscsi_parse_cmd(const struct virtq_elem *e, struct vscsi_cmd *c, struct iovec *data)
{
	struct virtio_scsi_cmd_req req;
	uint64_t in_bytes = 0;

	memset(c, 0, sizeof(*c));
	if (e->out_num + e->in_num > VIRTQ_MAX_IOV)
		return -EINVAL;
	for (unsigned i = e->out_num; i < e->out_num + e->in_num; i++)
		in_bytes += e->iov[i].iov_len;
	if (in_bytes < sizeof(struct virtio_scsi_cmd_resp))
		return -EINVAL;
	if (copy_hdr(e, &req, sizeof(req)) < sizeof(req))
		return -EINVAL;
	c->lun_ok = vscsi_lun_decode(req.lun, &c->target, &c->lun);
	c->tag = le64toh(req.tag);
	memcpy(c->cdb, req.cdb, sizeof(c->cdb));
	c->dout_num = tail(e->iov, e->out_num, sizeof(req), data, &c->dout_len);
	c->din_num = tail(e->iov + e->out_num, e->in_num, sizeof(struct virtio_scsi_cmd_resp),
			  data + c->dout_num, &c->din_len);
	return 0;
}

uint32_t vscsi_ctrl(const struct virtq_elem *e,
		    bool (*lun_exists)(void *opaque, uint8_t target, uint16_t lun),
		    void *opaque)
{
	union {
		struct virtio_scsi_ctrl_tmf_req tmf;
		struct virtio_scsi_ctrl_an_req an;
	} req;
	struct virtio_scsi_ctrl_an_resp an = { 0 };
	size_t got = copy_hdr(e, &req, sizeof(req));
	uint8_t resp = VIRTIO_SCSI_S_FAILURE, target;
	uint16_t lun;
	uint32_t type = 0;

	if (got >= sizeof(type))
		type = le32toh(req.tmf.type);
	switch (got >= sizeof(type) ? type : UINT32_MAX) {
	case VIRTIO_SCSI_T_TMF:
		if (got < sizeof(req.tmf))
			break;
		if (!vscsi_lun_decode(req.tmf.lun, &target, &lun) ||
		    !lun_exists(opaque, target, lun)) {
			resp = VIRTIO_SCSI_S_BAD_TARGET;
			break;
		}
		switch (le32toh(req.tmf.subtype)) {
		case VIRTIO_SCSI_T_TMF_ABORT_TASK:
		case VIRTIO_SCSI_T_TMF_ABORT_TASK_SET:
		case VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET:
		case VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET:
		case VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET:
		case VIRTIO_SCSI_T_TMF_QUERY_TASK:
		case VIRTIO_SCSI_T_TMF_QUERY_TASK_SET:
			/*
			 * Requests go to io_uring whole and cannot be called
			 * back: each one still completes, so there is nothing
			 * to abort or to report as pending.
			 */
			resp = VIRTIO_SCSI_S_FUNCTION_COMPLETE;
			break;
		default:
			resp = VIRTIO_SCSI_S_FUNCTION_REJECTED;
			break;
		}
		break;
	case VIRTIO_SCSI_T_AN_QUERY:
	case VIRTIO_SCSI_T_AN_SUBSCRIBE:
		if (got < sizeof(req.an))
			break;
		/* No asynchronous events are offered: event_actual 0. */
		an.response = VIRTIO_SCSI_S_OK;
		return vscsi_copy_in(e, 0, &an, sizeof(an)) == sizeof(an) ? sizeof(an) : 0;
	}
	return vscsi_copy_in(e, 0, &resp, 1);
}
