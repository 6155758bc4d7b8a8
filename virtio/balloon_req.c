/*
 * virtio-balloon requests: PFN arrays, statistics, huge-page tracking.
 * Reads only the iovecs virtq_pop checked; every PFN is checked through
 * gmem before it becomes a run the device may discard.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/gmem.h"
#include "lib/util.h"
#include "virtio/balloon.h"

/* Copies the next @len device-readable bytes; false when there are fewer. */
struct reader {
	const struct virtq_elem *e;
	unsigned iov;
	size_t off;
};

static bool take(struct reader *r, void *out, size_t len)
{
	uint8_t *p = out;

	while (len) {
		const struct iovec *v;
		size_t n;

		if (r->iov >= r->e->out_num || r->iov >= VIRTQ_MAX_IOV)
			return false;
		v = &r->e->iov[r->iov];
		n = MIN(len, v->iov_len - r->off);
		memcpy(p, (const uint8_t *)v->iov_base + r->off, n);
		p += n;
		len -= n;
		r->off += n;
		if (r->off == v->iov_len) {
			r->iov++;
			r->off = 0;
		}
	}
	return true;
}

unsigned balloon_read_pfns(const struct virtq_elem *e, uint32_t *pfns, unsigned max)
{
	struct reader r = { .e = e };
	unsigned n = 0;
	uint32_t v;

	while (n < max && take(&r, &v, sizeof(v)))
		pfns[n++] = le32toh(v);
	return n;
}

unsigned balloon_runs(const struct gmem *mem, const uint32_t *pfns, unsigned n,
		      struct balloon_run *runs, unsigned *bad)
{
	unsigned nr = 0;

	*bad = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = (uint64_t)pfns[i] << VIRTIO_BALLOON_PFN_SHIFT;
		struct balloon_run *last = nr ? &runs[nr - 1] : NULL;

		if (!gmem_ptr(mem, gpa, BALLOON_PAGE)) {
			(*bad)++;
			continue;
		}
		/* Extends the run only while it stays inside one region. */
		if (last && gpa == last->gpa + last->len &&
		    gmem_ptr(mem, last->gpa, last->len + BALLOON_PAGE)) {
			last->len += BALLOON_PAGE;
			continue;
		}
		runs[nr++] = (struct balloon_run){ gpa, BALLOON_PAGE };
	}
	return nr;
}

unsigned balloon_parse_stats(const struct virtq_elem *e, struct balloon_stats *st)
{
	struct reader r = { .e = e };
	uint8_t raw[10];		/* le16 tag, le64 val: packed */
	unsigned n = 0;

	while (take(&r, raw, sizeof(raw))) {
		uint16_t tag;
		uint64_t val;

		memcpy(&tag, raw, 2);
		memcpy(&val, raw + 2, 8);
		tag = le16toh(tag);
		n++;
		if (tag >= BALLOON_STATS_MAX)
			continue;
		st->val[tag] = le64toh(val);
		st->valid |= 1u << tag;
	}
	return n;
}

const char *balloon_stat_name(unsigned tag)
{
	static const char *const names[BALLOON_STATS_MAX] = {
		"stat-swap-in", "stat-swap-out", "stat-major-faults", "stat-minor-faults",
		"stat-free-memory", "stat-total-memory", "stat-available-memory",
		"stat-disk-caches", "stat-htlb-pgalloc", "stat-htlb-pgfail",
		"stat-oom-kills", "stat-alloc-stalls", "stat-async-scans",
		"stat-direct-scans", "stat-async-reclaims", "stat-direct-reclaims",
	};

	return tag < BALLOON_STATS_MAX ? names[tag] : NULL;
}

int balloon_hp_init(struct balloon_hp *h, uint64_t page_size, uint64_t ram_end)
{
	memset(h, 0, sizeof(*h));
	if (page_size < BALLOON_PAGE || (page_size & (page_size - 1)))
		return -EINVAL;
	h->page_size = page_size;
	h->npages = ALIGN_UP(ram_end, page_size) / BALLOON_PAGE;
	h->bits = calloc((h->npages + 63) / 64, sizeof(uint64_t));
	return h->bits ? 0 : -ENOMEM;
}

void balloon_hp_free(struct balloon_hp *h)
{
	free(h->bits);
	memset(h, 0, sizeof(*h));
}

void balloon_hp_clear(struct balloon_hp *h)
{
	if (h->bits)
		memset(h->bits, 0, (h->npages + 63) / 64 * sizeof(uint64_t));
}

bool balloon_hp_mark(struct balloon_hp *h, uint64_t gpa, bool in)
{
	uint64_t pg = gpa / BALLOON_PAGE, per = h->page_size / BALLOON_PAGE, first;

	if (!h->bits || pg >= h->npages)
		return false;
	if (!in) {
		h->bits[pg / 64] &= ~(1ull << (pg % 64));
		return false;
	}
	h->bits[pg / 64] |= 1ull << (pg % 64);
	first = ALIGN_DOWN(pg, per);
	if (per % 64 == 0) {
		for (uint64_t w = first / 64; w < (first + per) / 64; w++)
			if (h->bits[w] != ~0ull)
				return false;
		return true;
	}
	for (uint64_t i = first; i < first + per; i++)
		if (!(h->bits[i / 64] & (1ull << (i % 64))))
			return false;
	return true;
}
