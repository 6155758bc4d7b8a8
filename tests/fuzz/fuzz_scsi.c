/*
 * SCSI commands and virtio-scsi requests from arbitrary bytes. The input is
 * a flags byte (the unit: disk or CD, read-only, discard, 4 KiB blocks, its
 * size), a 32-byte CDB and parameter data for scsi_disk_exec; the same
 * bytes, cut into segments of lengths taken from the input, are a request
 * chain for vscsi_parse_cmd and vscsi_ctrl. The results are checked against
 * the unit and the chain: a reply fits its buffer, an I/O lies inside the
 * disk, data segments lie inside the chain's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/scsi_disk.h"
#include "lib/util.h"
#include "virtio/scsi.h"

static uint8_t buf[SCSI_BUF_SIZE];
static struct virtq_elem e;
static struct iovec data[VIRTQ_MAX_IOV];

static void check_cmd(const struct scsi_disk *d, const struct scsi_cmd *c)
{
	if (c->data_len > SCSI_BUF_SIZE || c->sense_len > SCSI_SENSE_LEN)
		__builtin_trap();
	if (c->status == SCSI_CHECK_CONDITION && (c->sense_len != SCSI_SENSE_LEN ||
						  c->action != SCSI_REPLY))
		__builtin_trap();
	if (c->action != SCSI_IO)
		return;
	if (c->op == BLK_FLUSH)
		return;
	if (c->offset % d->block_size || c->len % d->block_size)
		__builtin_trap();
	if (c->offset > d->blocks * d->block_size ||
	    c->len > d->blocks * d->block_size - c->offset)
		__builtin_trap();
	if (d->ro && c->op != BLK_READ)
		__builtin_trap();
	if (c->op == BLK_DISCARD && !d->discard)
		__builtin_trap();
}

static bool inside(const struct iovec *v, const struct virtq_elem *el, unsigned from,
		   unsigned to)
{
	for (unsigned i = from; i < to; i++) {
		const uint8_t *b = el->iov[i].iov_base, *p = v->iov_base;

		if (p >= b && p + v->iov_len <= b + el->iov[i].iov_len)
			return true;
	}
	return !v->iov_len;
}

static bool lun_any(void *opaque, uint8_t target, uint16_t lun)
{
	return (target ^ lun) & 1;
}

static void chain(const uint8_t *in, size_t size, uint8_t *copy)
{
	struct vscsi_cmd c;
	size_t off = 0;
	unsigned nseg, nout;

	if (size < 2)
		return;
	nseg = in[0] % 8 + 1;
	nout = in[1] % (nseg + 1);
	memset(&e, 0, sizeof(e));
	/* Segment i is byte 2 + i's length, over the copy, in order. */
	for (unsigned i = 0; i < nseg; i++) {
		size_t len = 2 + i < size ? in[2 + i] : 0;

		len = off + len * 2 <= size ? len * 2 : size - off;
		e.iov[i] = (struct iovec){ copy + off, len };
		off += len;
		if (i < nout) {
			e.out_num++;
			e.out_len += len;
		} else {
			e.in_num++;
			e.in_len += len;
		}
	}
	if (vscsi_parse_cmd(&e, &c, data) == 0) {
		for (unsigned i = 0; i < c.dout_num; i++)
			if (!inside(&data[i], &e, 0, e.out_num))
				__builtin_trap();
		for (unsigned i = 0; i < c.din_num; i++)
			if (!inside(&data[c.dout_num + i], &e, e.out_num, e.out_num + e.in_num))
				__builtin_trap();
		vscsi_iov_fill(data + c.dout_num, c.din_num, buf, sizeof(buf));
	}
	if (vscsi_ctrl(&e, lun_any, NULL) > e.in_len)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct scsi_disk d = { .vendor = "FUZZ", .serial = "S", .device_id = "n" };
	uint8_t cdb[VIRTIO_SCSI_CDB_SIZE] = { 0 }, *copy;
	uint16_t luns[3] = { 0, 7, 1000 };
	struct scsi_cmd c;
	size_t n;

	if (!size)
		return 0;
	d.cd = in[0] & 1;
	d.ro = d.cd || (in[0] & 2);
	d.discard = !d.cd && (in[0] & 4);
	d.write_cache = in[0] & 8;
	d.block_size = d.cd ? 2048 : (in[0] & 16) ? 4096 : 512;
	d.blocks = (in[0] & 32) ? (uint64_t)-1 / d.block_size : (in[0] >> 6) * 1000u;
	n = MIN(size - 1, sizeof(cdb));
	memcpy(cdb, in + 1, n);
	scsi_disk_exec(&d, cdb, n, in + 1 + n, size - 1 - n, buf, &c);
	check_cmd(&d, &c);
	scsi_no_lun_exec(cdb, n, buf, &c);
	check_cmd(&d, &c);
	scsi_report_luns(cdb, n, luns, in[0] % 4, buf, &c);
	check_cmd(&d, &c);

	/* A heap copy of exactly the input, so that ASan sees any overrun. */
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, in, size);
	chain(in, size, copy);
	free(copy);
	return 0;
}
