/*
 * Runs a check in a forked child (a low rlimit, a stdout to stall) and
 * expects it to exit 0; a hang ends with SIGALRM after @secs.
 */
#ifndef EMBER_TEST_IN_CHILD_H
#define EMBER_TEST_IN_CHILD_H

#include <unistd.h>
#include <sys/wait.h>

static inline void in_child(int (*fn)(void), unsigned secs)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (!pid) {
		alarm(secs);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		fail_msg("the child died of signal %d", WTERMSIG(st));
	if (WEXITSTATUS(st))
		fail_msg("the child failed with status %d", WEXITSTATUS(st));
}

#endif
