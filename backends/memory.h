/*
 * Guest RAM back ends, as QEMU names them:
 *   plain -m and -object memory-backend-ram: private anonymous memory;
 *   memory-backend-ram,share=on and -object memory-backend-memfd: a memfd
 *   (shared by default), which vhost-user back ends and snapshots can map.
 * Anonymous memory gets transparent huge pages on a host with the kernel's
 * default THP settings (enabled=madvise, shmem_enabled=never); a memfd gets
 * them only where shmem THP is allowed, or with hugetlb=on. Every kind is
 * mapped at a 2 MiB aligned host address with MADV_HUGEPAGE: KVM can map
 * 2 MiB pages only where guest-physical and host-virtual addresses agree
 * modulo 2 MiB.
 */
#ifndef EMBER_MEMORY_H
#define EMBER_MEMORY_H

#include <stdint.h>
#include <stdbool.h>

#include "backends/object.h"
#include "lib/keyval.h"

struct mem_backend {
	struct object obj;	/* obj.id: NULL for the RAM of a plain -m */
	uint64_t size;
	bool hugetlb;
	uint64_t hugetlbsize;	/* 0: the system default */
	bool share;
	/* runtime */
	uint64_t page_size;	/* of the mapping: 4 KiB, or the huge page size */
	int fd;			/* the memfd; -1 for anonymous memory */
	void *hva;
	uint64_t map_size;	/* includes alignment slack */
	void *map_base;
};

/* "-object memory-backend-ram|memfd,id=..,size=.." comes through the object table. */
struct mem_backend *mem_backend_find(const char *id);
/* A backend for plain "-m SIZE": private anonymous memory. */
int mem_backend_create_default(uint64_t size, struct mem_backend **out);
/* Allocates and maps; messages name the backend and the cause. */
int mem_backend_map(struct mem_backend *b);
/* The mapped backend whose RAM holds host address @hva, or NULL. */
struct mem_backend *mem_backend_by_hva(const void *hva);
/* The RAM is shared memory (a memfd), which needs shmem THP for huge pages. */
bool mem_backend_is_shmem(const struct mem_backend *b);
/*
 * True when @b is shared memory without hugetlb and @shmem_enabled (the
 * text of /sys/kernel/mm/transparent_hugepage/shmem_enabled) keeps it off
 * transparent huge pages.
 */
bool mem_backend_thp_missing(const struct mem_backend *b, const char *shmem_enabled);
/*
 * Warns, naming what to do, when memfd RAM cannot get transparent huge
 * pages. Called once set-up has succeeded, so bad options still give one line.
 */
void mem_backend_check_thp(const struct mem_backend *b);

#endif
