/* The plan: who runs what, every input checked before anything is created. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "lib/log.h"
#include "jail/jail.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

/* A decimal id below 2^32-1 (the kernel's "no id"). 1: not a number. */
static int parse_id_number(const char *s, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return 1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (*end)
		return 1;
	if (errno || *out >= 0xffffffffUL)
		return -ERANGE;
	return 0;
}

/* OPT S (--uid or --gid): a number or a name, never 0 (root). */
static int resolve_id(const char *s, const char *opt, bool group, unsigned long *v)
{
	int r = parse_id_number(s, v);

	if (r < 0) {
		err_msg("%s %s: out of range", opt, s);
		return r;
	}
	if (r > 0 && group) {
		struct group *gr = getgrnam(s);

		if (!gr) {
			err_msg("%s %s: no such group", opt, s);
			return -ENOENT;
		}
		*v = gr->gr_gid;
	} else if (r > 0) {
		struct passwd *pw = getpwnam(s);

		if (!pw) {
			err_msg("%s %s: no such user", opt, s);
			return -ENOENT;
		}
		*v = pw->pw_uid;
	}
	if (*v == 0) {
		err_msg("%s %s: the jail must not run as %s", opt, s,
			group ? "group root (gid 0)" : "root (uid 0)");
		return -EINVAL;
	}
	return 0;
}

int jail_resolve_uid(const char *s, uid_t *out)
{
	unsigned long v;
	int r = resolve_id(s, "--uid", false, &v);

	if (!r)
		*out = (uid_t)v;
	return r;
}

int jail_resolve_gid(const char *s, gid_t *out)
{
	unsigned long v;
	int r = resolve_id(s, "--gid", true, &v);

	if (!r)
		*out = (gid_t)v;
	return r;
}

/* --- the plan: what goes into the jail --------------------------------- */

static const char *const lib_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
	"/lib", "/usr/lib", "/usr/local/lib",
};

const struct jail_devnode jail_devnodes[] = {
	{ "/dev/kvm", 0600, true },
	{ "/dev/net/tun", 0600, true },
	{ "/dev/vhost-net", 0600, true },
	{ "/dev/vhost-vsock", 0600, true },
	{ "/dev/null", 0666, false },
	{ "/dev/urandom", 0666, false },
};
const size_t jail_ndevnodes = sizeof(jail_devnodes) / sizeof(jail_devnodes[0]);

static int plan_add(struct jail_plan *p, const char *host, const char *jail, mode_t mode)
{
	struct jail_copy *c;

	for (int i = 0; i < p->ncopies; i++)
		if (!strcmp(p->copies[i].jail, jail))
			return 0;
	if (p->ncopies == p->cap) {
		int cap = p->cap ? p->cap * 2 : 16;

		c = realloc(p->copies, (size_t)cap * sizeof(*c));
		if (!c) {
			err_msg("out of memory");
			return -ENOMEM;
		}
		p->copies = c;
		p->cap = cap;
	}
	c = &p->copies[p->ncopies++];
	snprintf(c->host, JAIL_PATH_MAX, "%s", host);
	snprintf(c->jail, JAIL_PATH_MAX, "%s", jail);
	c->mode = mode;
	return 0;
}

/* Read the ELF at PATH: interpreter and DT_NEEDED names. */
static int elf_deps_of(const char *path, const char *what, char *interp, size_t isz,
		       char (*needed)[JAIL_NAME_MAX], int max)
{
	struct stat st;
	void *img;
	int fd, n, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		err_msg("%s: %s", what, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) {
		err_msg("%s: not a regular file", what);
		close(fd);
		return -EINVAL;
	}
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	e = errno;
	close(fd);
	if (img == MAP_FAILED) {
		err_msg("%s: %s", what, strerror(e));
		return -e;
	}
	n = jail_elf_deps(img, (size_t)st.st_size, interp, isz, needed, max);
	munmap(img, (size_t)st.st_size);
	if (n < 0) {
		char m[512];

		snprintf(m, sizeof(m), "%s", log_last());
		err_msg("%s: %s", what, m);
	}
	return n;
}

/* The exec file, at /<its basename>. */
static int plan_exec(struct jail_plan *p, const char *exec_file, const char *what)
{
	const char *base = strrchr(exec_file, '/');
	struct stat st;

	if (stat(exec_file, &st)) {
		int e = errno;

		err_msg("%s: %s", what, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		err_msg("%s: not an executable file", what);
		return -EACCES;
	}
	base = base ? base + 1 : exec_file;
	if (strlen(base) >= JAIL_NAME_MAX) {
		err_msg("%s: file name too long", what);
		return -ENAMETOOLONG;
	}
	p->exec_jail[0] = '/';
	memcpy(p->exec_jail + 1, base, strlen(base) + 1);
	return plan_add(p, exec_file, p->exec_jail, 0755);
}

/* The ELF interpreter INTERP, at the same path. */
static int plan_interp(struct jail_plan *p, const char *what, const char *interp)
{
	if (access(interp, R_OK)) {
		int e = errno;

		err_msg("%s: its interpreter %s: %s", what, interp, strerror(e));
		return -e;
	}
	return plan_add(p, interp, interp, 0755);
}

/* The library NAME, from the first of lib_dirs that has it, at the same path. */
static int plan_library(struct jail_plan *p, const char *exec_file, const char *name)
{
	for (size_t d = 0; d < sizeof(lib_dirs) / sizeof(lib_dirs[0]); d++) {
		char cand[JAIL_PATH_MAX];
		struct stat st;

		snprintf(cand, sizeof(cand), "%s/%s", lib_dirs[d], name);
		if (!stat(cand, &st) && S_ISREG(st.st_mode))
			return plan_add(p, cand, cand, 0755);
	}
	err_msg("--exec-file %s: shared library %s not found in /lib, /usr/lib "
		"and their x86_64-linux-gnu directories", exec_file, name);
	return -ENOENT;
}

/*
 * The exec file, its interpreter and the closure of its DT_NEEDED
 * libraries and of the --lib ones (which a program loads with dlopen(), so
 * its ELF does not name them).
 */
static int plan_program(struct jail_plan *p, const char *exec_file, char *const *libs,
			int nlibs)
{
	char interp[JAIL_PATH_MAX];
	char (*needed)[JAIL_NAME_MAX] = calloc(64 + (size_t)nlibs, JAIL_NAME_MAX);
	char what[JAIL_PATH_MAX + 32];
	int first_lib, n = 0, r;

	if (!needed) {
		err_msg("out of memory");
		return -ENOMEM;
	}
	snprintf(what, sizeof(what), "--exec-file %s", exec_file);
	r = plan_exec(p, exec_file, what);
	if (!r)
		r = n = elf_deps_of(exec_file, what, interp, sizeof(interp), needed, 64);
	for (int k = 0; r >= 0 && k < nlibs; k++)	/* checked by the parser: they fit */
		snprintf(needed[n++], JAIL_NAME_MAX, "%s", libs[k]);
	if (r >= 0 && interp[0])
		r = plan_interp(p, what, interp);
	first_lib = p->ncopies;
	/* breadth first: the exec file's list (read above), then each library added in turn */
	for (int cur = first_lib - 1; r >= 0 && cur < p->ncopies; cur++) {
		if (cur >= first_lib) {
			snprintf(what, sizeof(what), "library %s", p->copies[cur].host);
			r = n = elf_deps_of(p->copies[cur].host, what, interp, sizeof(interp), needed, 64);
		}
		for (int k = 0; r >= 0 && k < n; k++)
			r = plan_library(p, exec_file, needed[k]);
	}
	free(needed);
	return r < 0 ? r : 0;
}

/* The base directory exists; the jail's does not, yet. */
static int check_dirs(const struct jail_opts *o, struct jail_plan *p)
{
	struct stat st;
	int r;

	if (!realpath(o->base_dir, p->base)) {
		r = -errno;
		err_msg("--chroot-base-dir %s: %s", o->base_dir, strerror(-r));
		return r;
	}
	if (stat(p->base, &st) || !S_ISDIR(st.st_mode)) {
		err_msg("--chroot-base-dir %s: not a directory", o->base_dir);
		return -ENOTDIR;
	}
	if ((r = jail_dir_path(p->dir, sizeof(p->dir), p->base, o->id)) ||
	    (r = jail_root_path(p->root, sizeof(p->root), p->base, o->id)))
		return r;
	if (!lstat(p->dir, &st)) {
		err_msg("jail %s already exists (a jail with this id runs, or one was not "
			"cleaned up: remove it)", p->dir);
		return -EEXIST;
	}
	return 0;
}

/*
 * Each --file and --rw-file exists, and is a file, a directory or a Unix
 * socket (a vhost-user back end's, which the jailed program connects to):
 * its real path.
 */
static int check_files(struct jail_opts *o)
{
	struct stat st;

	for (int i = 0; i < o->nfiles; i++) {
		struct jail_file *f = &o->files[i];
		const char *opt = f->rw ? "--rw-file" : "--file";
		char real[PATH_MAX];

		if (!realpath(f->host, real)) {
			int e = errno;

			err_msg("%s %s: %s", opt, f->host, strerror(e));
			return -e;
		}
		if (stat(real, &st) ||
		    (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISSOCK(st.st_mode))) {
			err_msg("%s %s: not a regular file, a directory or a socket", opt, f->host);
			return -EINVAL;
		}
		snprintf(f->host, sizeof(f->host), "%s", real);
	}
	return 0;
}

static int check_keep_fds(const struct jail_opts *o)
{
	for (int i = 0; i < o->nkeep; i++)
		if (fcntl(o->keep_fds[i], F_GETFD) < 0) {
			err_msg("--keep-fd %d: not an open descriptor", o->keep_fds[i]);
			return -EBADF;
		}
	return 0;
}

/* --netns, opened now (the child joins it): a network namespace. */
static int open_netns(const struct jail_opts *o, struct jail_plan *p)
{
	struct statfs sf;

	if (!o->netns)
		return 0;
	p->netns_fd = open(o->netns, O_RDONLY | O_CLOEXEC);
	if (p->netns_fd < 0) {
		int e = errno;

		err_msg("--netns %s: %s", o->netns, strerror(e));
		return -e;
	}
	if (fstatfs(p->netns_fd, &sf) || sf.f_type != NSFS_MAGIC ||
	    ioctl(p->netns_fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		err_msg("--netns %s: not a network namespace", o->netns);
		return -EINVAL;
	}
	return 0;
}

/* A character device the host has at @path, or an error naming --vfio @group. */
static int vfio_node(struct jail_plan *p, const char *path, const char *group)
{
	struct stat st;

	for (int i = 0; i < p->nvfio_nodes; i++)
		if (!strcmp(p->vfio_nodes[i], path))
			return 0;
	if (stat(path, &st) || !S_ISCHR(st.st_mode)) {
		err_msg("--vfio %s: the host has no %s (is a device of IOMMU group %s bound to "
			"vfio-pci? modprobe vfio-pci)", group, path, group);
		return -ENOENT;
	}
	snprintf(p->vfio_nodes[p->nvfio_nodes++], sizeof(p->vfio_nodes[0]), "%s", path);
	return 0;
}

/*
 * --vfio GROUP: the container and group nodes, and each device of the
 * group's sysfs directory as a read-only --file at /sys/bus/pci/devices/,
 * where ember checks its driver and group.
 */
static int check_vfio(struct jail_opts *o, struct jail_plan *p)
{
	for (int g = 0; g < o->nvfio; g++) {
		char path[64], dir[96];
		struct dirent *e;
		DIR *d;
		int r;

		snprintf(path, sizeof(path), "/dev/vfio/%s", o->vfio[g]);
		if ((r = vfio_node(p, "/dev/vfio/vfio", o->vfio[g])) ||
		    (r = vfio_node(p, path, o->vfio[g])))
			return r;
		snprintf(dir, sizeof(dir), "/sys/kernel/iommu_groups/%s/devices", o->vfio[g]);
		if (!(d = opendir(dir))) {
			r = -errno;
			err_msg("--vfio %s: %s: %s", o->vfio[g], dir, strerror(-r));
			return r;
		}
		while ((e = readdir(d))) {
			struct jail_file *f, *more;

			if (e->d_name[0] == '.')
				continue;
			more = realloc(o->files, (size_t)(o->nfiles + 1) * sizeof(*more));
			if (!more) {
				closedir(d);
				err_msg("out of memory");
				return -ENOMEM;
			}
			o->files = more;
			f = &o->files[o->nfiles++];
			*f = (struct jail_file){ .spec = o->vfio[g] };
			snprintf(f->host, sizeof(f->host), "%s/%.256s", dir, e->d_name);
			snprintf(f->jail, sizeof(f->jail), "/sys/bus/pci/devices/%.256s", e->d_name);
		}
		closedir(d);
	}
	return 0;
}

/* Nothing may land twice on one jail path. */
static int check_duplicates(const struct jail_opts *o, const struct jail_plan *p)
{
	const char **paths = calloc((size_t)(p->ncopies + o->nfiles + p->nvfio_nodes) +
				    jail_ndevnodes, sizeof(*paths));
	const char *dup;
	int np = 0;

	if (!paths) {
		err_msg("out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < p->ncopies; i++)
		paths[np++] = p->copies[i].jail;
	for (size_t i = 0; i < jail_ndevnodes; i++)
		paths[np++] = jail_devnodes[i].path;
	for (int i = 0; i < p->nvfio_nodes; i++)
		paths[np++] = p->vfio_nodes[i];
	for (int i = 0; i < o->nfiles; i++)
		paths[np++] = o->files[i].jail;
	dup = jail_find_duplicate(paths, np);
	if (dup)
		err_msg("jail path %s is used twice (check --file/--rw-file and the program's libraries)",
			dup);
	free(paths);
	return dup ? -EINVAL : 0;
}

int jail_check_inputs(struct jail_opts *o, struct jail_plan *p)
{
	int r;

	p->netns_fd = -1;
	if ((r = jail_resolve_uid(o->uid_str, &p->uid)) ||
	    (r = jail_resolve_gid(o->gid_str, &p->gid)) ||
	    (r = check_dirs(o, p)) ||
	    (r = plan_program(p, o->exec_file, o->libs, o->nlibs)) ||
	    (r = check_vfio(o, p)) ||
	    (r = check_files(o)) ||
	    (r = check_keep_fds(o)) ||
	    (r = open_netns(o, p)) ||
	    (r = check_duplicates(o, p)))
		return r;
	return 0;
}
