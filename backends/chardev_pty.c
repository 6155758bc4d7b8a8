/* -chardev pty: a pseudo-terminal for screen/minicom to open. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "backends/chardev_internal.h"
#include "lib/log.h"

struct pty_chr {
	int master, slave;
};

static int pty_open(struct chardev *c, const char *owner)
{
	struct pty_chr *p = c->state;
	char name[64];
	struct termios t;
	int ret;

	p->master = p->slave = -1;
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0 || grantpt(p->master) || unlockpt(p->master) ||
	    ptsname_r(p->master, name, sizeof(name)))
		goto fail;
	/*
	 * Keep the slave open ourselves: with no slave open the master reports
	 * EPOLLHUP without end and reads fail with EIO. Raw, so the line
	 * discipline neither echoes nor rewrites the guest's bytes.
	 */
	p->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0 || tcgetattr(p->slave, &t))
		goto fail;
	cfmakeraw(&t);
	/* Nobody reading must not stall a vCPU: output is dropped instead. */
	if (tcsetattr(p->slave, TCSANOW, &t) ||
	    fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK))
		goto fail;
	info_msg("char device redirected to %s (label %s)", name, c->obj.id);
	snprintf(c->filename, sizeof(c->filename), "pty:%s", name);
	chr_set_output(c, p->master, CHR_OUT_DROP);
	chr_set_input(c, p->master);
	return 0;
fail:
	ret = -errno;
	err_msg("%s: cannot create a pty: %s", owner, strerror(-ret));
	if (p->slave >= 0)
		close(p->slave);
	if (p->master >= 0)
		close(p->master);
	return ret;
}

static void pty_close(struct chardev *c)
{
	struct pty_chr *p = c->state;

	close(p->slave);
	close(p->master);
}

static const struct chardev_backend pty_ops = {
	.state_size = sizeof(struct pty_chr),
	.open = pty_open,
	.close = pty_close,
};

static const struct object_type pty_type = {
	CHARDEV_TYPE("pty", "a new pseudo-terminal (/dev/pts/N)", NULL, &pty_ops),
};
OBJECT_TYPE(pty_type)
