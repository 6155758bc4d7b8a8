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

int jail_dir_build(struct jail_opts *o, struct jail_plan *p)
{
	char ember_dir[JAIL_PATH_MAX + 8];
	int rootfd = -1, e;

	snprintf(ember_dir, sizeof(ember_dir), "%s/ember", p->base);
	if (mkdir(ember_dir, 0755) && errno != EEXIST) {
		err_msg("cannot create %s: %s", ember_dir, strerror(errno));
		return -1;
	}
	if (mkdir(p->dir, 0755)) {
		if (errno == EEXIST)
			err_msg("jail %s already exists (a jail with this id runs, or one was not "
				"cleaned up: remove it)", p->dir);
		else
			err_msg("cannot create %s: %s", p->dir, strerror(errno));
		return -1;
	}
	p->dir_made = true;
	if (mkdir(p->root, 0755) ||
	    (rootfd = open(p->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		err_msg("cannot create %s: %s", p->root, strerror(errno));
		return -1;
	}
	for (int i = 0; i < p->ncopies; i++) {
		if ((e = copy_into(rootfd, p->copies[i].host, p->copies[i].jail, p->copies[i].mode))) {
			err_msg("cannot copy %s into the jail: %s", p->copies[i].host, strerror(-e));
			goto fail;
		}
		jail_say("copied %s -> %s", p->copies[i].host, p->copies[i].jail);
	}
	for (size_t i = 0; i < jail_ndevnodes; i++) {
		const struct jail_devnode *d = &jail_devnodes[i];
		struct stat st;

		if (stat(d->path, &st) || !S_ISCHR(st.st_mode))
			continue;
		if ((e = mkparents_at(rootfd, d->path)) ||
		    (mknodat(rootfd, d->path + 1, S_IFCHR | d->mode, st.st_rdev) && (e = -errno)) ||
		    (fchmodat(rootfd, d->path + 1, d->mode, 0) && (e = -errno)) ||
		    (d->for_vm && fchownat(rootfd, d->path + 1, p->uid, p->gid, AT_SYMLINK_NOFOLLOW) &&
		     (e = -errno))) {
			err_msg("cannot create %s in the jail: %s", d->path, strerror(-e));
			goto fail;
		}
		jail_say("device %s (%u:%u)", d->path, major(st.st_rdev), minor(st.st_rdev));
	}
	/* mount points for the bind mounts: empty files or directories */
	for (int i = 0; i < o->nfiles; i++) {
		struct jail_file *f = &o->files[i];
		struct stat st;
		int fd;

		if (stat(f->host, &st)) {
			e = -errno;
			goto mp_fail;
		}
		if ((e = mkparents_at(rootfd, f->jail)))
			goto mp_fail;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(rootfd, f->jail + 1, 0755)) {
				e = -errno;
				goto mp_fail;
			}
		} else {
			fd = openat(rootfd, f->jail + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				    0600);
			if (fd < 0) {
				e = -errno;
				goto mp_fail;
			}
			close(fd);
		}
		continue;
mp_fail:
		err_msg("cannot create the mount point %s in the jail: %s", f->jail, strerror(-e));
		goto fail;
	}
	/* the program may create its sockets and files at the top of its root */
	if (fchown(rootfd, p->uid, p->gid)) {
		err_msg("cannot chown %s: %s", p->root, strerror(errno));
		goto fail;
	}
	close(rootfd);
	return 0;
fail:
	close(rootfd);
	return -1;
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
