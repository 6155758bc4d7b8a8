/* -chardev stdio: the terminal ember runs in, raw while ember runs. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/stat.h>

#include "backends/chardev_internal.h"
#include "lib/log.h"

struct stdio_chr {
	bool signal;
	int out_fd;		/* our own non-blocking open of stdout; -1: none */
};

static const struct prop stdio_props[] = {
	{ "signal", PROP_BOOL, offsetof(struct stdio_chr, signal), "on",
	  "Ctrl-C stops ember (off: it goes to the guest)" },
	{ NULL }
};

/* One terminal, so one stdio chardev and one saved state. */
static struct termios saved;
static bool raw, in_use;

static void stdio_restore(void)
{
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	raw = false;
}

/* As QEMU does: raw input, but keep output processing (\n -> \r\n). */
static void stdio_make_raw(bool keep_signals)
{
	static bool registered;
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved))
		return;
	t = saved;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_oflag |= OPOST;
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
	if (!keep_signals)
		t.c_lflag &= ~ISIG;
	t.c_cflag &= ~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t))
		return;
	raw = true;
	/* Also on exit() paths that never reach chardev_cleanup_all(). */
	if (!registered && !atexit(stdio_restore))
		registered = true;
}

/*
 * A stalled reader of stdout (a pipe nobody drains, a terminal on hold)
 * must not stall the vCPU that writes: output goes through a non-blocking
 * open of its own. Not O_NONBLOCK on fd 1 itself, which the shell and
 * stdin may share. A regular file blocks only briefly; a socket takes
 * MSG_DONTWAIT as it is.
 */
static void stdio_output(struct chardev *c)
{
	struct stdio_chr *s = c->state;
	struct stat st;

	s->out_fd = -1;
	if (fstat(STDOUT_FILENO, &st) || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
		chr_set_output(c, STDOUT_FILENO, CHR_OUT_BLOCK);
		return;
	}
	if (S_ISSOCK(st.st_mode)) {
		chr_set_output(c, STDOUT_FILENO, CHR_OUT_SOCKET);
		return;
	}
	s->out_fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (s->out_fd < 0) {
		/* No /proc: blocking, as before. */
		debug_msg("chardev '%s': stdout stays blocking: %s", c->obj.id, strerror(errno));
		chr_set_output(c, STDOUT_FILENO, CHR_OUT_BLOCK);
		return;
	}
	chr_set_output(c, s->out_fd, CHR_OUT_DROP);
}

static int stdio_open(struct chardev *c, const char *owner)
{
	struct stdio_chr *s = c->state;

	if (in_use) {
		err_msg("%s: stdio is already used by another chardev", owner);
		return -EBUSY;
	}
	in_use = true;
	stdio_make_raw(s->signal);
	stdio_output(c);
	/*
	 * stdin stays blocking: it may share its open file with stdout, and
	 * O_NONBLOCK there would make output fail with EAGAIN. The loop only
	 * reads after epoll said there is something to read.
	 */
	chr_set_input(c, STDIN_FILENO);
	return 0;
}

static void stdio_close(struct chardev *c)
{
	struct stdio_chr *s = c->state;

	chr_set_output(c, -1, CHR_OUT_BLOCK);
	if (s->out_fd >= 0)
		close(s->out_fd);
	stdio_restore();
	in_use = false;
}

static const struct chardev_backend stdio_ops = {
	.state_size = sizeof(struct stdio_chr),
	.open = stdio_open,
	.close = stdio_close,
};

static const struct object_type stdio_type = {
	CHARDEV_TYPE("stdio", "ember's standard input and output", stdio_props, &stdio_ops),
};
OBJECT_TYPE(stdio_type)
