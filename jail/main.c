/*
 * ember-jail: run ember in a jail. See docs/jail.md and jail/jail.h.
 *
 *   ember-jail --id ID --exec-file PATH --uid U --gid G [options] -- ARGS...
 *
 * The parent (root, host namespaces) checks every input, prepares the cgroup
 * and the jail directory <base>/ember/<id>/root, then forks a child that is
 * PID 1 of a new PID namespace. The child closes inherited descriptors,
 * enters new mount/IPC/UTS (and network) namespaces, bind-mounts the --file
 * entries, pivots into the jail root, drops to uid/gid and execs the
 * program. The parent forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT, waits, removes
 * the jail directory and the cgroups it created, and exits with the
 * program's status (1 when setting up the jail failed).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <termios.h>

#include "lib/log.h"
#include "jail/jail.h"

static volatile sig_atomic_t pending_sig;
static volatile pid_t child_pid;

/*
 * Forward to the child. It is PID 1 of its namespace, which ignores the
 * signals it has no handler for (ember handles TERM, INT and HUP); a second
 * signal therefore kills it.
 */
static void on_signal(int sig)
{
	static volatile sig_atomic_t forwarded;

	pending_sig = sig;
	if (child_pid > 0)
		kill(child_pid, forwarded++ ? SIGKILL : sig);
}

/* Descriptors 0-2 open, so that our own never take their numbers. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);

			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
}

/* Everything before the fork: the checks, the cgroup, the jail directory. */
static int set_up(struct jail_opts *o, struct jail_plan *p)
{
	int r;

	if (geteuid() != 0) {
		err_msg("must run as root (it creates namespaces, device nodes and mounts)");
		return -EPERM;
	}
	catch_signals();
	if ((r = jail_check_inputs(o, p)) ||
	    (o->cgroup && (r = jail_cgroup_setup(o, p))) ||
	    (r = jail_dir_build(o, p)))
		return r;
	if (pending_sig) {
		err_msg("interrupted by signal %d while setting up", (int)pending_sig);
		return -EINTR;
	}
	return 0;
}

/* The child that could not be started, killed; R returned. */
static int abandon(pid_t pid, int r)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return r;
}

/* The child put in the cgroup, then let go on. */
static int start_child(struct jail_opts *o, struct jail_plan *p, pid_t pid, const int sync[2])
{
	int r;

	child_pid = pid;
	if (pending_sig)
		kill(pid, pending_sig);
	close(sync[0]);
	if (p->netns_fd >= 0)
		close(p->netns_fd);
	p->netns_fd = -1;
	if (o->cgroup && (r = jail_cgroup_add(o, pid)))
		return abandon(pid, r);
	/* go; our end stays open so that the child can tell if we die */
	if (write(sync[1], "g", 1) != 1)
		return abandon(pid, jail_fail("cannot start the jail"));
	return 0;
}

/* Fork the child, PID 1 of a new PID namespace; wait for it: its exit status. */
static int run(struct jail_opts *o, struct jail_plan *p)
{
	struct termios tio;
	bool tty_saved;
	int sync[2], status, r;
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC))
		return jail_fail("pipe");
	if (unshare(CLONE_NEWPID))
		return jail_fail("unshare (PID namespace)");
	/* ember puts a terminal on stdin into raw mode; put it back if it cannot */
	tty_saved = isatty(0) && !tcgetattr(0, &tio);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return jail_fail("fork");
	if (pid == 0) {
		close(sync[1]);
		if (jail_child(o, p, sync[0]) != -EPIPE)
			jail_print_error();
		_exit(1);
	}
	if ((r = start_child(o, p, pid, sync)))
		return r;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return jail_fail("waitpid");
	close(sync[1]);
	child_pid = 0;
	if (tty_saved)
		tcsetattr(0, TCSADRAIN, &tio);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int main(int argc, char **argv)
{
	struct jail_opts o;
	struct jail_plan p = { .netns_fd = -1 };
	int r;

	log_set_quiet(1);
	ensure_std_fds();
	if (jail_parse_args(&o, argc, argv)) {
		jail_print_error();
		return 1;
	}
	if (o.help) {
		jail_usage(stdout);
		jail_opts_free(&o);
		return 0;
	}
	jail_verbose = o.verbose;
	r = set_up(&o, &p);
	if (!r)
		r = run(&o, &p);
	if (r < 0) {
		jail_print_error();
		if (p.netns_fd >= 0)
			close(p.netns_fd);
	}
	if (r < 0 || !o.keep)
		jail_dir_cleanup(&p);
	jail_cgroup_cleanup(&p);
	free(p.copies);
	jail_opts_free(&o);
	/* the program's status; 1 when the jail could not be set up */
	return r < 0 ? 1 : r;
}
