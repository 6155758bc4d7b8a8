/*
 * bootmark: runs a VMM, timestamps exec, the first appearance of a marker on
 * its output, and its exit; samples its resident memory outside guest RAM,
 * and how much of guest RAM is resident and on huge pages, when the marker
 * appears. Used by scripts/bench/boot for ember and QEMU
 * alike, so both are measured the same way.
 *
 *   bootmark MARKER RAM_MIB -- CMD ARGS...
 *   prints: marker_s=.. exit_s=.. status=.. rss_other_kib=.. ram_rss_kib=..
 *           ram_huge_kib=.. maxrss_kib=..
 *   A run still going after $BOOTMARK_TIMEOUT seconds (default 60) is
 *   killed and reported with status=timeout.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

static pid_t child;
static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
	kill(child, SIGKILL);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

struct rss {
	long other_kib;		/* every mapping smaller than guest RAM */
	long ram_kib;		/* the mappings of guest RAM's size or more */
	long ram_huge_kib;	/* of those, mapped with 2 MiB pages (anonymous or shmem) */
};

/*
 * Guest RAM is told apart by size, for either VMM and any kind of RAM
 * (anonymous, memfd, hugetlbfs): its mapping is as large as guest RAM, every
 * other mapping of a VMM (text, heap, stacks, the alignment slack around
 * RAM) is smaller. Fields per mapping in /proc/PID/smaps: Size, Rss,
 * AnonHugePages, ShmemPmdMapped.
 */
static struct rss rss_sample(pid_t pid, unsigned long ram_kib)
{
	char path[64], line[512];
	unsigned long long lo, hi, size_kib = 0, v;
	struct rss r = { 0, 0, 0 };
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return (struct rss){ -1, -1, -1 };
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			size_kib = (hi - lo) / 1024;
		else if (sscanf(line, "Rss: %llu kB", &v) == 1)
			*(size_kib < ram_kib ? &r.other_kib : &r.ram_kib) += (long)v;
		else if (size_kib >= ram_kib && (sscanf(line, "AnonHugePages: %llu kB", &v) == 1 ||
						 sscanf(line, "ShmemPmdMapped: %llu kB", &v) == 1))
			r.ram_huge_kib += (long)v;
	}
	fclose(f);
	return r;
}

/*
 * BOOTMARK_PAGES=FILE: at the marker, write each mapping of the VMM (a line
 * of /proc/PID/maps) followed by "+ N" for every resident page N of it, from
 * /proc/PID/pagemap (bit 63 present). scripts/bench/rss-pages turns that into
 * the symbols of ember's binary whose pages were resident: what to move to
 * keep a boot's code together.
 */
static void pages_dump(pid_t pid, const char *out)
{
	char path[64], line[512];
	unsigned long long lo, hi, i, n, *e = NULL;
	FILE *maps, *o;
	int pm;

	/* Stopped, so the guest's poweroff cannot end ember mid-dump. */
	kill(pid, SIGSTOP);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	pm = open(path, O_RDONLY);
	o = fopen(out, "w");
	if (!maps || pm < 0 || !o) {
		perror("bootmark: BOOTMARK_PAGES");
		goto out;
	}
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%llx-%llx", &lo, &hi) != 2)
			continue;
		fputs(line, o);
		n = (hi - lo) / 4096;
		e = realloc(e, n * 8 + 8);
		if (!e || pread(pm, e, n * 8, (off_t)(lo / 4096 * 8)) != (ssize_t)(n * 8)) {
			fprintf(o, "? unreadable\n");
			continue;
		}
		for (i = 0; i < n; i++)
			if (e[i] >> 62)
				fprintf(o, "+ %llu\n", i);
	}
out:
	free(e);
	if (maps)
		fclose(maps);
	if (pm >= 0)
		close(pm);
	if (o)
		fclose(o);
	kill(pid, SIGCONT);
}

int main(int argc, char **argv)
{
	const char *marker;
	unsigned long ram_kib;
	int pfd[2], status;
	char buf[4096], tail[256] = "";
	double t0, tm = -1, te;
	struct rss rss = { -1, -1, -1 };
	struct rusage ru;
	pid_t pid;

	if (argc < 5 || strcmp(argv[3], "--")) {
		fprintf(stderr, "usage: bootmark MARKER RAM_MIB -- CMD ARGS...\n");
		return 2;
	}
	marker = argv[1];
	ram_kib = strtoul(argv[2], NULL, 0) * 1024;
	if (pipe(pfd))
		return 2;
	t0 = now();
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	close(pfd[1]);
	child = pid;
	signal(SIGALRM, on_alarm);
	alarm(getenv("BOOTMARK_TIMEOUT") ? atoi(getenv("BOOTMARK_TIMEOUT")) : 60);
	for (;;) {
		ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);

		if (n <= 0)
			break;
		buf[n] = 0;
		if (tm < 0) {
			/* The marker may straddle two reads: search tail + buf. */
			char joined[sizeof(tail) + sizeof(buf)];

			snprintf(joined, sizeof(joined), "%s%s", tail, buf);
			if (strstr(joined, marker)) {
				tm = now() - t0;
				rss = rss_sample(pid, ram_kib);
				if (getenv("BOOTMARK_PAGES"))
					pages_dump(pid, getenv("BOOTMARK_PAGES"));
			}
			size_t l = strlen(joined);
			snprintf(tail, sizeof(tail), "%s", joined + (l > 200 ? l - 200 : 0));
		}
	}
	wait4(pid, &status, 0, &ru);
	te = now() - t0;
	if (timed_out) {
		printf("marker_s=%.3f exit_s=%.3f status=timeout\n", tm, te);
		return 0;
	}
	printf("marker_s=%.3f exit_s=%.3f status=%d rss_other_kib=%ld ram_rss_kib=%ld "
	       "ram_huge_kib=%ld maxrss_kib=%ld\n",
	       tm, te, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
	       rss.other_kib, rss.ram_kib, rss.ram_huge_kib, ru.ru_maxrss);
	return 0;
}
