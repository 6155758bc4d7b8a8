/*
 * Guest physical memory: the one place where guest-provided addresses and
 * lengths are checked before ember touches them. Every device and the loader
 * go through gmem_ptr()/gmem_read()/gmem_write(); nothing else turns a guest
 * address into a host pointer.
 */
#ifndef EMBER_GMEM_H
#define EMBER_GMEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define GMEM_MAX_REGIONS 8

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	int fd;			/* backing memfd; -1 for anonymous RAM */
	uint64_t fd_offset;
};

struct gmem {
	struct gmem_region r[GMEM_MAX_REGIONS];
	unsigned nr;
};

/* Adds a region; refuses overlaps and wraps (-EINVAL) and a full table (-ENOSPC). */
int gmem_add(struct gmem *m, uint64_t gpa, uint64_t size, void *hva, int fd,
	     uint64_t fd_offset);
/*
 * Host pointer for [gpa, gpa+len) if the whole range lies inside one region,
 * else NULL. len 0 is valid if gpa is inside a region.
 */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len);
/* Copies; -EFAULT if any byte is outside guest RAM. Ranges may span regions. */
int gmem_read(const struct gmem *m, uint64_t gpa, void *buf, size_t len);
int gmem_write(const struct gmem *m, uint64_t gpa, const void *buf, size_t len);
/* Highest guest-physical address + 1 of RAM below 4 GiB, and in total. */
uint64_t gmem_end(const struct gmem *m);

/*
 * QEMU's ram_block_discard_disable(): while RAM is pinned for device DMA
 * (VFIO), a page given back would leave the IOMMU mapping the old page, so
 * nothing may discard RAM. Counted: each pinning user adds and removes one.
 */
void gmem_discard_disable(bool disable);
bool gmem_discard_disabled(void);

#endif
