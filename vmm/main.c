/*
 * ember's main(): ember_main (cli.c) does the work, so that libember, which
 * unit tests link whole, has no main() of its own.
 */
#include <sys/resource.h>

#include "lib/log.h"
#include "vmm/cli.h"

/* Below this many descriptors a machine with a few disks, NICs and QMP clients runs out. */
#define MIN_FDS		256

/*
 * Every virtio queue (ioeventfd, irqfd), MSI-X vector, disk, tap, chardev
 * and QMP client takes a file descriptor: as QEMU does, the soft limit
 * (often 1024) goes up to the hard one, and a hard limit too low is said
 * before any device fails to open for want of one.
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < MIN_FDS)
		warn_msg("the file descriptor limit is %llu (hard limit %llu): each virtio "
			 "queue, vector, disk, NIC and QMP client needs descriptors; raise it "
			 "to %d or more (ulimit -n)", (unsigned long long)rl.rlim_cur,
			 (unsigned long long)rl.rlim_max, MIN_FDS);
}

int main(int argc, char **argv)
{
	raise_fd_limit();
	return ember_main(argc, argv);
}
