/*
 * -object memory-backend-ram and memory-backend-memfd, and the RAM of a
 * plain -m (anonymous, as memory-backend-ram): mapped at a 2 MiB aligned
 * address, found again by id or by host address; see memory.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/vfs.h>

#include "backends/memory.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"

#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif

#define RAM_ALIGN (2 * MiB)

/* QEMU's: share=off for memory-backend-ram, on for memory-backend-memfd. */
static const struct prop ram_props[] = {
	{ "size", PROP_SIZE, offsetof(struct mem_backend, size), NULL,
	  "size of the memory region (e.g. 512M)", .required = 1, .min = 1 },
	{ "share", PROP_BOOL, offsetof(struct mem_backend, share), "off",
	  "shared memory (a memfd) that other processes can map" },
	{ NULL },
};

static const struct prop memfd_props[] = {
	{ "size", PROP_SIZE, offsetof(struct mem_backend, size), NULL,
	  "size of the memory region (e.g. 512M)", .required = 1, .min = 1 },
	{ "hugetlb", PROP_BOOL, offsetof(struct mem_backend, hugetlb), "off",
	  "back with hugetlbfs pages" },
	{ "hugetlbsize", PROP_SIZE, offsetof(struct mem_backend, hugetlbsize), "0",
	  "huge page size (2M or 1G; default: the system's)" },
	{ "share", PROP_BOOL, offsetof(struct mem_backend, share), "on",
	  "shared mapping (needed by vhost-user)" },
	{ NULL },
};

static const struct object_type ram_type, memfd_type;

static struct mem_backend *to_mem(const struct object *o)
{
	return o ? container_of(o, struct mem_backend, obj) : NULL;
}

static bool is_mem(const struct object *o)
{
	return o && (o->type == &ram_type || o->type == &memfd_type);
}

struct mem_backend *mem_backend_by_hva(const void *hva)
{
	for (struct object *o = NULL; (o = object_next_of_kind(OBJ_OBJECT, o));) {
		struct mem_backend *b = to_mem(o);

		if (is_mem(o) && b->hva && (const uint8_t *)hva >= (const uint8_t *)b->hva &&
		    (uint64_t)((const uint8_t *)hva - (const uint8_t *)b->hva) < b->size)
			return b;
	}
	return NULL;
}

struct mem_backend *mem_backend_find(const char *id)
{
	struct object *o = object_find(OBJ_OBJECT, id);

	return is_mem(o) ? to_mem(o) : NULL;
}

bool mem_backend_is_shmem(const struct mem_backend *b)
{
	return b->obj.type == &memfd_type || b->share;
}

static struct mem_backend *mem_backend_new(void)
{
	struct mem_backend *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->fd = -1;
	return b;
}

static int mem_create(const struct object_args *a)
{
	const struct prop *props = a->type->props;
	struct mem_backend *b = mem_backend_new();
	int ret;

	if (!b) {
		err_msg("%s: out of memory", a->owner);
		return -ENOMEM;
	}
	props_set_defaults(props, b, a->owner);
	ret = props_apply(props, b, a->kv, a->owner);
	if (!ret && b->hugetlbsize && b->hugetlbsize != 2 * MiB && b->hugetlbsize != GiB) {
		err_msg("%s: hugetlbsize must be 2M or 1G", a->owner);
		ret = -EINVAL;
	}
	if (!ret && b->hugetlb && !IS_ALIGNED(b->size, b->hugetlbsize ? b->hugetlbsize : RAM_ALIGN)) {
		err_msg("%s,id=%s: size must be a multiple of the huge page size", a->owner, a->id);
		ret = -EINVAL;
	}
	if (!ret)
		ret = object_add(&b->obj, a->type, a->id, a->owner);
	if (ret)
		free(b);
	return ret;
}

/* Private anonymous memory: huge pages with the kernel's default THP settings. */
int mem_backend_create_default(uint64_t size, struct mem_backend **out)
{
	struct mem_backend *b = mem_backend_new();

	if (!b)
		return -ENOMEM;
	b->size = size;
	if (object_add(&b->obj, &ram_type, NULL, "-m")) {
		free(b);
		return -ENOMEM;
	}
	*out = b;
	return 0;
}

/*
 * The text of shmem_enabled says whether memfd RAM can get transparent huge
 * pages; anonymous RAM gets them under the kernel's defaults. Without them
 * every 4 KiB guest page is a separate nested fault and a stock kernel
 * boots ~1.7x slower in the lab (docs/benchmarks.md).
 */
bool mem_backend_thp_missing(const struct mem_backend *b, const char *shmem_enabled)
{
	if (b->hugetlb || !mem_backend_is_shmem(b) || !shmem_enabled)
		return false;
	return strstr(shmem_enabled, "[never]") || strstr(shmem_enabled, "[deny]");
}

void mem_backend_check_thp(const struct mem_backend *b)
{
	char buf[128] = "";
	FILE *f;

	if (!mem_backend_is_shmem(b) || b->hugetlb)
		return;
	f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "r");
	if (!f)
		return;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (mem_backend_thp_missing(b, buf))
		warn_msg("memory backend '%s' gets no huge pages: it is shared memory and "
			 "the host's shmem THP is off; use -object memory-backend-ram "
			 "unless it must be shared, or hugetlb=on, or "
			 "echo advise > /sys/kernel/mm/transparent_hugepage/shmem_enabled",
			 b->obj.id ? b->obj.id : "-m");
}

/* A memfd for shared RAM, sized; -errno after a message. */
static int open_memfd(struct mem_backend *b, const char *what)
{
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int e;

	if (b->hugetlb) {
		flags = MFD_CLOEXEC | MFD_HUGETLB;
		if (b->hugetlbsize)
			flags |= (unsigned)__builtin_ctzll(b->hugetlbsize) << MFD_HUGE_SHIFT;
	}
	b->fd = memfd_create("ember-ram", flags);
	if (b->fd < 0) {
		e = errno;
		err_msg("%s: memfd_create: %s", what, strerror(e));
		return -e;
	}
	if (ftruncate(b->fd, b->size) < 0) {
		e = errno;
		err_msg("%s: cannot size memory to %llu MiB: %s", what,
			(unsigned long long)(b->size >> 20), strerror(e));
		close(b->fd);
		b->fd = -1;
		return -e;
	}
	return 0;
}

int mem_backend_map(struct mem_backend *b)
{
	const char *what = b->obj.id ? b->obj.id : "guest RAM";
	uint64_t align = RAM_ALIGN;
	uint8_t *base, *aligned;
	void *p;
	int e;

	if (b->hugetlb && b->hugetlbsize)
		align = MAX(align, b->hugetlbsize);
	if (mem_backend_is_shmem(b)) {
		e = open_memfd(b, what);
		if (e)
			return e;
	}
	/* Reserve with slack, then place the real mapping on an aligned address. */
	b->map_size = b->size + align;
	base = mmap(NULL, b->map_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		e = errno;
		err_msg("%s: cannot reserve %llu MiB of address space: %s", what,
			(unsigned long long)(b->map_size >> 20), strerror(e));
		goto fail;
	}
	aligned = (uint8_t *)ALIGN_UP((uintptr_t)base, align);
	/*
	 * hugetlb pages are reserved at mmap time (no MAP_NORESERVE): a
	 * shortage must fail here with a message, not later as a SIGBUS when
	 * the guest touches a page. Anonymous RAM is not charged to the
	 * overcommit limit either, as a memfd's is not: -m may exceed the
	 * host's free memory as long as the guest does not touch it all.
	 */
	if (b->fd >= 0)
		p = mmap(aligned, b->size, PROT_READ | PROT_WRITE,
			 (b->share ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED |
			 (b->hugetlb ? 0 : MAP_NORESERVE), b->fd, 0);
	else
		p = mmap(aligned, b->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		e = errno;
		err_msg("%s: mmap: %s%s", what, strerror(e),
			b->hugetlb ? " (are enough huge pages reserved? see /proc/sys/vm/nr_hugepages)" : "");
		munmap(base, b->map_size);
		goto fail;
	}
	b->map_base = base;
	b->hva = aligned;
	/* hugetlbfs reports its page size as the block size; shmem and anonymous 4 KiB. */
	b->page_size = 4 * KiB;
	if (b->hugetlb) {
		struct statfs sfs;

		if (!fstatfs(b->fd, &sfs) && sfs.f_bsize > 0)
			b->page_size = (uint64_t)sfs.f_bsize;
		else
			b->page_size = b->hugetlbsize ? b->hugetlbsize : RAM_ALIGN;
	}
	if (!b->hugetlb)
		madvise(aligned, b->size, MADV_HUGEPAGE);
	/* Guest RAM never belongs in a core dump of ember. */
	madvise(aligned, b->size, MADV_DONTDUMP);
	return 0;
fail:
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	return -e;
}

static void mem_destroy(struct object *o)
{
	struct mem_backend *b = to_mem(o);

	if (b->map_base)
		munmap(b->map_base, b->map_size);
	if (b->fd >= 0)
		close(b->fd);
	object_del(o);
	free(b);
}

static const struct object_type ram_type = {
	.name = "memory-backend-ram",
	.kind = OBJ_OBJECT,
	.noun = "memory backend",
	.desc = "guest RAM back end: anonymous memory (huge pages by default)",
	.props = ram_props,
	.create = mem_create,
	.destroy = mem_destroy,
};
OBJECT_TYPE(ram_type)

static const struct object_type memfd_type = {
	.name = "memory-backend-memfd",
	.kind = OBJ_OBJECT,
	.noun = "memory backend",
	.desc = "guest RAM back end: a memfd, shared by default",
	.props = memfd_props,
	.create = mem_create,
	.destroy = mem_destroy,
};
OBJECT_TYPE(memfd_type)
