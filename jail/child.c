/* The child: PID 1 of the new PID namespace, which enters the jail and execs. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "lib/log.h"
#include "jail/jail.h"

int jail_close_ranges(const int *keep, int nkeep, struct jail_fd_range *out, int max)
{
	unsigned lo = 3;
	int n = 0;

	for (int i = 0; i < nkeep; i++) {
		unsigned k = (unsigned)keep[i];

		if (k < lo)
			continue;
		if (k > lo) {
			if (n == max)
				return -ENOSPC;
			out[n++] = (struct jail_fd_range){ lo, k - 1 };
		}
		lo = k + 1;
	}
	if (n == max)
		return -ENOSPC;
	out[n++] = (struct jail_fd_range){ lo, ~0U };
	return n;
}

static void close_fds(const struct jail_opts *o, const int *extra, int nextra)
{
	int keep[o->nkeep + nextra + 1];
	struct jail_fd_range r[o->nkeep + nextra + 2];
	int nk = 0, nr;

	for (int i = 0; i < o->nkeep; i++)
		keep[nk++] = o->keep_fds[i];
	for (int i = 0; i < nextra; i++)
		if (extra[i] >= 3)
			keep[nk++] = extra[i];
	qsort(keep, (size_t)nk, sizeof(int), jail_cmp_int);
	nr = jail_close_ranges(keep, nk, r, (int)(sizeof(r) / sizeof(r[0])));
	for (int i = 0; i < nr; i++) {
		if (!syscall(SYS_close_range, r[i].lo, r[i].hi, 0))
			continue;
		/* no close_range (Linux < 5.9): walk /proc/self/fd (still the host's) */
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;

		if (!d) {
			for (unsigned fd = r[i].lo; fd <= r[i].hi && fd < 65536; fd++)
				close((int)fd);
			continue;
		}
		while ((de = readdir(d))) {
			char *end;
			unsigned long fd = strtoul(de->d_name, &end, 10);

			if (*end || !isdigit((unsigned char)de->d_name[0]))
				continue;
			if (fd >= r[i].lo && fd <= r[i].hi && (int)fd != dirfd(d))
				close((int)fd);
		}
		closedir(d);
	}
}

/* Wait until the parent has put us in the cgroup. */
static int wait_for_parent(int sync_fd)
{
	char go;

	return read(sync_fd, &go, 1) == 1 ? 0 : -EPIPE;
}

/* --netns joined, then the new mount, IPC, UTS (and network) namespaces. */
static int enter_namespaces(const struct jail_opts *o, struct jail_plan *p)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;

	if (p->netns_fd >= 0) {
		if (setns(p->netns_fd, CLONE_NEWNET)) {
			int e = errno;

			err_msg("--netns %s: setns: %s", o->netns, strerror(e));
			return -e;
		}
		close(p->netns_fd);
	}
	if (o->new_netns)
		flags |= CLONE_NEWNET;
	if (unshare(flags)) {
		int e = errno;

		err_msg("unshare (mount, IPC, UTS%s namespaces): %s", o->new_netns ? ", network" : "",
			strerror(e));
		return -e;
	}
	return 0;
}

/* Mounts private; the jail root a mount of its own; the --file binds on their points. */
static int mount_jail(const struct jail_opts *o, const struct jail_plan *p)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return jail_fail("making mounts private");
	/* the root becomes a mount point of its own: nosuid, with device nodes */
	if (mount(p->root, p->root, NULL, MS_BIND, NULL) ||
	    mount(NULL, p->root, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID, NULL)) {
		int e = errno;

		err_msg("bind-mounting %s: %s", p->root, strerror(e));
		return -e;
	}
	for (int i = 0; i < o->nfiles; i++) {
		const struct jail_file *f = &o->files[i];
		char target[2 * JAIL_PATH_MAX];
		unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV;

		snprintf(target, sizeof(target), "%s%s", p->root, f->jail);
		if (!f->rw)
			fl |= MS_RDONLY;
		if (mount(f->host, target, NULL, MS_BIND, NULL) || mount(NULL, target, NULL, fl, NULL)) {
			int e = errno;

			err_msg("bind-mounting %s at %s: %s", f->host, f->jail, strerror(e));
			return -e;
		}
		jail_say("%s -> %s (%s)", f->host, f->jail, f->rw ? "rw" : "ro");
	}
	return 0;
}

/* The jail root becomes '/': pivot_root, or move and chroot on an initramfs. */
static int enter_root(const struct jail_plan *p)
{
	int e;

	if (chdir(p->root)) {
		e = errno;
		err_msg("chdir %s: %s", p->root, strerror(e));
		return -e;
	}
	if (!syscall(SYS_pivot_root, ".", ".")) {
		/* the old root is stacked under the new one: detach it */
		if (umount2(".", MNT_DETACH))
			return jail_fail("detaching the old root");
		jail_say("pivot_root into %s", p->root);
	} else if (errno == EINVAL) {
		/*
		 * The host's root is the initramfs (rootfs), which pivot_root
		 * cannot move: move the jail over it and chroot, as
		 * switch_root does. Without privileges (below) nothing
		 * gets out of a chroot.
		 */
		if (mount(".", "/", NULL, MS_MOVE, NULL) || chroot("."))
			return jail_fail("entering the jail (move + chroot)");
		jail_say("root is the initramfs: moved %s over / and chrooted", p->root);
	} else {
		e = errno;
		err_msg("pivot_root into %s: %s", p->root, strerror(e));
		return -e;
	}
	if (chdir("/"))
		return jail_fail("chdir /");
	return 0;
}

/* Last, what needs root: groups, gid, uid (which clears all capabilities). */
static int drop_privileges(const struct jail_plan *p)
{
	if (setgroups(0, NULL) || setresgid(p->gid, p->gid, p->gid) ||
	    setresuid(p->uid, p->uid, p->uid)) {
		int e = errno;

		err_msg("dropping to uid %u gid %u: %s", (unsigned)p->uid, (unsigned)p->gid,
			strerror(e));
		return -e;
	}
	if (setuid(0) == 0) {
		err_msg("still able to become root after dropping privileges");
		return -EPERM;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		return jail_fail("prctl");
	return 0;
}

/* The parent may have died before PDEATHSIG was armed: its pipe end then is closed. */
static int check_parent(int sync_fd)
{
	struct pollfd pfd = { .fd = sync_fd, .events = POLLIN };

	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLIN)))
		return -EPIPE;
	return 0;
}

/* The --keep-fd descriptors passed on; the program run (returns only on failure). */
static int exec_program(const struct jail_opts *o, const struct jail_plan *p)
{
	char **argv, **envp;
	int e;

	for (int i = 0; i < o->nkeep; i++) {
		int fl = fcntl(o->keep_fds[i], F_GETFD);

		if (fl >= 0)
			fcntl(o->keep_fds[i], F_SETFD, fl & ~FD_CLOEXEC);
	}
	argv = calloc((size_t)o->nargs + 2, sizeof(*argv));
	envp = calloc((size_t)o->nenv + 1, sizeof(*envp));
	if (!argv || !envp) {
		err_msg("out of memory");
		return -ENOMEM;
	}
	argv[0] = (char *)p->exec_jail;
	for (int i = 0; i < o->nargs; i++)
		argv[i + 1] = o->args[i];
	for (int i = 0; i < o->nenv; i++)
		envp[i] = o->env[i];
	execve(p->exec_jail, argv, envp);
	e = errno;
	err_msg("cannot execute %s in the jail: %s", p->exec_jail, strerror(e));
	return -e;
}

int jail_child(struct jail_opts *o, struct jail_plan *p, int sync_fd)
{
	int extra[2] = { sync_fd, p->netns_fd };
	int r;

	/* back to default dispositions: the parent forwards signals to us */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	close_fds(o, extra, 2);
	/*
	 * A session of our own: no controlling terminal, so that the program
	 * cannot push input into the host's shell (TIOCSTI) even when its
	 * stdio is that terminal. ^C reaches the jailer, which forwards it.
	 */
	if (setsid() < 0)
		return jail_fail("setsid");
	if ((r = wait_for_parent(sync_fd)) ||
	    (r = enter_namespaces(o, p)) ||
	    (r = mount_jail(o, p)) ||
	    (r = enter_root(p)))
		return r;
	if (sethostname(o->id, strlen(o->id)))
		return jail_fail("sethostname");
	if ((r = drop_privileges(p)) || (r = check_parent(sync_fd)))
		return r;
	close(sync_fd);
	return exec_program(o, p);
}
