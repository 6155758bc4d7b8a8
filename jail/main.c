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

int main(int argc, char **argv)
{
	struct jail_opts o;
	struct jail_plan p = { .netns_fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct termios tio;
	bool tty_saved = false;
	int sync[2], status, ret = 1;
	pid_t pid;

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
	if (geteuid() != 0) {
		err_msg("must run as root (it creates namespaces, device nodes and mounts)");
		goto fail;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);

	if (jail_check_inputs(&o, &p))
		goto fail;
	if (o.cgroup && jail_cgroup_setup(&o, &p))
		goto fail;
	if (jail_dir_build(&o, &p))
		goto fail;
	if (pending_sig) {
		err_msg("interrupted by signal %d while setting up", (int)pending_sig);
		goto fail;
	}
	if (pipe2(sync, O_CLOEXEC)) {
		err_msg("pipe: %s", strerror(errno));
		goto fail;
	}
	if (unshare(CLONE_NEWPID)) {
		err_msg("unshare (PID namespace): %s", strerror(errno));
		goto fail;
	}
	/* ember puts a terminal on stdin into raw mode; put it back if it cannot */
	tty_saved = isatty(0) && !tcgetattr(0, &tio);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err_msg("fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		close(sync[1]);
		if (jail_child(&o, &p, sync[0]) != -EPIPE)
			jail_print_error();
		_exit(1);
	}
	child_pid = pid;
	if (pending_sig)
		kill(pid, pending_sig);
	close(sync[0]);
	if (p.netns_fd >= 0)
		close(p.netns_fd);
	p.netns_fd = -1;
	if (o.cgroup && jail_cgroup_add(&o, pid)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto fail;
	}
	/* go; our end stays open so that the child can tell if we die */
	if (write(sync[1], "g", 1) != 1) {
		err_msg("cannot start the jail: %s", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto fail;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			err_msg("waitpid: %s", strerror(errno));
			goto fail;
		}
	}
	close(sync[1]);
	child_pid = 0;
	if (tty_saved)
		tcsetattr(0, TCSADRAIN, &tio);
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		ret = 128 + WTERMSIG(status);
	if (!o.keep)
		jail_dir_cleanup(&p);
	jail_cgroup_cleanup(&p);
	free(p.copies);
	jail_opts_free(&o);
	return ret;
fail:
	jail_print_error();
	if (p.netns_fd >= 0)
		close(p.netns_fd);
	jail_dir_cleanup(&p);
	jail_cgroup_cleanup(&p);
	free(p.copies);
	jail_opts_free(&o);
	return 1;
}
