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

/*
 * Create the cgroup (and missing parents), enable the controllers the
 * limits need from the hierarchy's root down, write the limits. Errors name
 * the file; what was created is recorded for the cleanup.
 */
int jail_cgroup_setup(struct jail_opts *o, struct jail_plan *p)
{
	char path[JAIL_PATH_MAX], top[JAIL_PATH_MAX], f[JAIL_PATH_MAX + 64];
	const char *ctrls[3];
	const char *vals[3], *files[3];
	size_t tl;
	int nc = 0, e;
	struct stat st;

	if (o->cpu_max[0]) {
		ctrls[nc] = "cpu"; files[nc] = "cpu.max"; vals[nc++] = o->cpu_max;
	}
	if (o->memory_max[0]) {
		ctrls[nc] = "memory"; files[nc] = "memory.max"; vals[nc++] = o->memory_max;
	}
	if (o->pids_max[0]) {
		ctrls[nc] = "pids"; files[nc] = "pids.max"; vals[nc++] = o->pids_max;
	}
	if (jail_norm_path(path, sizeof(path), o->cgroup, "--cgroup"))
		return -1;
	/* the longest existing prefix must be in a cgroup v2 hierarchy */
	snprintf(top, sizeof(top), "%s", path);
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
		return -1;
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
		snprintf(top, sizeof(top), "%s", up);
	}
	jail_say("cgroup hierarchy at %s", top);
	/* walk from the root down to the leaf, creating and enabling */
	tl = strlen(top);
	for (size_t end = tl; ; ) {
		char cur[JAIL_PATH_MAX];
		bool leaf;

		snprintf(cur, sizeof(cur), "%.*s", (int)end, path);
		if (stat(cur, &st)) {
			if (mkdir(cur, 0755)) {
				err_msg("--cgroup %s: cannot create %s: %s", o->cgroup, cur, strerror(errno));
				return -1;
			}
			if (p->ncg_made < 16)
				snprintf(p->cg_made[p->ncg_made++], JAIL_PATH_MAX, "%s", cur);
			jail_say("created cgroup %s", cur);
		} else if (!S_ISDIR(st.st_mode) || !is_cgroup2(cur)) {
			err_msg("--cgroup %s: %s is not a cgroup directory", o->cgroup, cur);
			return -1;
		}
		leaf = !path[end];
		if (!leaf) {
			/* the child below cur needs cur's controllers enabled */
			char have[512], sub[512];

			snprintf(f, sizeof(f), "%s/cgroup.controllers", cur);
			if ((e = read_file(f, have, sizeof(have)))) {
				err_msg("--cgroup %s: cannot read %s: %s", o->cgroup, f, strerror(-e));
				return -1;
			}
			snprintf(f, sizeof(f), "%s/cgroup.subtree_control", cur);
			if ((e = read_file(f, sub, sizeof(sub)))) {
				err_msg("--cgroup %s: cannot read %s: %s", o->cgroup, f, strerror(-e));
				return -1;
			}
			for (int i = 0; i < nc; i++) {
				char plus[16];

				if (has_word(sub, ctrls[i]))
					continue;
				if (!has_word(have, ctrls[i])) {
					err_msg("--cgroup %s: the %s controller is not available in %s",
						o->cgroup, ctrls[i], cur);
					return -1;
				}
				snprintf(plus, sizeof(plus), "+%s", ctrls[i]);
				if ((e = write_file(f, plus))) {
					err_msg("--cgroup %s: cannot enable %s in %s: %s", o->cgroup,
						ctrls[i], f, strerror(-e));
					return -1;
				}
				jail_say("enabled %s in %s", ctrls[i], f);
			}
		}
		if (leaf)
			break;
		end++;
		while (path[end] && path[end] != '/')
			end++;
	}
	for (int i = 0; i < nc; i++) {
		snprintf(f, sizeof(f), "%s/%s", path, files[i]);
		if ((e = write_file(f, vals[i]))) {
			err_msg("--cgroup %s: cannot write '%s' to %s: %s", o->cgroup, vals[i], f,
				strerror(-e));
			return -1;
		}
		jail_say("%s = %s", f, vals[i]);
	}
	snprintf(f, sizeof(f), "%s/cgroup.procs", path);
	if (access(f, W_OK)) {
		err_msg("--cgroup %s: %s is not writable: %s", o->cgroup, f, strerror(errno));
		return -1;
	}
	return 0;
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
	if ((e = write_file(procs, buf))) {
		err_msg("--cgroup %s: cannot add the jail to %s: %s", o->cgroup, procs, strerror(-e));
		return -1;
	}
	return 0;
}
