/*
 * Guest RAM back ends: which kind of memory plain -m, memory-backend-ram and
 * memory-backend-memfd give (anonymous or a memfd, shared or private), read
 * back from the kernel's own view of the mapping (/proc/self/smaps), their
 * options and errors, and when the huge page warning is due.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "backends/memory.h"
#include "lib/log.h"
#include "lib/util.h"

struct vma {
	bool found;
	char path[128];		/* "" for anonymous memory */
	bool shared;		/* 's' in the permissions */
	char flags[256];	/* VmFlags: "hg" is MADV_HUGEPAGE, "dd" MADV_DONTDUMP */
};

/* The mapping of /proc/self/smaps that starts at @addr. */
static struct vma vma_at(const void *addr)
{
	char line[512], want[32];
	struct vma v = { 0 };
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)addr);
	while (fgets(line, sizeof(line), f)) {
		char perms[8] = "", path[128] = "";

		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') &&
		    sscanf(line, "%*s %7s %*s %*s %*s %127[^\n]", perms, path) >= 1) {
			in = !strncmp(line, want, strlen(want));
			if (in) {
				v.found = true;
				v.shared = perms[3] == 's';
				snprintf(v.path, sizeof(v.path), "%s", path);
			}
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			/* " rd wr ... hg dd \n": each flag between spaces */
			snprintf(v.flags, sizeof(v.flags), "%.*s ", (int)strcspn(line + 8, "\n"), line + 8);
		}
	}
	fclose(f);
	return v;
}

static bool has_flag(const struct vma *v, const char *flag)
{
	char padded[8];

	snprintf(padded, sizeof(padded), " %s ", flag);
	return strstr(v->flags, padded) != NULL;
}

static int create(const char *opts)
{
	return object_create(OBJ_OBJECT, opts, NULL);
}

static int teardown(void **state)
{
	(void)state;
	object_cleanup_all();
	return 0;
}

/* Plain -m: private anonymous memory, 2 MiB aligned, advised for THP. */
static void t_default_is_anonymous(void **state)
{
	struct mem_backend *b;
	struct vma v;

	(void)state;
	assert_int_equal(mem_backend_create_default(8 * MiB, &b), 0);
	assert_int_equal(mem_backend_map(b), 0);
	assert_int_equal(b->fd, -1);
	assert_false(b->share);
	assert_false(mem_backend_is_shmem(b));
	assert_int_equal((uintptr_t)b->hva % (2 * MiB), 0);
	assert_int_equal(b->page_size, 4 * KiB);
	v = vma_at(b->hva);
	assert_true(v.found);
	assert_string_equal(v.path, "");
	assert_false(v.shared);
	assert_true(has_flag(&v, "hg"));
	assert_true(has_flag(&v, "dd"));
	memset(b->hva, 0x5a, 8 * MiB);	/* writable, all of it */
	assert_ptr_equal(mem_backend_by_hva(b->hva), b);
	assert_ptr_equal(mem_backend_by_hva((uint8_t *)b->hva + 8 * MiB - 1), b);
	assert_null(mem_backend_by_hva((uint8_t *)b->hva + 8 * MiB));
	assert_null(mem_backend_by_hva(&v));
	/* The RAM of -m has no id: -M memory-backend= cannot name it. */
	assert_null(mem_backend_find(NULL));
}

/* QEMU's memory-backend-ram: anonymous and private unless share=on. */
static void t_ram_object(void **state)
{
	struct mem_backend *b;
	struct vma v;

	(void)state;
	assert_int_equal(create("qom-type=memory-backend-ram,id=r0,size=4M"), 0);
	b = mem_backend_find("r0");
	assert_non_null(b);
	assert_int_equal(b->size, 4 * MiB);
	assert_false(b->share);
	assert_int_equal(mem_backend_map(b), 0);
	assert_int_equal(b->fd, -1);
	v = vma_at(b->hva);
	assert_string_equal(v.path, "");
	assert_false(v.shared);
	assert_true(has_flag(&v, "hg"));

	/* share=on: shared memory that can be passed on, so a memfd. */
	assert_int_equal(create("qom-type=memory-backend-ram,id=r1,size=2M,share=on"), 0);
	b = mem_backend_find("r1");
	assert_non_null(b);
	assert_true(mem_backend_is_shmem(b));
	assert_int_equal(mem_backend_map(b), 0);
	assert_true(b->fd >= 0);
	v = vma_at(b->hva);
	assert_true(v.shared);
	assert_non_null(strstr(v.path, "ember-ram"));
	assert_int_equal((uintptr_t)b->hva % (2 * MiB), 0);
}

/* memory-backend-memfd: shared by default as in QEMU; share=off maps it private. */
static void t_memfd_object(void **state)
{
	struct mem_backend *b;
	struct vma v;

	(void)state;
	assert_int_equal(create("qom-type=memory-backend-memfd,id=m0,size=4M"), 0);
	b = mem_backend_find("m0");
	assert_non_null(b);
	assert_true(b->share);
	assert_int_equal(mem_backend_map(b), 0);
	assert_true(b->fd >= 0);
	v = vma_at(b->hva);
	assert_true(v.shared);
	assert_non_null(strstr(v.path, "ember-ram"));
	assert_true(has_flag(&v, "hg"));
	assert_ptr_equal(mem_backend_by_hva((uint8_t *)b->hva + 4096), b);

	assert_int_equal(create("qom-type=memory-backend-memfd,id=m1,size=2M,share=off"), 0);
	b = mem_backend_find("m1");
	assert_non_null(b);
	assert_false(b->share);
	assert_true(mem_backend_is_shmem(b));
	assert_int_equal(mem_backend_map(b), 0);
	assert_true(b->fd >= 0);
	v = vma_at(b->hva);
	assert_false(v.shared);
	assert_non_null(strstr(v.path, "ember-ram"));
}

static void t_bad_options(void **state)
{
	(void)state;
	log_set_quiet(1);
	/* hugetlb is memfd's alone, as in QEMU. */
	assert_true(create("qom-type=memory-backend-ram,id=r,size=4M,hugetlb=on") < 0);
	assert_true(create("qom-type=memory-backend-ram,id=r,share=on") < 0);	/* no size */
	assert_true(create("qom-type=memory-backend-ram,id=r,size=4M,share=maybe") < 0);
	assert_true(create("qom-type=memory-backend-memfd,id=m,size=3M,hugetlb=on") < 0);
	assert_true(create("qom-type=memory-backend-memfd,id=m,size=4M,hugetlbsize=4M") < 0);
	assert_int_equal(create("qom-type=memory-backend-ram,id=x,size=4M"), 0);
	/* One id namespace for both types. */
	assert_true(create("qom-type=memory-backend-memfd,id=x,size=4M") < 0);
	log_set_quiet(0);
	assert_null(mem_backend_find("r"));
	assert_null(mem_backend_find("m"));
	assert_non_null(mem_backend_find("x"));
}

/* The warning is due for shared memory only, and only when shmem THP is off. */
static void t_thp_warning(void **state)
{
	const char *never = "always within_size advise [never] deny force\n";
	const char *advise = "always within_size [advise] never deny force\n";
	struct mem_backend *d, *r, *rs, *m, *h;

	(void)state;
	assert_int_equal(mem_backend_create_default(2 * MiB, &d), 0);
	assert_int_equal(create("qom-type=memory-backend-ram,id=r,size=2M"), 0);
	assert_int_equal(create("qom-type=memory-backend-ram,id=rs,size=2M,share=on"), 0);
	assert_int_equal(create("qom-type=memory-backend-memfd,id=m,size=2M"), 0);
	assert_int_equal(create("qom-type=memory-backend-memfd,id=h,size=2M,hugetlb=on"), 0);
	r = mem_backend_find("r");
	rs = mem_backend_find("rs");
	m = mem_backend_find("m");
	h = mem_backend_find("h");
	assert_false(mem_backend_thp_missing(d, never));
	assert_false(mem_backend_thp_missing(r, never));
	assert_true(mem_backend_thp_missing(rs, never));
	assert_true(mem_backend_thp_missing(m, never));
	assert_true(mem_backend_thp_missing(m, "always within_size advise never [deny] force"));
	assert_false(mem_backend_thp_missing(m, advise));
	assert_false(mem_backend_thp_missing(m, NULL));
	assert_false(mem_backend_thp_missing(h, never));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(t_default_is_anonymous, teardown),
		cmocka_unit_test_teardown(t_ram_object, teardown),
		cmocka_unit_test_teardown(t_memfd_object, teardown),
		cmocka_unit_test_teardown(t_bad_options, teardown),
		cmocka_unit_test_teardown(t_thp_warning, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
