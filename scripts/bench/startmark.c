/*
 * scripts/bench/startmark.c: what users who start VMs by the thousand time,
 * for scripts/bench/start. Runs a VMM command and prints key=value figures:
 *
 *   startmark first MARKER -- CMD...   exec -> MARKER on the VMM's output (the
 *                                      guest's first instructions print it),
 *                                      exec -> exit, CPU time of the VMM
 *   startmark qmp SOCKET -- CMD...     exec -> a QMP greeting read from SOCKET
 *                                      (CMD starts paused with -S), then quits it
 *   startmark rate SECS -- CMD...      runs CMD to its exit again and again for
 *                                      SECS on CPU 0 alone: starts per second
 *                                      on one core, CPU time per start
 *
 * CPU time is the VMM's user + system time from wait4(), all its threads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_ms(const struct rusage *ru)
{
	return (ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e3 +
	       (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e3;
}

/* Starts CMD with its output on a pipe (returned in *out) or /dev/null. */
static pid_t spawn(char **cmd, int *out)
{
	int p[2] = { -1, -1 };
	pid_t pid;

	if (out && pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(out ? p[1] : nul, 1);
		dup2(out ? p[1] : nul, 2);
		if (out) {
			close(p[0]);
			close(p[1]);
		}
		execvp(cmd[0], cmd);
		_exit(127);
	}
	if (out) {
		close(p[1]);
		*out = p[0];
	}
	return pid;
}

static int status_of(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int first(const char *marker, char **cmd)
{
	char buf[4096], seen[8192] = "";
	double t0 = now(), tm = -1;
	struct rusage ru;
	int fd, st;
	pid_t pid = spawn(cmd, &fd);

	if (pid < 0)
		return 2;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		if (n <= 0)
			break;
		buf[n] = 0;
		if (tm < 0) {
			size_t l = strlen(seen);

			snprintf(seen + l, sizeof(seen) - l, "%s", buf);
			if (strstr(seen, marker))
				tm = now() - t0;
			else if (strlen(seen) > sizeof(seen) / 2)
				memmove(seen, seen + strlen(seen) - 256, 257);
		}
	}
	wait4(pid, &st, 0, &ru);
	printf("first_s=%.4f exit_s=%.4f status=%d cpu_ms=%.1f\n", tm, now() - t0, status_of(st),
	       cpu_ms(&ru));
	return 0;
}

static int qmp(const char *path, char **cmd)
{
	static const char quit[] = "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n";
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	double t0 = now(), tq = -1;
	char buf[512];
	int st, s = -1;
	pid_t pid = spawn(cmd, NULL);

	if (pid < 0)
		return 2;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	while (now() - t0 < 10) {
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		close(s);
		s = -1;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			printf("qmp_s=-1 status=%d\n", status_of(st));
			return 0;
		}
		usleep(100);
	}
	if (s >= 0) {
		ssize_t n = read(s, buf, sizeof(buf) - 1);

		if (n > 0 && (buf[n] = 0, strstr(buf, "\"QMP\"")))
			tq = now() - t0;
		if (write(s, quit, sizeof(quit) - 1) < 0)
			kill(pid, SIGKILL);
	} else {
		kill(pid, SIGKILL);
	}
	waitpid(pid, &st, 0);
	if (s >= 0)
		close(s);
	printf("qmp_s=%.4f exit_s=%.4f status=%d\n", tq, now() - t0, status_of(st));
	return 0;
}

static int rate(double secs, char **cmd)
{
	double t0, total_cpu = 0;
	cpu_set_t one;
	long n = 0, bad = 0;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		perror("startmark: sched_setaffinity");
	t0 = now();
	while (now() - t0 < secs) {
		struct rusage ru;
		int st;
		pid_t pid = spawn(cmd, NULL);

		if (pid < 0 || wait4(pid, &st, 0, &ru) != pid)
			return 2;
		if (status_of(st) != 0)
			bad++;
		n++;
		total_cpu += cpu_ms(&ru);
	}
	secs = now() - t0;
	printf("starts=%ld failed=%ld secs=%.2f per_s=%.2f cpu_ms_per_start=%.2f\n", n, bad, secs,
	       n / secs, n ? total_cpu / n : 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[3], "--")) {
		fprintf(stderr, "usage: startmark first MARKER|qmp SOCKET|rate SECS -- CMD ARGS...\n");
		return 2;
	}
	if (!strcmp(argv[1], "first"))
		return first(argv[2], argv + 4);
	if (!strcmp(argv[1], "qmp"))
		return qmp(argv[2], argv + 4);
	if (!strcmp(argv[1], "rate"))
		return rate(atof(argv[2]), argv + 4);
	fprintf(stderr, "startmark: unknown mode %s\n", argv[1]);
	return 2;
}
