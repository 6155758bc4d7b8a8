/*
 * The guest-controlled parts of an NVMe command, checked in one place: PRP
 * entries and lists into host iovecs through gmem, LBA ranges against the
 * namespace. Used by the controller (nvme.c), unit tests and the fuzzer.
 */
#include <string.h>

#include "devices/nvme.h"
#include "kvm/gmem.h"
#include "lib/util.h"

#define PAGE_MASK	((uint64_t)NVME_PAGE_SIZE - 1)

static uint16_t add_piece(const struct gmem *m, uint64_t gpa, uint64_t len,
			  struct iovec *iov, unsigned *niov)
{
	uint8_t *p = gmem_ptr(m, gpa, len);
	struct iovec *last = *niov ? &iov[*niov - 1] : NULL;

	if (!p)
		return NVME_SC_DATA_XFER_ERROR | NVME_DNR;
	if (last && (uint8_t *)last->iov_base + last->iov_len == p) {
		last->iov_len += len;
		return 0;
	}
	if (*niov >= NVME_MAX_IOV)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	iov[*niov].iov_base = p;
	iov[*niov].iov_len = len;
	(*niov)++;
	return 0;
}

/* The entries after the first page: in PRP2, or in a chain of list pages. */
static uint16_t map_list(const struct gmem *m, uint64_t list, uint64_t left,
			 struct iovec *iov, unsigned *niov)
{
	uint64_t ent[NVME_PAGE_SIZE / 8];
	unsigned hops = 0;
	uint16_t st;

	while (left) {
		uint64_t n = (NVME_PAGE_SIZE - (list & PAGE_MASK)) / 8;
		uint64_t need = (left + PAGE_MASK) / NVME_PAGE_SIZE;
		uint64_t k = MIN(n, need);

		/* A list pointer is qword aligned; a chain must make progress. */
		if (list & 7)
			return NVME_SC_PRP_OFFSET_INVALID | NVME_DNR;
		if (++hops > NVME_MAX_IOV)
			return NVME_SC_INVALID_FIELD | NVME_DNR;
		if (gmem_read(m, list, ent, k * 8))
			return NVME_SC_DATA_XFER_ERROR | NVME_DNR;
		for (uint64_t i = 0; i < k; i++) {
			uint64_t chunk = MIN(left, (uint64_t)NVME_PAGE_SIZE);

			if (i == n - 1 && need > n) {
				if (n < 2)	/* a page holding only its chain pointer */
					return NVME_SC_PRP_OFFSET_INVALID | NVME_DNR;
				list = ent[i];
				break;
			}
			if (ent[i] & PAGE_MASK)
				return NVME_SC_PRP_OFFSET_INVALID | NVME_DNR;
			if ((st = add_piece(m, ent[i], chunk, iov, niov)))
				return st;
			left -= chunk;
		}
	}
	return 0;
}

/*
 * An SGL: SGL1 is a data block or points to a segment; a segment's last
 * descriptor may point to the next segment, a last segment's may not.
 */
static uint16_t map_sgl(const struct gmem *m, const struct nvme_sqe *c, uint64_t len,
			struct iovec *iov, unsigned *niov)
{
	struct nvme_sgl seg[NVME_PAGE_SIZE / sizeof(struct nvme_sgl)];
	const struct nvme_sgl *list = seg;
	unsigned n = 1, budget = NVME_SGL_MAX_DESC;
	uint64_t left = len;
	bool last = false;	/* inside the last segment */
	uint32_t slen;
	uint16_t st;

	memcpy(seg, &c->prp1, sizeof(seg[0]));
	for (unsigned i = 0; i < n; i++) {
		const struct nvme_sgl *d = &list[i];
		unsigned type = d->type >> 4;

		if (!budget--)
			return NVME_SC_SGL_INVALID_COUNT | NVME_DNR;
		if (d->type & 0xf)
			return NVME_SC_SGL_INVALID_TYPE | NVME_DNR;
		if (type == NVME_SGL_DATA) {
			if (d->len > left)
				return NVME_SC_SGL_INVALID_DATA_LEN | NVME_DNR;
			if (d->len && (st = add_piece(m, d->addr, d->len, iov, niov)))
				return st == (NVME_SC_INVALID_FIELD | NVME_DNR) ?
				       NVME_SC_SGL_INVALID_COUNT | NVME_DNR : st;
			left -= d->len;
			continue;
		}
		if (type != NVME_SGL_SEGMENT && type != NVME_SGL_LAST_SEGMENT)
			return NVME_SC_SGL_INVALID_TYPE | NVME_DNR;
		/* A segment pointer ends its list, and never in the last segment. */
		if (last || i != n - 1)
			return NVME_SC_SGL_INVALID_SEG | NVME_DNR;
		slen = d->len;
		if (!slen || slen % sizeof(seg[0]) || slen > sizeof(seg))
			return NVME_SC_SGL_INVALID_SEG | NVME_DNR;
		/* The next segment replaces this one, d included. */
		if (gmem_read(m, d->addr, seg, slen))
			return NVME_SC_DATA_XFER_ERROR | NVME_DNR;
		last = type == NVME_SGL_LAST_SEGMENT;
		n = slen / sizeof(seg[0]);
		i = -1u;
	}
	return left ? NVME_SC_SGL_INVALID_DATA_LEN | NVME_DNR : 0;
}

uint16_t nvme_map_prp(const struct gmem *m, const struct nvme_sqe *c, uint64_t len,
		      struct iovec *iov, unsigned *niov)
{
	uint64_t first, left;
	uint16_t st;

	*niov = 0;
	if (len > NVME_MAX_XFER || (c->flags >> 6) == 3)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	if (c->flags >> 6)
		return map_sgl(m, c, len, iov, niov);
	if (!len)
		return 0;
	if (c->prp1 & 3)
		return NVME_SC_PRP_OFFSET_INVALID | NVME_DNR;
	first = MIN(len, NVME_PAGE_SIZE - (c->prp1 & PAGE_MASK));
	if ((st = add_piece(m, c->prp1, first, iov, niov)))
		return st;
	left = len - first;
	if (!left)
		return 0;
	if (left <= NVME_PAGE_SIZE) {
		if (c->prp2 & PAGE_MASK)
			return NVME_SC_PRP_OFFSET_INVALID | NVME_DNR;
		return add_piece(m, c->prp2, left, iov, niov);
	}
	return map_list(m, c->prp2, left, iov, niov);
}

uint16_t nvme_copy_prp(const struct gmem *m, const struct nvme_sqe *c, void *buf,
		       uint64_t len, bool to_guest)
{
	struct iovec iov[NVME_MAX_IOV];
	uint8_t *b = buf;
	unsigned n;
	uint16_t st = nvme_map_prp(m, c, len, iov, &n);

	for (unsigned i = 0; !st && i < n; i++) {
		if (to_guest)
			memcpy(iov[i].iov_base, b, iov[i].iov_len);
		else
			memcpy(b, iov[i].iov_base, iov[i].iov_len);
		b += iov[i].iov_len;
	}
	return st;
}

static uint16_t check_range(uint64_t slba, uint64_t nlb, const struct nvme_ns_geom *g,
			    uint64_t *offset, uint64_t *len)
{
	if (slba >= g->nlbas || nlb > g->nlbas - slba)
		return NVME_SC_LBA_RANGE | NVME_DNR;
	*offset = slba << g->lbads;
	*len = nlb << g->lbads;
	return 0;
}

uint16_t nvme_decode_rw(const struct nvme_sqe *c, const struct nvme_ns_geom *g,
			struct nvme_rw *out)
{
	uint64_t slba = c->cdw10 | (uint64_t)c->cdw11 << 32;
	uint64_t nlb = (c->cdw12 & 0xffff) + 1;
	uint16_t st;

	memset(out, 0, sizeof(*out));
	if (c->opcode != NVME_CMD_READ && g->ro)
		return NVME_SC_READ_ONLY | NVME_DNR;
	if ((st = check_range(slba, nlb, g, &out->offset, &out->len)))
		return st;
	if (c->opcode != NVME_CMD_WRITE_ZEROES && out->len > NVME_MAX_XFER)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	out->fua = c->cdw12 & BIT(30);
	out->deallocate = c->opcode == NVME_CMD_WRITE_ZEROES && (c->cdw12 & BIT(25));
	return 0;
}

uint16_t nvme_decode_range(const struct nvme_dsm_range *r, const struct nvme_ns_geom *g,
			   uint64_t *offset, uint64_t *len)
{
	if (!r->nlb) {
		*offset = *len = 0;
		return 0;
	}
	return check_range(r->slba, r->nlb, g, offset, len);
}
