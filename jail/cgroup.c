/* cgroup v2: the limit values, the jail's cgroup made and removed. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "lib/log.h"
#include "jail/jail.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static int parse_u64(const char *s, const char **end, uint64_t *v)
{
	uint64_t x = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*end = s;
	*v = x;
	return 0;
}

int jail_parse_cpu_max(const char *s, char *out, size_t n)
{
	uint64_t quota = 0, period = 100000;
	const char *p = s, *e;
	bool max = false;

	if (!strncmp(p, "max", 3)) {
		max = true;
		p += 3;
	} else if (parse_u64(p, &e, &quota)) {
		goto bad;
	} else {
		p = e;
	}
	if (*p == ' ') {
		if (parse_u64(p + 1, &e, &period) || *e)
			goto bad;
	} else if (*p) {
		goto bad;
	}
	if (period < 1000 || period > 1000000) {
		err_msg("--cpu-max '%s': the period must be 1000 to 1000000 microseconds", s);
		return -EINVAL;
	}
	if (!max && quota < 1000) {
		err_msg("--cpu-max '%s': the quota must be at least 1000 microseconds", s);
		return -EINVAL;
	}
	if (max)
		snprintf(out, n, "max %llu", (unsigned long long)period);
	else
		snprintf(out, n, "%llu %llu", (unsigned long long)quota,
			 (unsigned long long)period);
	return 0;
bad:
	err_msg("--cpu-max '%s': expected 'QUOTA [PERIOD]' or 'max [PERIOD]' in microseconds", s);
	return -EINVAL;
}

int jail_parse_memory_max(const char *s, char *out, size_t n)
{
	uint64_t v;
	const char *e;
	unsigned shift = 0;

	if (!strcmp(s, "max")) {
		snprintf(out, n, "max");
		return 0;
	}
	if (parse_u64(s, &e, &v))
		goto bad;
	switch (*e) {
	case 0: break;
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: goto bad;
	}
	if (*e && e[1])
		goto bad;
	if (shift && v > (UINT64_MAX >> shift)) {
		err_msg("--memory-max '%s': too large", s);
		return -ERANGE;
	}
	v <<= shift;
	if (v < 1 << 20) {
		err_msg("--memory-max '%s': a VM needs more than 1 MiB", s);
		return -EINVAL;
	}
	snprintf(out, n, "%llu", (unsigned long long)v);
	return 0;
bad:
	err_msg("--memory-max '%s': expected 'max' or bytes with an optional K, M, G or T", s);
	return -EINVAL;
}

int jail_parse_pids_max(const char *s, char *out, size_t n)
{
	uint64_t v;
	const char *e;

	if (!strcmp(s, "max")) {
		snprintf(out, n, "max");
		return 0;
	}
	if (parse_u64(s, &e, &v) || *e || v == 0 || v > INT_MAX) {
		err_msg("--pids-max '%s': expected 'max' or a number from 1 to %d", s, INT_MAX);
		return -EINVAL;
	}
	snprintf(out, n, "%llu", (unsigned long long)v);
	return 0;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t w;
	int e;

	if (fd < 0)
		return -errno;
	w = write(fd, val, strlen(val));
	e = errno;
	close(fd);
	if (w < 0)
		return -e;
	return w == (ssize_t)strlen(val) ? 0 : -EIO;
}

static int read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;
	int e;

	if (fd < 0)
		return -errno;
	r = read(fd, buf, n - 1);
	e = errno;
	close(fd);
	if (r < 0)
		return -e;
	buf[r] = 0;
	return 0;
}

/* Is WORD one of the space-separated words of LIST? */
static bool has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += wl)
		if ((p == list || isspace((unsigned char)p[-1])) &&
		    (!p[wl] || isspace((unsigned char)p[wl])))
			return true;
	return false;
}

/* --- cgroup v2 -------------------------------------------------------- */

static bool is_cgroup2(const char *path)
{
	struct statfs sf;

	return !statfs(path, &sf) && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* A limit asked for: its controller, its file and the value for it. */
struct limit { const char *ctrl, *file, *val; };

static int limits_of(const struct jail_opts *o, struct limit *l)
{
	int n = 0;

	if (o->cpu_max[0])
		l[n++] = (struct limit){ "cpu", "cpu.max", o->cpu_max };
	if (o->memory_max[0])
		l[n++] = (struct limit){ "memory", "memory.max", o->memory_max };
	if (o->pids_max[0])
		l[n++] = (struct limit){ "pids", "pids.max", o->pids_max };
	return n;
}

/* TOP: the root (mount point) of the cgroup v2 hierarchy that PATH is in. */
static int find_hierarchy(const struct jail_opts *o, const char *path, char *top, size_t n)
{
	struct stat st;

	/* the longest existing prefix must be in a cgroup v2 hierarchy */
	snprintf(top, n, "%s", path);
	while (stat(top, &st)) {
		char *s = strrchr(top, '/');

		if (s == top) {
			top[1] = 0;
			break;
		}
		*s = 0;
	}
	if (!is_cgroup2(top)) {
		err_msg("--cgroup %s: %s is not in a cgroup v2 hierarchy", o->cgroup, top);
		return -EINVAL;
	}
	/* ... whose root (the mount point) is where controllers start */
	for (;;) {
		char up[JAIL_PATH_MAX];
		char *s;

		snprintf(up, sizeof(up), "%s", top);
		s = strrchr(up, '/');
		if (s == up)
			up[1] = 0;
		else
			*s = 0;
		if (!strcmp(up, top) || !is_cgroup2(up))
			break;
		snprintf(top, n, "%s", up);
	}
	return 0;
}

/* The cgroup directory CUR, made (and recorded for the cleanup) if missing. */
static int make_level(const struct jail_opts *o, struct jail_plan *p, const char *cur)
{
	struct stat st;

	if (!stat(cur, &st)) {
		if (S_ISDIR(st.st_mode) && is_cgroup2(cur))
			return 0;
		err_msg("--cgroup %s: %s is not a cgroup directory", o->cgroup, cur);
		return -ENOTDIR;
	}
	if (mkdir(cur, 0755)) {
		int e = errno;

		err_msg("--cgroup %s: cannot create %s: %s", o->cgroup, cur, strerror(e));
		return -e;
	}
	if (p->ncg_made < 16)
		snprintf(p->cg_made[p->ncg_made++], JAIL_PATH_MAX, "%s", cur);
	jail_say("created cgroup %s", cur);
	return 0;
}

/* Read CUR's FILE into BUF. */
static int read_level(const struct jail_opts *o, const char *cur, const char *file,
		      char *buf, size_t n)
{
	char f[JAIL_PATH_MAX + 64];
	int e;

	snprintf(f, sizeof(f), "%s/%s", cur, file);
	if ((e = read_file(f, buf, n)))
		err_msg("--cgroup %s: cannot read %s: %s", o->cgroup, f, strerror(-e));
	return e;
}

/* The limits' controllers enabled in CUR's subtree_control, for the level below. */
static int enable_controllers(const struct jail_opts *o, const char *cur,
			      const struct limit *l, int nl)
{
	char have[512], sub[512], f[JAIL_PATH_MAX + 64];
	int e;

	if ((e = read_level(o, cur, "cgroup.controllers", have, sizeof(have))) ||
	    (e = read_level(o, cur, "cgroup.subtree_control", sub, sizeof(sub))))
		return e;
	snprintf(f, sizeof(f), "%s/cgroup.subtree_control", cur);
	for (int i = 0; i < nl; i++) {
		char plus[16];

		if (has_word(sub, l[i].ctrl))
			continue;
		if (!has_word(have, l[i].ctrl)) {
			err_msg("--cgroup %s: the %s controller is not available in %s",
				o->cgroup, l[i].ctrl, cur);
			return -ENOTSUP;
		}
		snprintf(plus, sizeof(plus), "+%s", l[i].ctrl);
		if ((e = write_file(f, plus))) {
			err_msg("--cgroup %s: cannot enable %s in %s: %s", o->cgroup,
				l[i].ctrl, f, strerror(-e));
			return e;
		}
		jail_say("enabled %s in %s", l[i].ctrl, f);
	}
	return 0;
}

/* The limits written to their files in PATH, which must take the jail's pid. */
static int write_limits(const struct jail_opts *o, const char *path,
			const struct limit *l, int nl)
{
	char f[JAIL_PATH_MAX + 64];
	int e;

	for (int i = 0; i < nl; i++) {
		snprintf(f, sizeof(f), "%s/%s", path, l[i].file);
		if ((e = write_file(f, l[i].val))) {
			err_msg("--cgroup %s: cannot write '%s' to %s: %s", o->cgroup, l[i].val, f,
				strerror(-e));
			return e;
		}
		jail_say("%s = %s", f, l[i].val);
	}
	snprintf(f, sizeof(f), "%s/cgroup.procs", path);
	if (access(f, W_OK)) {
		e = errno;
		err_msg("--cgroup %s: %s is not writable: %s", o->cgroup, f, strerror(e));
		return -e;
	}
	return 0;
}

/*
 * Create the cgroup (and missing parents), enable the controllers the
 * limits need from the hierarchy's root down, write the limits. Errors name
 * the file; what was created is recorded for the cleanup.
 */
int jail_cgroup_setup(struct jail_opts *o, struct jail_plan *p)
{
	char path[JAIL_PATH_MAX], top[JAIL_PATH_MAX];
	struct limit l[3];
	int nl = limits_of(o, l), r;

	if ((r = jail_norm_path(path, sizeof(path), o->cgroup, "--cgroup")) ||
	    (r = find_hierarchy(o, path, top, sizeof(top))))
		return r;
	jail_say("cgroup hierarchy at %s", top);
	/* walk from the root down to the leaf, creating and enabling */
	for (size_t end = strlen(top); ; ) {
		char cur[JAIL_PATH_MAX];

		snprintf(cur, sizeof(cur), "%.*s", (int)end, path);
		if ((r = make_level(o, p, cur)))
			return r;
		if (!path[end])
			break;
		/* the child below cur needs cur's controllers enabled */
		if ((r = enable_controllers(o, cur, l, nl)))
			return r;
		end++;
		while (path[end] && path[end] != '/')
			end++;
	}
	return write_limits(o, path, l, nl);
}

void jail_cgroup_cleanup(struct jail_plan *p)
{
	for (int i = p->ncg_made - 1; i >= 0; i--) {
		int tries = 0;

		/* the last task may still be leaving; give it a moment */
		while (rmdir(p->cg_made[i]) && errno == EBUSY && tries++ < 100)
			usleep(10000);
	}
	p->ncg_made = 0;
}

/* Put PID into the cgroup, before it goes on. */
int jail_cgroup_add(const struct jail_opts *o, pid_t pid)
{
	char procs[JAIL_PATH_MAX + 16], cg[JAIL_PATH_MAX], buf[32];
	int e;

	jail_norm_path(cg, sizeof(cg), o->cgroup, "--cgroup");
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if ((e = write_file(procs, buf)))
		err_msg("--cgroup %s: cannot add the jail to %s: %s", o->cgroup, procs, strerror(-e));
	return e;
}
