/*
 * Guest physical memory table. The table is tiny (GMEM_MAX_REGIONS) and only
 * changes while the machine is built, so lookups are a linear scan and need
 * no lock. Regions are kept sorted by address.
 */
#include <string.h>

#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"

int gmem_add(struct gmem *m, uint64_t gpa, uint64_t size, void *hva, int fd,
	     uint64_t fd_offset)
{
	unsigned i;

	/*
	 * The end (gpa + size) must be representable, so a region may not
	 * reach the very last byte of the 64-bit space; no guest has RAM there.
	 */
	if (!size || !hva || gpa + size < gpa) {
		err_msg("guest memory region at 0x%llx (size 0x%llx) is invalid or wraps",
			(unsigned long long)gpa, (unsigned long long)size);
		return -EINVAL;
	}
	if (m->nr >= GMEM_MAX_REGIONS) {
		err_msg("guest memory table is full (%d regions)", GMEM_MAX_REGIONS);
		return -ENOSPC;
	}
	for (i = 0; i < m->nr; i++) {
		const struct gmem_region *r = &m->r[i];

		if (gpa < r->gpa + r->size && r->gpa < gpa + size) {
			err_msg("guest memory region at 0x%llx (size 0x%llx) overlaps the one at 0x%llx",
				(unsigned long long)gpa, (unsigned long long)size,
				(unsigned long long)r->gpa);
			return -EINVAL;
		}
	}
	for (i = m->nr; i > 0 && m->r[i - 1].gpa > gpa; i--)
		m->r[i] = m->r[i - 1];
	m->r[i] = (struct gmem_region){
		.gpa = gpa, .size = size, .hva = hva, .fd = fd, .fd_offset = fd_offset,
	};
	m->nr++;
	return 0;
}

static const struct gmem_region *find(const struct gmem *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->nr; i++)
		if (gpa >= m->r[i].gpa && gpa - m->r[i].gpa < m->r[i].size)
			return &m->r[i];
	return NULL;
}

void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	const struct gmem_region *r = find(m, gpa);
	uint64_t off;

	if (!r)
		return NULL;
	off = gpa - r->gpa;
	if (len > r->size - off)
		return NULL;
	return r->hva + off;
}

/* Walks [gpa, gpa+len) region by region; with buf NULL it only checks. */
static int copy(const struct gmem *m, uint64_t gpa, void *buf, size_t len, bool to_guest)
{
	uint8_t *p = buf;

	while (len) {
		const struct gmem_region *r = find(m, gpa);
		uint64_t off, n;

		if (!r)
			return -EFAULT;
		off = gpa - r->gpa;
		n = MIN((uint64_t)len, r->size - off);
		if (p && to_guest)
			memcpy(r->hva + off, p, n);
		else if (p)
			memcpy(p, r->hva + off, n);
		if (p)
			p += n;
		len -= n;
		gpa += n;	/* cannot wrap: regions end below 2^64 */
	}
	return 0;
}

/* Checked first so that a failing copy leaves nothing half done. */
int gmem_read(const struct gmem *m, uint64_t gpa, void *buf, size_t len)
{
	int ret = copy(m, gpa, NULL, len, false);

	return ret ? ret : copy(m, gpa, buf, len, false);
}

int gmem_write(const struct gmem *m, uint64_t gpa, const void *buf, size_t len)
{
	int ret = copy(m, gpa, NULL, len, true);

	return ret ? ret : copy(m, gpa, (void *)buf, len, true);
}

uint64_t gmem_end(const struct gmem *m)
{
	/* Sorted, so the last region ends highest. */
	return m->nr ? m->r[m->nr - 1].gpa + m->r[m->nr - 1].size : 0;
}

static int discard_off;

void gmem_discard_disable(bool disable)
{
	discard_off += disable ? 1 : -1;
}

bool gmem_discard_disabled(void)
{
	return discard_off > 0;
}
