/*
 * Guest RAM back ends (-object memory-backend-memfd). RAM is always a memfd
 * so that vhost-user back ends and snapshots can share it, mapped at a 2 MiB
 * aligned host address with MADV_HUGEPAGE: KVM can map 2 MiB pages only
 * where guest-physical and host-virtual addresses agree modulo 2 MiB.
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
	int fd;
	void *hva;
	uint64_t map_size;	/* includes alignment slack */
	void *map_base;
};

/* "-object memory-backend-memfd,id=..,size=..[,hugetlb=on]" comes through the object table. */
struct mem_backend *mem_backend_find(const char *id);
/* A backend for plain "-m SIZE". */
int mem_backend_create_default(uint64_t size, struct mem_backend **out);
/* Allocates and maps; messages name the backend and the cause. */
int mem_backend_map(struct mem_backend *b);
/* The mapped backend whose memfd is @fd (a gmem region's), or NULL. */
struct mem_backend *mem_backend_by_fd(int fd);
/*
 * Warns when memfd RAM cannot get transparent huge pages (shmem THP off).
 * Called once set-up has succeeded, so bad options still give one line.
 */
void mem_backend_check_thp(const struct mem_backend *b);

#endif
