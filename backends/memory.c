/*
 * -object memory-backend-memfd and the default RAM back end: a memfd mapped
 * at a 2 MiB aligned address, found again by id or by fd; see memory.h.
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

static const struct prop mem_props[] = {
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

static const struct object_type memfd_type;

static struct mem_backend *to_mem(const struct object *o)
{
	return o ? container_of(o, struct mem_backend, obj) : NULL;
}

struct mem_backend *mem_backend_by_fd(int fd)
{
	for (struct object *o = NULL; (o = object_next(&memfd_type, o));)
		if (fd >= 0 && to_mem(o)->fd == fd)
			return to_mem(o);
	return NULL;
}

struct mem_backend *mem_backend_find(const char *id)
{
	struct object *o = object_find(OBJ_OBJECT, id);

	return o && o->type == &memfd_type ? to_mem(o) : NULL;
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
	struct mem_backend *b = mem_backend_new();
	int ret;

	if (!b) {
		err_msg("%s: out of memory", a->owner);
		return -ENOMEM;
	}
	props_set_defaults(mem_props, b, a->owner);
	ret = props_apply(mem_props, b, a->kv, a->owner);
	if (!ret && b->hugetlbsize && b->hugetlbsize != 2 * MiB && b->hugetlbsize != GiB) {
		err_msg("%s: hugetlbsize must be 2M or 1G", a->owner);
		ret = -EINVAL;
	}
	if (!ret && b->hugetlb && !IS_ALIGNED(b->size, b->hugetlbsize ? b->hugetlbsize : RAM_ALIGN)) {
		err_msg("%s,id=%s: size must be a multiple of the huge page size", a->owner, a->id);
		ret = -EINVAL;
	}
	if (!ret)
		ret = object_add(&b->obj, &memfd_type, a->id, a->owner);
	if (ret)
		free(b);
	return ret;
}

int mem_backend_create_default(uint64_t size, struct mem_backend **out)
{
	struct mem_backend *b = mem_backend_new();

	if (!b)
		return -ENOMEM;
	b->size = size;
	b->share = true;
	if (object_add(&b->obj, &memfd_type, NULL, "-m")) {
		free(b);
		return -ENOMEM;
	}
	*out = b;
	return 0;
}

/*
 * memfd RAM gets 2 MiB pages only if shmem THP is allowed; with the kernel
 * default ("never") every 4 KiB guest page is a separate nested fault and
 * a stock kernel boots ~2x slower in the lab (docs/benchmarks.md).
 */
void mem_backend_check_thp(const struct mem_backend *b)
{
	char buf[128] = "";
	FILE *f;

	if (b->hugetlb)
		return;
	f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "r");
	if (!f)
		return;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (strstr(buf, "[never]") || strstr(buf, "[deny]"))
		warn_msg("guest RAM gets no huge pages: shmem THP is off; "
			 "echo advise > /sys/kernel/mm/transparent_hugepage/shmem_enabled "
			 "(or use hugetlb=on) for faster guests");
}

int mem_backend_map(struct mem_backend *b)
{
	const char *what = b->obj.id ? b->obj.id : "guest RAM";
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	uint64_t align = RAM_ALIGN;
	uint8_t *base, *aligned;
	int e;

	if (b->hugetlb) {
		flags = MFD_CLOEXEC | MFD_HUGETLB;
		if (b->hugetlbsize) {
			flags |= (unsigned)__builtin_ctzll(b->hugetlbsize) << MFD_HUGE_SHIFT;
			align = MAX(align, b->hugetlbsize);
		}
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
		goto fail;
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
	 * the guest touches a page.
	 */
	if (mmap(aligned, b->size, PROT_READ | PROT_WRITE,
		 (b->share ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED |
		 (b->hugetlb ? 0 : MAP_NORESERVE),
		 b->fd, 0) == MAP_FAILED) {
		e = errno;
		err_msg("%s: mmap: %s%s", what, strerror(e),
			b->hugetlb ? " (are enough huge pages reserved? see /proc/sys/vm/nr_hugepages)" : "");
		munmap(base, b->map_size);
		goto fail;
	}
	b->map_base = base;
	b->hva = aligned;
	/* hugetlbfs reports its page size as the block size; shmem 4 KiB. */
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

static const struct object_type memfd_type = {
	.name = "memory-backend-memfd",
	.kind = OBJ_OBJECT,
	.noun = "memory backend",
	.desc = "guest RAM back end",
	.props = mem_props,
	.create = mem_create,
	.destroy = mem_destroy,
};
OBJECT_TYPE(memfd_type)
