/*
 * -chardev file: output to a file; there is no input. A regular file's
 * writes block only as long as the disk takes; a FIFO or a device named as
 * the path is written without blocking, buffered and dropped as a pty is.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "backends/chardev_internal.h"
#include "lib/log.h"

struct file_chr {
	char *path;
	bool append;
	int fd;
};

static const struct prop file_props[] = {
	{ "path", PROP_STR, offsetof(struct file_chr, path), NULL,
	  "file to write to", .required = 1 },
	{ "append", PROP_BOOL, offsetof(struct file_chr, append), "off",
	  "append instead of truncating" },
	{ NULL }
};

static int file_open(struct chardev *c, const char *owner)
{
	struct file_chr *f = c->state;
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY;
	struct stat st;

	flags |= f->append ? O_APPEND : O_TRUNC;
	f->fd = open(f->path, flags, 0666);
	if (f->fd < 0) {
		int ret = -errno;

		err_msg("%s: cannot open '%s': %s", owner, f->path, strerror(-ret));
		return ret;
	}
	if (!fstat(f->fd, &st) && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) &&
	    !fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) | O_NONBLOCK)) {
		chr_set_output(c, f->fd, CHR_OUT_DROP);
		return 0;
	}
	chr_set_output(c, f->fd, CHR_OUT_BLOCK);
	return 0;
}

static void file_close(struct chardev *c)
{
	struct file_chr *f = c->state;

	close(f->fd);
}

static const struct chardev_backend file_ops = {
	.state_size = sizeof(struct file_chr),
	.open = file_open,
	.close = file_close,
};

static const struct object_type file_type = {
	CHARDEV_TYPE("file", "writes output to a file", file_props, &file_ops),
};
OBJECT_TYPE(file_type)
