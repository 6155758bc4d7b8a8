/*
 * Parsing virtio-blk requests. The chain's iovecs were checked by the
 * virtqueue layer (inside guest RAM, readable ones first); here every field
 * the guest wrote is copied once and checked before anything acts on it.
 * No framing is assumed (virtio 1.x): the header, data and status byte may
 * be split across descriptors in any way.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "lib/util.h"
#include "virtio/blk.h"

/* Copies up to @len readable bytes from byte @off of the chain. */
static size_t copy_out(const struct virtq_elem *e, size_t off, void *dst, size_t len)
{
	size_t got = 0;

	for (unsigned i = 0; i < e->out_num && got < len; i++) {
		size_t n = e->iov[i].iov_len;

		if (off >= n) {
			off -= n;
			continue;
		}
		n = MIN(n - off, len - got);
		memcpy((uint8_t *)dst + got, (uint8_t *)e->iov[i].iov_base + off, n);
		got += n;
		off = 0;
	}
	return got;
}

static uint64_t seg_bytes(const struct virtq_elem *e, unsigned from, unsigned to)
{
	uint64_t t = 0;

	for (unsigned i = from; i < to; i++)
		t += e->iov[i].iov_len;
	return t;
}

/* Is [sector, sector + bytes/512) inside the disk and on block boundaries? */
static bool range_ok(const struct blk_limits *lim, uint64_t sector, uint64_t bytes)
{
	uint32_t bs = lim->block_size >= VIRTIO_BLK_SECTOR ? lim->block_size
							    : VIRTIO_BLK_SECTOR;

	if (bytes % bs || sector % (bs / VIRTIO_BLK_SECTOR))
		return false;
	return sector <= lim->capacity && bytes / VIRTIO_BLK_SECTOR <= lim->capacity - sector;
}

/* The readable bytes after the 16-byte header. */
static void out_data(const struct virtq_elem *e, struct blk_parsed *p)
{
	size_t skip = sizeof(struct virtio_blk_outhdr);
	unsigned i = 0;

	while (i < e->out_num && skip >= e->iov[i].iov_len)
		skip -= e->iov[i++].iov_len;
	p->iov_first = i;
	p->iov_count = e->out_num - i;
	p->head_skip = i < e->out_num ? skip : 0;
	p->len = seg_bytes(e, i, e->out_num) - p->head_skip;
}

/* The writable bytes before the status byte, which is in iov[@s]. */
static void in_data(const struct virtq_elem *e, unsigned s, struct blk_parsed *p)
{
	p->iov_first = e->out_num;
	p->iov_count = s - e->out_num + (e->iov[s].iov_len > 1);
	p->tail_trim = e->iov[s].iov_len > 1;
	p->in_data = seg_bytes(e, e->out_num, s + 1) - 1;
	p->len = p->in_data;
}

static uint8_t parse_dwz(const struct virtq_elem *e, const struct blk_limits *lim,
			 uint32_t type, struct blk_parsed *p)
{
	struct virtio_blk_discard_write_zeroes seg;
	bool discard = type == VIRTIO_BLK_T_DISCARD;
	uint32_t flags, allowed = discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	uint64_t sector, payload;

	if (lim->ro)
		return VIRTIO_BLK_S_IOERR;
	if (discard ? !lim->discard : !lim->write_zeroes)
		return VIRTIO_BLK_S_UNSUPP;
	out_data(e, p);
	payload = p->len;
	if (!payload || payload % sizeof(seg))
		return VIRTIO_BLK_S_IOERR;
	if (payload / sizeof(seg) > VIRTIO_BLK_MAX_DWZ_SEG)
		return VIRTIO_BLK_S_UNSUPP;
	copy_out(e, sizeof(struct virtio_blk_outhdr), &seg, sizeof(seg));
	sector = le64toh(seg.sector);
	flags = le32toh(seg.flags);
	if (flags & ~allowed)
		return VIRTIO_BLK_S_UNSUPP;
	if (le32toh(seg.num_sectors) > VIRTIO_BLK_MAX_DWZ_SECTORS ||
	    !range_ok(lim, sector, (uint64_t)le32toh(seg.num_sectors) * VIRTIO_BLK_SECTOR))
		return VIRTIO_BLK_S_IOERR;
	p->op = discard ? BLK_DISCARD : BLK_WRITE_ZEROES;
	p->offset = sector * VIRTIO_BLK_SECTOR;
	p->len = (uint64_t)le32toh(seg.num_sectors) * VIRTIO_BLK_SECTOR;
	p->unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	p->iov_count = 0;	/* the segment was the payload, not data */
	p->head_skip = 0;
	return VIRTIO_BLK_S_OK;
}

int blk_parse(const struct virtq_elem *e, const struct blk_limits *lim,
	      struct blk_parsed *p)
{
	struct virtio_blk_outhdr hdr;
	unsigned n = e->out_num + e->in_num, s;
	uint64_t sector;

	memset(p, 0, sizeof(*p));
	if (!e->in_num || n > VIRTQ_MAX_IOV)
		return -EINVAL;
	/* The status is the last writable byte; skip empty segments before it. */
	for (s = n; s > e->out_num && !e->iov[s - 1].iov_len; s--)
		;
	if (s == e->out_num)
		return -EINVAL;
	s--;
	p->status_byte = (uint8_t *)e->iov[s].iov_base + e->iov[s].iov_len - 1;
	p->status = VIRTIO_BLK_S_IOERR;
	if (copy_out(e, 0, &hdr, sizeof(hdr)) < sizeof(hdr))
		return 0;
	p->type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);

	switch (p->type) {
	case VIRTIO_BLK_T_IN:
		in_data(e, s, p);
		p->op = BLK_READ;
		break;
	case VIRTIO_BLK_T_OUT:
		if (lim->ro)
			return 0;
		out_data(e, p);
		p->op = BLK_WRITE;
		break;
	case VIRTIO_BLK_T_FLUSH:
		p->op = BLK_FLUSH;
		p->status = VIRTIO_BLK_S_OK;
		return 0;
	case VIRTIO_BLK_T_GET_ID:
		in_data(e, s, p);
		p->status = VIRTIO_BLK_S_OK;
		return 0;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		p->status = parse_dwz(e, lim, p->type, p);
		return 0;
	default:
		p->status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
	/* IN and OUT: whole blocks inside the disk. */
	if (!range_ok(lim, sector, p->len))
		return 0;
	p->offset = sector * VIRTIO_BLK_SECTOR;
	p->status = VIRTIO_BLK_S_OK;
	return 0;
}

void blk_trim_iov(struct virtq_elem *e, const struct blk_parsed *p)
{
	struct iovec *first = &e->iov[p->iov_first], *last;

	if (!p->iov_count)
		return;
	last = first + p->iov_count - 1;
	first->iov_base = (uint8_t *)first->iov_base + p->head_skip;
	first->iov_len -= p->head_skip;
	last->iov_len -= p->tail_trim;
}

uint32_t blk_write_id(struct virtq_elem *e, const struct blk_parsed *p,
		      const char *serial)
{
	char id[VIRTIO_BLK_ID_BYTES] = { 0 };
	uint32_t want = MIN(p->in_data, (uint32_t)sizeof(id)), done = 0;

	if (serial)
		memcpy(id, serial, strnlen(serial, sizeof(id)));
	for (unsigned i = 0; i < p->iov_count && done < want; i++) {
		struct iovec *v = &e->iov[p->iov_first + i];
		size_t k = MIN(v->iov_len, (size_t)(want - done));

		memcpy(v->iov_base, id + done, k);
		done += k;
	}
	return done;
}
