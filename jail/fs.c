/* The jail directory: made with the program, devices and mount points; removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lib/log.h"
#include "jail/jail.h"

/* mkdir -p of REL (relative, no "..") below BASE_FD; directories 0755. */
static int mkdirs_at(int base_fd, const char *rel)
{
	char buf[JAIL_PATH_MAX];
	int fd = dup(base_fd);

	if (fd < 0)
		return -errno;
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", rel);
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int nfd;

		if (mkdirat(fd, c, 0755) && errno != EEXIST) {
			int e = errno;

			close(fd);
			return -e;
		}
		nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd < 0)
			return -errno;
		fd = nfd;
	}
	close(fd);
	return 0;
}

/* Make the parent directories of the absolute jail path JPATH below ROOTFD. */
static int mkparents_at(int rootfd, const char *jpath)
{
	char dir[JAIL_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", jpath + 1);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = 0;
	return mkdirs_at(rootfd, dir);
}

/* Copy the host file SRC to the absolute jail path JPATH, mode MODE. */
static int copy_into(int rootfd, const char *src, const char *jpath, mode_t mode)
{
	char buf[65536];
	int in, out, e = 0;
	ssize_t r;

	if ((e = mkparents_at(rootfd, jpath)))
		return e;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = openat(rootfd, jpath + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		e = -errno;
		close(in);
		return e;
	}
	while ((r = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(out, buf + off, (size_t)(r - off));

			if (w < 0) {
				if (errno == EINTR)
					continue;
				e = -errno;
				goto out;
			}
			off += w;
		}
	}
	if (r < 0)
		e = -errno;
	else if (fchmod(out, mode))
		e = -errno;
out:
	close(in);
	close(out);
	return e;
}

/*
 * Remove NAME below PFD and everything in it, never following symlinks
 * and never crossing into another file system (the jailed program could
 * have planted links in its root).
 */
static int remove_tree_at(int pfd, const char *name, dev_t dev, int depth)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int fd, e = 0;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(pfd, name, 0) ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV;
	if (depth > 256)
		return -ELOOP;
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		e = -errno;
		close(fd);
		return e;
	}
	while ((de = readdir(d))) {
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = remove_tree_at(dirfd(d), de->d_name, dev, depth + 1);
		if (r && !e)
			e = r;
	}
	closedir(d);
	if (!e && unlinkat(pfd, name, AT_REMOVEDIR))
		e = -errno;
	return e;
}

/* --- the jail directory ----------------------------------------------- */

/* <base>/ember/<id>/root made, and opened in *ROOTFD. */
static int make_dirs(struct jail_plan *p, int *rootfd)
{
	char ember_dir[JAIL_PATH_MAX + 8];
	int e;

	snprintf(ember_dir, sizeof(ember_dir), "%s/ember", p->base);
	if (mkdir(ember_dir, 0755) && errno != EEXIST) {
		e = errno;
		err_msg("cannot create %s: %s", ember_dir, strerror(e));
		return -e;
	}
	if (mkdir(p->dir, 0755)) {
		e = errno;
		if (e == EEXIST)
			err_msg("jail %s already exists (a jail with this id runs, or one was not "
				"cleaned up: remove it)", p->dir);
		else
			err_msg("cannot create %s: %s", p->dir, strerror(e));
		return -e;
	}
	p->dir_made = true;
	if (mkdir(p->root, 0755) ||
	    (*rootfd = open(p->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		e = errno;
		err_msg("cannot create %s: %s", p->root, strerror(e));
		return -e;
	}
	return 0;
}

/* The program, its interpreter and its libraries. */
static int copy_program(int rootfd, const struct jail_plan *p)
{
	for (int i = 0; i < p->ncopies; i++) {
		const struct jail_copy *c = &p->copies[i];
		int e = copy_into(rootfd, c->host, c->jail, c->mode);

		if (e) {
			err_msg("cannot copy %s into the jail: %s", c->host, strerror(-e));
			return e;
		}
		jail_say("copied %s -> %s", c->host, c->jail);
	}
	return 0;
}

/* The device nodes the host has, with the host's major:minor (--vfio's too). */
static int make_devnodes(int rootfd, const struct jail_plan *p)
{
	for (size_t i = 0; i < jail_ndevnodes + (size_t)p->nvfio_nodes; i++) {
		struct jail_devnode vfio = { NULL, 0600, true };
		const struct jail_devnode *d = &vfio;
		struct stat st;
		int e = 0;

		if (i < jail_ndevnodes)
			d = &jail_devnodes[i];
		else
			vfio.path = p->vfio_nodes[i - jail_ndevnodes];

		if (stat(d->path, &st) || !S_ISCHR(st.st_mode))
			continue;
		if ((e = mkparents_at(rootfd, d->path)) ||
		    (mknodat(rootfd, d->path + 1, S_IFCHR | d->mode, st.st_rdev) && (e = -errno)) ||
		    (fchmodat(rootfd, d->path + 1, d->mode, 0) && (e = -errno)) ||
		    (d->for_vm && fchownat(rootfd, d->path + 1, p->uid, p->gid, AT_SYMLINK_NOFOLLOW) &&
		     (e = -errno))) {
			err_msg("cannot create %s in the jail: %s", d->path, strerror(-e));
			return e;
		}
		jail_say("device %s (%u:%u)", d->path, major(st.st_rdev), minor(st.st_rdev));
	}
	return 0;
}

/* The mount point of a bind mount: an empty file or directory, as the host's is. */
static int make_mount_point(int rootfd, const struct jail_file *f)
{
	struct stat st;
	int fd, e;

	if (stat(f->host, &st))
		return -errno;
	if ((e = mkparents_at(rootfd, f->jail)))
		return e;
	if (S_ISDIR(st.st_mode))
		return mkdirat(rootfd, f->jail + 1, 0755) ? -errno : 0;
	fd = openat(rootfd, f->jail + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int jail_dir_build(struct jail_opts *o, struct jail_plan *p)
{
	int rootfd, r;

	if ((r = make_dirs(p, &rootfd)))
		return r;
	r = copy_program(rootfd, p);
	if (!r)
		r = make_devnodes(rootfd, p);
	for (int i = 0; !r && i < o->nfiles; i++)
		if ((r = make_mount_point(rootfd, &o->files[i])))
			err_msg("cannot create the mount point %s in the jail: %s", o->files[i].jail,
				strerror(-r));
	/* the program may create its sockets and files at the top of its root */
	if (!r && fchown(rootfd, p->uid, p->gid)) {
		r = -errno;
		err_msg("cannot chown %s: %s", p->root, strerror(-r));
	}
	close(rootfd);
	return r;
}

void jail_dir_cleanup(struct jail_plan *p)
{
	char ember_dir[JAIL_PATH_MAX + 8];
	const char *name;
	struct stat st;
	int dfd, e;

	if (!p->dir_made)
		return;
	p->dir_made = false;
	snprintf(ember_dir, sizeof(ember_dir), "%s/ember", p->base);
	dfd = open(ember_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st)) {
		jail_warn("cannot remove %s: %s", p->dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return;
	}
	name = strrchr(p->dir, '/') + 1;
	e = remove_tree_at(dfd, name, st.st_dev, 0);
	if (e)
		jail_warn("cannot remove all of %s: %s", p->dir, strerror(-e));
	close(dfd);
}
