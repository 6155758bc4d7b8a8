/*
 * driver=file: opening an image file or a block device, its size, O_DIRECT
 * and QEMU's image locking.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "backends/block_internal.h"
#include "lib/log.h"
#include "lib/util.h"

struct file_opts {
	char *filename;
	bool ro, direct, no_flush;
	char *aio, *discard, *locking;
};

const struct prop blk_file_props[] = {
	{ "filename", PROP_STR, offsetof(struct file_opts, filename), NULL,
	  "image file or block device", .required = 1 },
	{ "read-only", PROP_BOOL, offsetof(struct file_opts, ro), "off",
	  "open read-only and refuse writes" },
	{ "cache.direct", PROP_BOOL, offsetof(struct file_opts, direct), "off",
	  "O_DIRECT: bypass the host page cache" },
	{ "cache.no-flush", PROP_BOOL, offsetof(struct file_opts, no_flush), "off",
	  "ignore the guest's flushes (QEMU's cache=unsafe: data may be lost)" },
	{ "aio", PROP_STR, offsetof(struct file_opts, aio), "io_uring",
	  "I/O engine: io_uring (the only one ember has)" },
	{ "discard", PROP_STR, offsetof(struct file_opts, discard), "ignore",
	  "unmap: punch holes for the guest's discards; ignore" },
	{ "locking", PROP_STR, offsetof(struct file_opts, locking), "auto",
	  "image locking: on, off, auto" },
	{ NULL }
};

/*
 * QEMU's scheme (block/file-posix.c), so that ember and QEMU see each other:
 * an opener holds a shared OFD lock on byte 100 + p for each permission p
 * it uses and on byte 200 + p for each one it does not let others have.
 */
#define LOCK_PERM_BASE		100
#define LOCK_SHARED_BASE	200
#define PERM_READ		0	/* "consistent read" */
#define PERM_WRITE		1

static const char *const perm_name[] = { "consistent read", "write" };

static int lock_byte(int fd, int byte)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = byte,
			    .l_len = 1 };

	return fcntl(fd, F_OFD_SETLK, &fl) ? -errno : 0;
}

/* Does another open file description hold a lock on @byte? */
static int lock_held(int fd, int byte)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte,
			    .l_len = 1 };

	if (fcntl(fd, F_OFD_GETLK, &fl))
		return -errno;
	return fl.l_type != F_UNLCK;
}

/*
 * Readers and writers alike use "consistent read" and keep others from
 * "write", as a QEMU guest disk does without share-rw: readers coexist,
 * and a writer excludes everyone else.
 */
static int lock_image(struct blk *b, bool ro, const char *mode, const char *owner)
{
	unsigned perms = 1u << PERM_READ | (ro ? 0 : 1u << PERM_WRITE);
	unsigned unshared = 1u << PERM_WRITE;
	int ret = 0;

	if (!strcmp(mode, "off"))
		return 0;
	for (int p = 0; p < 2 && !ret; p++) {
		if (perms & 1u << p)
			ret = lock_byte(b->fd, LOCK_PERM_BASE + p);
		if (!ret && unshared & 1u << p)
			ret = lock_byte(b->fd, LOCK_SHARED_BASE + p);
	}
	if (ret == -EAGAIN || ret == -EACCES)
		goto busy;
	if (ret) {
		/* No OFD locks here (old kernel, some network file systems). */
		if (!strcmp(mode, "auto")) {
			struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

			fcntl(b->fd, F_OFD_SETLK, &fl);
			debug_msg("%s: image locking off: %s", owner, strerror(-ret));
			return 0;
		}
		err_msg("%s: locking=on: cannot lock %s: %s", owner, b->filename,
			strerror(-ret));
		return ret;
	}
	/* Others must not hold what we use, nor use what we keep from them. */
	for (int p = 0; p < 2; p++) {
		const char *shared = NULL;

		if (perms & 1u << p && lock_held(b->fd, LOCK_SHARED_BASE + p) > 0)
			shared = "";
		else if (unshared & 1u << p && lock_held(b->fd, LOCK_PERM_BASE + p) > 0)
			shared = "shared ";
		if (shared) {
			err_msg("%s: Failed to get %s\"%s\" lock: %s is in use by another process",
				owner, shared, perm_name[p], b->filename);
			return -EBUSY;
		}
	}
	return 0;
busy:
	err_msg("%s: Failed to lock %s: it is in use by another process", owner, b->filename);
	return -EBUSY;
}

static int check_options(struct file_opts *o, const char *owner)
{
	if (strcmp(o->aio, "io_uring")) {
		if (!strcmp(o->aio, "threads") || !strcmp(o->aio, "native"))
			err_msg("%s: aio=%s is not supported: ember uses aio=io_uring",
				owner, o->aio);
		else
			err_msg("%s: aio=%s: unknown (use io_uring)", owner, o->aio);
		return -EINVAL;
	}
	if (strcmp(o->locking, "on") && strcmp(o->locking, "off") &&
	    strcmp(o->locking, "auto")) {
		err_msg("%s: locking=%s: use on, off or auto", owner, o->locking);
		return -EINVAL;
	}
	return blk_parse_discard(o->discard, owner) < 0 ? -EINVAL : 0;
}

/* Some file systems take O_DIRECT at open() and refuse it at the first read. */
static int probe_direct(int fd)
{
	void *buf;
	int ret = 0;

	if (posix_memalign(&buf, 4096, 4096))
		return -ENOMEM;
	if (pread(fd, buf, 4096, 0) < 0)
		ret = -errno;
	free(buf);
	return ret;
}

static int open_image(struct blk *b, const struct file_opts *o, const char *owner)
{
	int flags = (o->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int ret;

	if (o->direct)
		flags |= O_DIRECT;
	b->fd = open(b->filename, flags);
	ret = b->fd < 0 ? -errno : 0;
	if (!ret && o->direct && probe_direct(b->fd) == -EINVAL)
		ret = -EINVAL;
	if (ret == -EINVAL && o->direct) {
		err_msg("%s: cache.direct=on: %s's file system does not support O_DIRECT",
			owner, b->filename);
		return ret;
	}
	if (ret) {
		err_msg("%s: cannot open %s: %s", owner, b->filename, strerror(-ret));
		return ret;
	}
	if (fstat(b->fd, &st)) {
		ret = -errno;
		err_msg("%s: %s: %s", owner, b->filename, strerror(-ret));
		return ret;
	}
	if (S_ISREG(st.st_mode)) {
		b->size = st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &b->size)) {
			ret = -errno;
			err_msg("%s: %s: cannot get its size: %s", owner, b->filename,
				strerror(-ret));
			return ret;
		}
	} else {
		err_msg("%s: %s is not a regular file or a block device", owner, b->filename);
		return -EINVAL;
	}
	return 0;
}

int blk_file_open(struct blk *b, struct keyval *kv, const char *owner)
{
	struct file_opts o = { 0 };
	int ret;

	ret = props_set_defaults(blk_file_props, &o, owner);
	if (!ret)
		ret = props_apply(blk_file_props, &o, kv, owner);
	if (!ret)
		ret = check_options(&o, owner);
	if (!ret) {
		b->filename = o.filename;
		o.filename = NULL;
		b->ro = o.ro;
		b->direct = o.direct;
		b->no_flush = o.no_flush;
		b->discard = blk_parse_discard(o.discard, owner) > 0;
		ret = open_image(b, &o, owner);
	}
	if (!ret)
		ret = lock_image(b, o.ro, o.locking, owner);
	props_free(blk_file_props, &o);
	return ret;
}

void blk_file_close(struct blk *b)
{
	/* Closing the last descriptor of the description drops its OFD locks. */
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	free(b->filename);
	b->filename = NULL;
}
