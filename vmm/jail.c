/*
 * ember-jail: run ember in a jail. See docs/jail.md and vmm/jail.h.
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
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>

#include "lib/log.h"
#include "vmm/jail.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

/* ------------------------------------------------------------------------ */
/* Pure logic                                                               */
/* ------------------------------------------------------------------------ */

int jail_check_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > JAIL_ID_MAX) {
		err_msg("--id '%s': must be 1 to %d characters", id, JAIL_ID_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_') {
			err_msg("--id '%s': only letters, digits, '-' and '_' are allowed", id);
			return -1;
		}
	return 0;
}

/* A decimal id below 2^32-1 (the kernel's "no id"). 1: not a number. */
static int parse_id_number(const char *s, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return 1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (*end)
		return 1;
	if (errno || *out >= 0xffffffffUL)
		return -1;
	return 0;
}

int jail_resolve_uid(const char *s, uid_t *out)
{
	unsigned long v;
	int r = parse_id_number(s, &v);

	if (r < 0) {
		err_msg("--uid %s: out of range", s);
		return -1;
	}
	if (r > 0) {
		struct passwd *pw = getpwnam(s);

		if (!pw) {
			err_msg("--uid %s: no such user", s);
			return -1;
		}
		v = pw->pw_uid;
	}
	if (v == 0) {
		err_msg("--uid %s: the jail must not run as root (uid 0)", s);
		return -1;
	}
	*out = (uid_t)v;
	return 0;
}

int jail_resolve_gid(const char *s, gid_t *out)
{
	unsigned long v;
	int r = parse_id_number(s, &v);

	if (r < 0) {
		err_msg("--gid %s: out of range", s);
		return -1;
	}
	if (r > 0) {
		struct group *gr = getgrnam(s);

		if (!gr) {
			err_msg("--gid %s: no such group", s);
			return -1;
		}
		v = gr->gr_gid;
	}
	if (v == 0) {
		err_msg("--gid %s: the jail must not run as group root (gid 0)", s);
		return -1;
	}
	*out = (gid_t)v;
	return 0;
}

int jail_norm_path(char *out, size_t n, const char *in, const char *what)
{
	size_t len = 0;
	const char *p = in;

	if (n < 2)
		return -1;
	while (*p) {
		const char *c;
		size_t cl;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		c = p;
		while (*p && *p != '/')
			p++;
		cl = (size_t)(p - c);
		if (cl == 1 && c[0] == '.')
			continue;
		if (cl == 2 && c[0] == '.' && c[1] == '.') {
			err_msg("%s: '..' is not allowed in a jail path", what);
			return -1;
		}
		if (len + 1 + cl + 1 > n) {
			err_msg("%s: jail path too long", what);
			return -1;
		}
		out[len++] = '/';
		memcpy(out + len, c, cl);
		len += cl;
	}
	out[len] = 0;
	if (!len) {
		err_msg("%s: the jail path must name something below '/'", what);
		return -1;
	}
	return 0;
}

int jail_parse_file_spec(struct jail_file *f, const char *spec, const char *opt)
{
	const char *colon = strchr(spec, ':');
	size_t hl = colon ? (size_t)(colon - spec) : strlen(spec);
	char what[JAIL_PATH_MAX + 32];
	const char *base;

	f->spec = spec;
	snprintf(what, sizeof(what), "%s %s", opt, spec);
	if (!hl) {
		err_msg("%s: no host path", what);
		return -1;
	}
	if (hl >= sizeof(f->host)) {
		err_msg("%s: host path too long", what);
		return -1;
	}
	memcpy(f->host, spec, hl);
	f->host[hl] = 0;
	if (colon)
		return jail_norm_path(f->jail, sizeof(f->jail), colon + 1, what);
	/* default: the basename, at the top of the jail */
	while (hl > 1 && f->host[hl - 1] == '/')
		f->host[--hl] = 0;
	base = strrchr(f->host, '/');
	base = base ? base + 1 : f->host;
	return jail_norm_path(f->jail, sizeof(f->jail), base, what);
}

int jail_dir_path(char *out, size_t n, const char *base, const char *id)
{
	size_t bl = strlen(base);

	while (bl > 1 && base[bl - 1] == '/')
		bl--;
	if (bl == 1 && base[0] == '/')
		bl = 0;
	if ((size_t)snprintf(out, n, "%.*s/ember/%s", (int)bl, base, id) >= n) {
		err_msg("--chroot-base-dir %s: path too long", base);
		return -1;
	}
	return 0;
}

int jail_root_path(char *out, size_t n, const char *base, const char *id)
{
	if (jail_dir_path(out, n, base, id))
		return -1;
	if (strlen(out) + sizeof("/root") > n) {
		err_msg("--chroot-base-dir %s: path too long", base);
		return -1;
	}
	strcat(out, "/root");
	return 0;
}

const char *jail_find_duplicate(const char *const *paths, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (!strcmp(paths[i], paths[j]))
				return paths[i];
	return NULL;
}

static int parse_u64(const char *s, const char **end, uint64_t *v)
{
	uint64_t x = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
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
		return -1;
	}
	if (!max && quota < 1000) {
		err_msg("--cpu-max '%s': the quota must be at least 1000 microseconds", s);
		return -1;
	}
	if (max)
		snprintf(out, n, "max %llu", (unsigned long long)period);
	else
		snprintf(out, n, "%llu %llu", (unsigned long long)quota,
			 (unsigned long long)period);
	return 0;
bad:
	err_msg("--cpu-max '%s': expected 'QUOTA [PERIOD]' or 'max [PERIOD]' in microseconds", s);
	return -1;
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
		return -1;
	}
	v <<= shift;
	if (v < 1 << 20) {
		err_msg("--memory-max '%s': a VM needs more than 1 MiB", s);
		return -1;
	}
	snprintf(out, n, "%llu", (unsigned long long)v);
	return 0;
bad:
	err_msg("--memory-max '%s': expected 'max' or bytes with an optional K, M, G or T", s);
	return -1;
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
		return -1;
	}
	snprintf(out, n, "%llu", (unsigned long long)v);
	return 0;
}

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
				return -1;
			out[n++] = (struct jail_fd_range){ lo, k - 1 };
		}
		lo = k + 1;
	}
	if (n == max)
		return -1;
	out[n++] = (struct jail_fd_range){ lo, ~0U };
	return n;
}

/* File offset of the virtual address V (in a PT_LOAD's file part), or -1. */
static int64_t elf_vaddr_off(const uint8_t *img, size_t len, const Elf64_Ehdr *eh, uint64_t v)
{
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh->e_phoff + (uint64_t)i * eh->e_phentsize, sizeof(ph));
		if (ph.p_type != PT_LOAD || v < ph.p_vaddr || v - ph.p_vaddr >= ph.p_filesz)
			continue;
		if (ph.p_offset > len || v - ph.p_vaddr > len - ph.p_offset)
			return -1;
		return (int64_t)(ph.p_offset + (v - ph.p_vaddr));
	}
	return -1;
}

int jail_elf_deps(const void *image, size_t len, char *interp, size_t interp_size,
		  char (*needed)[JAIL_NAME_MAX], int max_needed)
{
	const uint8_t *img = image;
	Elf64_Ehdr eh;
	uint64_t dyn_off = 0, dyn_size = 0, strtab = 0, strsz = 0;
	bool have_dyn = false, have_strtab = false;
	int64_t str_off;
	int n = 0;

	interp[0] = 0;
	if (len < sizeof(eh) || memcmp(img, ELFMAG, SELFMAG)) {
		err_msg("not an ELF file");
		return -1;
	}
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64) {
		err_msg("not an x86-64 ELF file");
		return -1;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		err_msg("not an ELF executable or shared library");
		return -1;
	}
	if (eh.e_phnum && (eh.e_phentsize < sizeof(Elf64_Phdr) || eh.e_phoff > len ||
			   (uint64_t)eh.e_phnum * eh.e_phentsize > len - eh.e_phoff)) {
		err_msg("truncated ELF program headers");
		return -1;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh.e_phoff + (uint64_t)i * eh.e_phentsize, sizeof(ph));
		if (ph.p_type != PT_INTERP && ph.p_type != PT_DYNAMIC)
			continue;
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset) {
			err_msg("truncated ELF segment");
			return -1;
		}
		if (ph.p_type == PT_INTERP) {
			const char *s = (const char *)img + ph.p_offset;
			size_t sl = strnlen(s, ph.p_filesz);

			if (sl == ph.p_filesz || sl == 0 || sl >= interp_size || s[0] != '/') {
				err_msg("bad ELF interpreter (PT_INTERP)");
				return -1;
			}
			memcpy(interp, s, sl + 1);
		} else {
			have_dyn = true;
			dyn_off = ph.p_offset;
			dyn_size = ph.p_filesz;
		}
	}
	if (!have_dyn)
		return 0;
	/* first pass: the string table */
	for (uint64_t o = 0; o + sizeof(Elf64_Dyn) <= dyn_size; o += sizeof(Elf64_Dyn)) {
		Elf64_Dyn d;

		memcpy(&d, img + dyn_off + o, sizeof(d));
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_STRTAB) {
			strtab = d.d_un.d_ptr;
			have_strtab = true;
		} else if (d.d_tag == DT_STRSZ) {
			strsz = d.d_un.d_val;
		}
	}
	if (!have_strtab)
		return 0;
	str_off = elf_vaddr_off(img, len, &eh, strtab);
	if (str_off < 0 || strsz > len - (uint64_t)str_off) {
		err_msg("bad ELF string table (DT_STRTAB)");
		return -1;
	}
	for (uint64_t o = 0; o + sizeof(Elf64_Dyn) <= dyn_size; o += sizeof(Elf64_Dyn)) {
		Elf64_Dyn d;
		const char *s;
		size_t sl;

		memcpy(&d, img + dyn_off + o, sizeof(d));
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag != DT_NEEDED)
			continue;
		if (d.d_un.d_val >= strsz) {
			err_msg("bad ELF DT_NEEDED entry");
			return -1;
		}
		s = (const char *)img + str_off + d.d_un.d_val;
		sl = strnlen(s, strsz - d.d_un.d_val);
		if (sl == strsz - d.d_un.d_val || sl == 0 || sl >= JAIL_NAME_MAX ||
		    strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..")) {
			err_msg("unsupported ELF DT_NEEDED entry '%.*s'", (int)(sl < 64 ? sl : 64), s);
			return -1;
		}
		if (n == max_needed) {
			err_msg("more than %d DT_NEEDED libraries", max_needed);
			return -1;
		}
		memcpy(needed[n++], s, sl + 1);
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                             */
/* ------------------------------------------------------------------------ */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int set_once(const char **slot, const char *opt, const char *val)
{
	if (*slot) {
		err_msg("%s given twice", opt);
		return -1;
	}
	*slot = val;
	return 0;
}

void jail_opts_free(struct jail_opts *o)
{
	free(o->files);
	free(o->keep_fds);
	free(o->env);
	o->files = NULL;
	o->keep_fds = NULL;
	o->env = NULL;
}

int jail_parse_args(struct jail_opts *o, int argc, char **argv)
{
	const char *cpu = NULL, *mem = NULL, *pids = NULL;
	int i;

	memset(o, 0, sizeof(*o));
	o->files = calloc((size_t)argc + 1, sizeof(*o->files));
	o->keep_fds = calloc((size_t)argc + 1, sizeof(*o->keep_fds));
	o->env = calloc((size_t)argc + 1, sizeof(*o->env));
	if (!o->files || !o->keep_fds || !o->env) {
		err_msg("out of memory");
		goto fail;
	}
	for (i = 1; i < argc; i++) {
		char optbuf[64];
		const char *a = argv[i], *opt = a, *val = NULL, *eq;
		bool takes;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			o->help = true;
			continue;
		}
		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			o->verbose = true;
			continue;
		}
		if (!strcmp(a, "--new-netns")) {
			o->new_netns = true;
			continue;
		}
		if (!strcmp(a, "--keep")) {
			o->keep = true;
			continue;
		}
		if (strncmp(a, "--", 2)) {
			err_msg("unexpected argument '%s' (the program's arguments go after '--')", a);
			goto fail;
		}
		eq = strchr(a, '=');
		if (eq && (size_t)(eq - a) < sizeof(optbuf)) {
			memcpy(optbuf, a, (size_t)(eq - a));
			optbuf[eq - a] = 0;
			opt = optbuf;
			val = eq + 1;
		}
		takes = !strcmp(opt, "--id") || !strcmp(opt, "--exec-file") ||
			!strcmp(opt, "--uid") || !strcmp(opt, "--gid") ||
			!strcmp(opt, "--chroot-base-dir") || !strcmp(opt, "--netns") ||
			!strcmp(opt, "--cgroup") || !strcmp(opt, "--cpu-max") ||
			!strcmp(opt, "--memory-max") || !strcmp(opt, "--pids-max") ||
			!strcmp(opt, "--file") || !strcmp(opt, "--rw-file") ||
			!strcmp(opt, "--keep-fd") || !strcmp(opt, "--env");
		if (!takes) {
			err_msg("unknown option '%s' (see --help)", opt);
			goto fail;
		}
		if (!val) {
			if (i + 1 >= argc) {
				err_msg("%s needs a value", opt);
				goto fail;
			}
			val = argv[++i];
		}
		if (!strcmp(opt, "--id")) {
			if (set_once(&o->id, opt, val) || jail_check_id(val))
				goto fail;
		} else if (!strcmp(opt, "--exec-file")) {
			if (set_once(&o->exec_file, opt, val))
				goto fail;
		} else if (!strcmp(opt, "--uid")) {
			if (set_once(&o->uid_str, opt, val))
				goto fail;
		} else if (!strcmp(opt, "--gid")) {
			if (set_once(&o->gid_str, opt, val))
				goto fail;
		} else if (!strcmp(opt, "--chroot-base-dir")) {
			if (set_once(&o->base_dir, opt, val))
				goto fail;
		} else if (!strcmp(opt, "--netns")) {
			if (set_once(&o->netns, opt, val))
				goto fail;
		} else if (!strcmp(opt, "--cgroup")) {
			if (set_once(&o->cgroup, opt, val))
				goto fail;
			if (val[0] != '/') {
				err_msg("--cgroup %s: must be an absolute path", val);
				goto fail;
			}
		} else if (!strcmp(opt, "--cpu-max")) {
			if (set_once(&cpu, opt, val) ||
			    jail_parse_cpu_max(val, o->cpu_max, sizeof(o->cpu_max)))
				goto fail;
		} else if (!strcmp(opt, "--memory-max")) {
			if (set_once(&mem, opt, val) ||
			    jail_parse_memory_max(val, o->memory_max, sizeof(o->memory_max)))
				goto fail;
		} else if (!strcmp(opt, "--pids-max")) {
			if (set_once(&pids, opt, val) ||
			    jail_parse_pids_max(val, o->pids_max, sizeof(o->pids_max)))
				goto fail;
		} else if (!strcmp(opt, "--file") || !strcmp(opt, "--rw-file")) {
			struct jail_file *f = &o->files[o->nfiles];

			if (jail_parse_file_spec(f, val, opt))
				goto fail;
			f->rw = !strcmp(opt, "--rw-file");
			o->nfiles++;
		} else if (!strcmp(opt, "--keep-fd")) {
			char *end;
			long fd;

			errno = 0;
			fd = strtol(val, &end, 10);
			if (!isdigit((unsigned char)val[0]) || *end || errno || fd > INT_MAX) {
				err_msg("--keep-fd '%s': not a descriptor number", val);
				goto fail;
			}
			if (fd >= 3)
				o->keep_fds[o->nkeep++] = (int)fd;
		} else { /* --env */
			const char *e = strchr(val, '=');

			if (!e || e == val) {
				err_msg("--env '%s': expected NAME=VALUE", val);
				goto fail;
			}
			o->env[o->nenv++] = (char *)val;
		}
	}
	o->args = argv + i;
	o->nargs = argc - i;
	if (o->help)
		return 0;
	if (!o->id) {
		err_msg("--id is required");
		goto fail;
	}
	if (!o->exec_file) {
		err_msg("--exec-file is required");
		goto fail;
	}
	if (!o->uid_str || !o->gid_str) {
		err_msg("--uid and --gid are required");
		goto fail;
	}
	if (o->netns && o->new_netns) {
		err_msg("--netns and --new-netns exclude each other");
		goto fail;
	}
	if (!o->cgroup && (cpu || mem || pids)) {
		err_msg("%s needs --cgroup", cpu ? "--cpu-max" : mem ? "--memory-max" : "--pids-max");
		goto fail;
	}
	if (!o->base_dir)
		o->base_dir = JAIL_DEFAULT_BASE;
	/* sorted and unique, so that the close ranges can be computed */
	qsort(o->keep_fds, (size_t)o->nkeep, sizeof(int), cmp_int);
	{
		int n = 0;

		for (int k = 0; k < o->nkeep; k++)
			if (!n || o->keep_fds[n - 1] != o->keep_fds[k])
				o->keep_fds[n++] = o->keep_fds[k];
		o->nkeep = n;
	}
	return 0;
fail:
	jail_opts_free(o);
	return -1;
}

#ifndef EMBER_JAIL_NO_MAIN

/* ------------------------------------------------------------------------ */
/* The program                                                              */
/* ------------------------------------------------------------------------ */

static bool verbose;
static volatile sig_atomic_t pending_sig;
static volatile pid_t child_pid;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fputs("ember-jail: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* The one error line, from the last err_msg(). */
static void print_error(void)
{
	fprintf(stderr, "ember-jail: error: %s\n", log_last());
}

static void warn_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ember-jail: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static const char usage_text[] =
"usage: ember-jail --id ID --exec-file PATH --uid UID --gid GID [OPTIONS] -- ARGS...\n"
"\n"
"Runs PATH (ember) with ARGS as PID 1 of new PID, mount, IPC and UTS namespaces,\n"
"inside <base>/ember/ID/root, as UID:GID, after closing inherited descriptors.\n"
"Paths in ARGS are paths inside the jail.\n"
"\n"
"  --id ID                  jail name: 1-64 of [A-Za-z0-9_-]; also the hostname\n"
"  --exec-file PATH         program copied into the jail (with its shared libraries)\n"
"  --uid UID, --gid GID     numbers, or user/group names; not 0\n"
"  --chroot-base-dir DIR    existing directory holding the jails (default " JAIL_DEFAULT_BASE ")\n"
"  --file HOST[:JAIL]       bind-mount HOST read-only at JAIL (default /basename)\n"
"  --rw-file HOST[:JAIL]    the same, read-write\n"
"  --netns PATH             join this network namespace (e.g. /var/run/netns/NAME)\n"
"  --new-netns              a new, empty network namespace\n"
"  --cgroup PATH            cgroup v2 directory for the jail (created if missing)\n"
"  --cpu-max 'QUOTA PERIOD' cpu.max (microseconds), needs --cgroup\n"
"  --memory-max SIZE        memory.max (bytes, K, M, G, T or max), needs --cgroup\n"
"  --pids-max N             pids.max, needs --cgroup\n"
"  --keep-fd N              pass descriptor N on (0, 1 and 2 always are)\n"
"  --env NAME=VALUE         environment of the program (empty otherwise)\n"
"  --keep                   leave the jail directory behind at the end\n"
"  -v, --verbose            say what is being set up\n"
"\n"
"Exit status: the program's (128+N when killed by signal N); 1 when the jail\n"
"could not be set up. See docs/jail.md.\n";

/* --- small file helpers ------------------------------------------------ */

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

/* mkdir -p of REL (relative, no "..") below BASE_FD; directories 0755. */
static int mkdirs_at(int base_fd, const char *rel)
{
	char buf[JAIL_PATH_MAX];
	int fd = dup(base_fd);

	if (fd < 0)
		return -errno;
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", rel);
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int nfd;

		if (mkdirat(fd, c, 0755) && errno != EEXIST) {
			int e = errno;

			close(fd);
			return -e;
		}
		nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd < 0)
			return -errno;
		fd = nfd;
	}
	close(fd);
	return 0;
}

/* Make the parent directories of the absolute jail path JPATH below ROOTFD. */
static int mkparents_at(int rootfd, const char *jpath)
{
	char dir[JAIL_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", jpath + 1);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = 0;
	return mkdirs_at(rootfd, dir);
}

/* Copy the host file SRC to the absolute jail path JPATH, mode MODE. */
static int copy_into(int rootfd, const char *src, const char *jpath, mode_t mode)
{
	char buf[65536];
	int in, out, e = 0;
	ssize_t r;

	if ((e = mkparents_at(rootfd, jpath)))
		return e;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = openat(rootfd, jpath + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		e = -errno;
		close(in);
		return e;
	}
	while ((r = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(out, buf + off, (size_t)(r - off));

			if (w < 0) {
				if (errno == EINTR)
					continue;
				e = -errno;
				goto out;
			}
			off += w;
		}
	}
	if (r < 0)
		e = -errno;
	else if (fchmod(out, mode))
		e = -errno;
out:
	close(in);
	close(out);
	return e;
}

/*
 * Remove NAME below PFD and everything in it, never following symlinks
 * and never crossing into another file system (the jailed program could
 * have planted links in its root).
 */
static int remove_tree_at(int pfd, const char *name, dev_t dev, int depth)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int fd, e = 0;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(pfd, name, 0) ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV;
	if (depth > 256)
		return -ELOOP;
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		e = -errno;
		close(fd);
		return e;
	}
	while ((de = readdir(d))) {
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = remove_tree_at(dirfd(d), de->d_name, dev, depth + 1);
		if (r && !e)
			e = r;
	}
	closedir(d);
	if (!e && unlinkat(pfd, name, AT_REMOVEDIR))
		e = -errno;
	return e;
}

/* --- the plan: what goes into the jail --------------------------------- */

struct copy { char host[JAIL_PATH_MAX]; char jail[JAIL_PATH_MAX]; mode_t mode; };

struct plan {
	char exec_jail[JAIL_PATH_MAX];	/* "/ember" */
	struct copy *copies;		/* the exec file, its interpreter, its libraries */
	int ncopies, cap;
	uid_t uid;
	gid_t gid;
	char base[JAIL_PATH_MAX];	/* realpath of --chroot-base-dir */
	char dir[JAIL_PATH_MAX];	/* <base>/ember/<id> */
	char root[JAIL_PATH_MAX];	/* <base>/ember/<id>/root */
	int netns_fd;
	/* cgroup directories we created, outermost first */
	char cg_made[16][JAIL_PATH_MAX];
	int ncg_made;
	bool dir_made;
};

static const char *const lib_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
	"/lib", "/usr/lib", "/usr/local/lib",
};

struct devnode { const char *path; mode_t mode; bool for_vm; };

/* Created only when the host has them; for_vm ones belong to uid:gid. */
static const struct devnode devnodes[] = {
	{ "/dev/kvm", 0600, true },
	{ "/dev/net/tun", 0600, true },
	{ "/dev/vhost-net", 0600, true },
	{ "/dev/vhost-vsock", 0600, true },
	{ "/dev/null", 0666, false },
	{ "/dev/urandom", 0666, false },
};

static struct copy *plan_add(struct plan *p, const char *host, const char *jail, mode_t mode)
{
	for (int i = 0; i < p->ncopies; i++)
		if (!strcmp(p->copies[i].jail, jail))
			return &p->copies[i];
	if (p->ncopies == p->cap) {
		int cap = p->cap ? p->cap * 2 : 16;
		struct copy *c = realloc(p->copies, (size_t)cap * sizeof(*c));

		if (!c) {
			err_msg("out of memory");
			return NULL;
		}
		p->copies = c;
		p->cap = cap;
	}
	snprintf(p->copies[p->ncopies].host, JAIL_PATH_MAX, "%s", host);
	snprintf(p->copies[p->ncopies].jail, JAIL_PATH_MAX, "%s", jail);
	p->copies[p->ncopies].mode = mode;
	return &p->copies[p->ncopies++];
}

/* Read the ELF at PATH: interpreter and DT_NEEDED names. */
static int elf_deps_of(const char *path, const char *what, char *interp, size_t isz,
		       char (*needed)[JAIL_NAME_MAX], int max)
{
	struct stat st;
	void *img;
	int fd, n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_msg("%s: %s", what, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) {
		err_msg("%s: not a regular file", what);
		close(fd);
		return -1;
	}
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED) {
		err_msg("%s: %s", what, strerror(errno));
		return -1;
	}
	n = jail_elf_deps(img, (size_t)st.st_size, interp, isz, needed, max);
	munmap(img, (size_t)st.st_size);
	if (n < 0) {
		char m[512];

		snprintf(m, sizeof(m), "%s", log_last());
		err_msg("%s: %s", what, m);
	}
	return n;
}

/* The exec file, its interpreter and the closure of its DT_NEEDED libraries. */
static int plan_program(struct plan *p, const char *exec_file)
{
	char interp[JAIL_PATH_MAX];
	char (*needed)[JAIL_NAME_MAX] = calloc(64, JAIL_NAME_MAX);
	char what[JAIL_PATH_MAX + 32];
	const char *base;
	struct stat st;
	int first_lib, n, ret = -1;

	if (!needed) {
		err_msg("out of memory");
		return -1;
	}
	snprintf(what, sizeof(what), "--exec-file %s", exec_file);
	if (stat(exec_file, &st)) {
		err_msg("%s: %s", what, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		err_msg("%s: not an executable file", what);
		goto out;
	}
	base = strrchr(exec_file, '/');
	base = base ? base + 1 : exec_file;
	if (strlen(base) >= JAIL_NAME_MAX) {
		err_msg("%s: file name too long", what);
		goto out;
	}
	p->exec_jail[0] = '/';
	memcpy(p->exec_jail + 1, base, strlen(base) + 1);
	if (!plan_add(p, exec_file, p->exec_jail, 0755))
		goto out;
	n = elf_deps_of(exec_file, what, interp, sizeof(interp), needed, 64);
	if (n < 0)
		goto out;
	if (interp[0]) {
		if (access(interp, R_OK)) {
			err_msg("%s: its interpreter %s: %s", what, interp, strerror(errno));
			goto out;
		}
		if (!plan_add(p, interp, interp, 0755))
			goto out;
	}
	first_lib = p->ncopies;
	/* breadth first: each library added is parsed in turn for its own needs */
	for (int cur = -1; cur < p->ncopies; cur++) {
		if (cur >= first_lib) {
			snprintf(what, sizeof(what), "library %s", p->copies[cur].host);
			n = elf_deps_of(p->copies[cur].host, what, interp, sizeof(interp), needed, 64);
			if (n < 0)
				goto out;
		}
		/* cur == -1: the exec file's list from above */
		for (int k = 0; k < n; k++) {
			bool found = false;

			for (size_t d = 0; d < sizeof(lib_dirs) / sizeof(lib_dirs[0]); d++) {
				char cand[JAIL_PATH_MAX];

				snprintf(cand, sizeof(cand), "%s/%s", lib_dirs[d], needed[k]);
				if (stat(cand, &st) || !S_ISREG(st.st_mode))
					continue;
				if (!plan_add(p, cand, cand, 0755))
					goto out;
				found = true;
				break;
			}
			if (!found) {
				err_msg("--exec-file %s: shared library %s not found in /lib, /usr/lib "
					"and their x86_64-linux-gnu directories", exec_file, needed[k]);
				goto out;
			}
		}
		if (cur == -1)
			cur = first_lib - 1;
	}
	ret = 0;
out:
	free(needed);
	return ret;
}

/* Every input checked before anything is created. */
static int check_inputs(struct jail_opts *o, struct plan *p)
{
	const char **paths;
	const char *dup;
	struct stat st;
	int np = 0;

	p->netns_fd = -1;
	if (jail_resolve_uid(o->uid_str, &p->uid) || jail_resolve_gid(o->gid_str, &p->gid))
		return -1;
	if (!realpath(o->base_dir, p->base)) {
		err_msg("--chroot-base-dir %s: %s", o->base_dir, strerror(errno));
		return -1;
	}
	if (stat(p->base, &st) || !S_ISDIR(st.st_mode)) {
		err_msg("--chroot-base-dir %s: not a directory", o->base_dir);
		return -1;
	}
	if (jail_dir_path(p->dir, sizeof(p->dir), p->base, o->id) ||
	    jail_root_path(p->root, sizeof(p->root), p->base, o->id))
		return -1;
	if (!lstat(p->dir, &st)) {
		err_msg("jail %s already exists (a jail with this id runs, or one was not "
			"cleaned up: remove it)", p->dir);
		return -1;
	}
	if (plan_program(p, o->exec_file))
		return -1;
	for (int i = 0; i < o->nfiles; i++) {
		struct jail_file *f = &o->files[i];
		char real[PATH_MAX];

		if (!realpath(f->host, real)) {
			err_msg("%s %s: %s", f->rw ? "--rw-file" : "--file", f->host, strerror(errno));
			return -1;
		}
		if (stat(real, &st) || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
			err_msg("%s %s: not a regular file or a directory",
				f->rw ? "--rw-file" : "--file", f->host);
			return -1;
		}
		snprintf(f->host, sizeof(f->host), "%s", real);
	}
	for (int i = 0; i < o->nkeep; i++)
		if (fcntl(o->keep_fds[i], F_GETFD) < 0) {
			err_msg("--keep-fd %d: not an open descriptor", o->keep_fds[i]);
			return -1;
		}
	if (o->netns) {
		struct statfs sf;

		p->netns_fd = open(o->netns, O_RDONLY | O_CLOEXEC);
		if (p->netns_fd < 0) {
			err_msg("--netns %s: %s", o->netns, strerror(errno));
			return -1;
		}
		if (fstatfs(p->netns_fd, &sf) || sf.f_type != NSFS_MAGIC ||
		    ioctl(p->netns_fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
			err_msg("--netns %s: not a network namespace", o->netns);
			return -1;
		}
	}
	/* nothing may land twice on one jail path */
	paths = calloc((size_t)(p->ncopies + o->nfiles) + 8, sizeof(*paths));
	if (!paths) {
		err_msg("out of memory");
		return -1;
	}
	for (int i = 0; i < p->ncopies; i++)
		paths[np++] = p->copies[i].jail;
	for (size_t i = 0; i < sizeof(devnodes) / sizeof(devnodes[0]); i++)
		paths[np++] = devnodes[i].path;
	for (int i = 0; i < o->nfiles; i++)
		paths[np++] = o->files[i].jail;
	dup = jail_find_duplicate(paths, np);
	if (dup) {
		err_msg("jail path %s is used twice (check --file/--rw-file and the program's libraries)",
			dup);
		free(paths);
		return -1;
	}
	free(paths);
	return 0;
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
static int setup_cgroup(struct jail_opts *o, struct plan *p)
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
	say("cgroup hierarchy at %s", top);
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
			say("created cgroup %s", cur);
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
				say("enabled %s in %s", ctrls[i], f);
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
		say("%s = %s", f, vals[i]);
	}
	snprintf(f, sizeof(f), "%s/cgroup.procs", path);
	if (access(f, W_OK)) {
		err_msg("--cgroup %s: %s is not writable: %s", o->cgroup, f, strerror(errno));
		return -1;
	}
	return 0;
}

static void cleanup_cgroups(struct plan *p)
{
	for (int i = p->ncg_made - 1; i >= 0; i--) {
		int tries = 0;

		/* the last task may still be leaving; give it a moment */
		while (rmdir(p->cg_made[i]) && errno == EBUSY && tries++ < 100)
			usleep(10000);
	}
	p->ncg_made = 0;
}

/* --- the jail directory ----------------------------------------------- */

static int build_jail(struct jail_opts *o, struct plan *p)
{
	char ember_dir[JAIL_PATH_MAX + 8];
	int rootfd = -1, e;

	snprintf(ember_dir, sizeof(ember_dir), "%s/ember", p->base);
	if (mkdir(ember_dir, 0755) && errno != EEXIST) {
		err_msg("cannot create %s: %s", ember_dir, strerror(errno));
		return -1;
	}
	if (mkdir(p->dir, 0755)) {
		if (errno == EEXIST)
			err_msg("jail %s already exists (a jail with this id runs, or one was not "
				"cleaned up: remove it)", p->dir);
		else
			err_msg("cannot create %s: %s", p->dir, strerror(errno));
		return -1;
	}
	p->dir_made = true;
	if (mkdir(p->root, 0755) ||
	    (rootfd = open(p->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		err_msg("cannot create %s: %s", p->root, strerror(errno));
		return -1;
	}
	for (int i = 0; i < p->ncopies; i++) {
		if ((e = copy_into(rootfd, p->copies[i].host, p->copies[i].jail, p->copies[i].mode))) {
			err_msg("cannot copy %s into the jail: %s", p->copies[i].host, strerror(-e));
			goto fail;
		}
		say("copied %s -> %s", p->copies[i].host, p->copies[i].jail);
	}
	for (size_t i = 0; i < sizeof(devnodes) / sizeof(devnodes[0]); i++) {
		const struct devnode *d = &devnodes[i];
		struct stat st;

		if (stat(d->path, &st) || !S_ISCHR(st.st_mode))
			continue;
		if ((e = mkparents_at(rootfd, d->path)) ||
		    (mknodat(rootfd, d->path + 1, S_IFCHR | d->mode, st.st_rdev) && (e = -errno)) ||
		    (fchmodat(rootfd, d->path + 1, d->mode, 0) && (e = -errno)) ||
		    (d->for_vm && fchownat(rootfd, d->path + 1, p->uid, p->gid, AT_SYMLINK_NOFOLLOW) &&
		     (e = -errno))) {
			err_msg("cannot create %s in the jail: %s", d->path, strerror(-e));
			goto fail;
		}
		say("device %s (%u:%u)", d->path, major(st.st_rdev), minor(st.st_rdev));
	}
	/* mount points for the bind mounts: empty files or directories */
	for (int i = 0; i < o->nfiles; i++) {
		struct jail_file *f = &o->files[i];
		struct stat st;
		int fd;

		if (stat(f->host, &st)) {
			e = -errno;
			goto mp_fail;
		}
		if ((e = mkparents_at(rootfd, f->jail)))
			goto mp_fail;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(rootfd, f->jail + 1, 0755)) {
				e = -errno;
				goto mp_fail;
			}
		} else {
			fd = openat(rootfd, f->jail + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				    0600);
			if (fd < 0) {
				e = -errno;
				goto mp_fail;
			}
			close(fd);
		}
		continue;
mp_fail:
		err_msg("cannot create the mount point %s in the jail: %s", f->jail, strerror(-e));
		goto fail;
	}
	/* the program may create its sockets and files at the top of its root */
	if (fchown(rootfd, p->uid, p->gid)) {
		err_msg("cannot chown %s: %s", p->root, strerror(errno));
		goto fail;
	}
	close(rootfd);
	return 0;
fail:
	close(rootfd);
	return -1;
}

static void cleanup_jail(struct plan *p)
{
	char ember_dir[JAIL_PATH_MAX + 8];
	const char *name;
	struct stat st;
	int dfd, e;

	if (!p->dir_made)
		return;
	p->dir_made = false;
	snprintf(ember_dir, sizeof(ember_dir), "%s/ember", p->base);
	dfd = open(ember_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st)) {
		warn_line("cannot remove %s: %s", p->dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return;
	}
	name = strrchr(p->dir, '/') + 1;
	e = remove_tree_at(dfd, name, st.st_dev, 0);
	if (e)
		warn_line("cannot remove all of %s: %s", p->dir, strerror(-e));
	close(dfd);
}

/* --- the child: PID 1 of the new PID namespace ------------------------- */

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
	qsort(keep, (size_t)nk, sizeof(int), cmp_int);
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

static void __attribute__((noreturn)) child_fail(void)
{
	print_error();
	_exit(1);
}

static void __attribute__((noreturn)) run_child(struct jail_opts *o, struct plan *p, int sync_fd)
{
	int extra[2] = { sync_fd, p->netns_fd };
	int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
	char go;
	struct pollfd pfd;
	char **argv, **envp;

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
	if (setsid() < 0) {
		err_msg("setsid: %s", strerror(errno));
		child_fail();
	}
	/* wait until the parent has put us in the cgroup */
	if (read(sync_fd, &go, 1) != 1)
		_exit(1);
	if (p->netns_fd >= 0) {
		if (setns(p->netns_fd, CLONE_NEWNET)) {
			err_msg("--netns %s: setns: %s", o->netns, strerror(errno));
			child_fail();
		}
		close(p->netns_fd);
	}
	if (o->new_netns)
		flags |= CLONE_NEWNET;
	if (unshare(flags)) {
		err_msg("unshare (mount, IPC, UTS%s namespaces): %s", o->new_netns ? ", network" : "",
			strerror(errno));
		child_fail();
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		err_msg("making mounts private: %s", strerror(errno));
		child_fail();
	}
	/* the root becomes a mount point of its own: nosuid, with device nodes */
	if (mount(p->root, p->root, NULL, MS_BIND, NULL) ||
	    mount(NULL, p->root, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID, NULL)) {
		err_msg("bind-mounting %s: %s", p->root, strerror(errno));
		child_fail();
	}
	for (int i = 0; i < o->nfiles; i++) {
		struct jail_file *f = &o->files[i];
		char target[2 * JAIL_PATH_MAX];
		unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV;

		snprintf(target, sizeof(target), "%s%s", p->root, f->jail);
		if (!f->rw)
			fl |= MS_RDONLY;
		if (mount(f->host, target, NULL, MS_BIND, NULL) || mount(NULL, target, NULL, fl, NULL)) {
			err_msg("bind-mounting %s at %s: %s", f->host, f->jail, strerror(errno));
			child_fail();
		}
		say("%s -> %s (%s)", f->host, f->jail, f->rw ? "rw" : "ro");
	}
	if (chdir(p->root)) {
		err_msg("chdir %s: %s", p->root, strerror(errno));
		child_fail();
	}
	if (!syscall(SYS_pivot_root, ".", ".")) {
		/* the old root is stacked under the new one: detach it */
		if (umount2(".", MNT_DETACH)) {
			err_msg("detaching the old root: %s", strerror(errno));
			child_fail();
		}
		say("pivot_root into %s", p->root);
	} else if (errno == EINVAL) {
		/*
		 * The host's root is the initramfs (rootfs), which pivot_root
		 * cannot move: move the jail over it and chroot, as
		 * switch_root does. Without privileges (below) nothing
		 * gets out of a chroot.
		 */
		if (mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".")) {
			err_msg("entering the jail (move + chroot): %s", strerror(errno));
			child_fail();
		}
		say("root is the initramfs: moved %s over / and chrooted", p->root);
	} else {
		err_msg("pivot_root into %s: %s", p->root, strerror(errno));
		child_fail();
	}
	if (chdir("/")) {
		err_msg("chdir /: %s", strerror(errno));
		child_fail();
	}
	if (sethostname(o->id, strlen(o->id))) {
		err_msg("sethostname: %s", strerror(errno));
		child_fail();
	}
	/* last, what needs root: groups, gid, uid (which clears all capabilities) */
	if (setgroups(0, NULL) || setresgid(p->gid, p->gid, p->gid) ||
	    setresuid(p->uid, p->uid, p->uid)) {
		err_msg("dropping to uid %u gid %u: %s", (unsigned)p->uid, (unsigned)p->gid,
			strerror(errno));
		child_fail();
	}
	if (setuid(0) == 0) {
		err_msg("still able to become root after dropping privileges");
		child_fail();
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)) {
		err_msg("prctl: %s", strerror(errno));
		child_fail();
	}
	/* the parent may have died before PDEATHSIG was armed: its pipe end then is closed */
	pfd = (struct pollfd){ .fd = sync_fd, .events = POLLIN };
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLIN)))
		_exit(1);
	close(sync_fd);
	for (int i = 0; i < o->nkeep; i++) {
		int fl = fcntl(o->keep_fds[i], F_GETFD);

		if (fl >= 0)
			fcntl(o->keep_fds[i], F_SETFD, fl & ~FD_CLOEXEC);
	}
	argv = calloc((size_t)o->nargs + 2, sizeof(*argv));
	envp = calloc((size_t)o->nenv + 1, sizeof(*envp));
	if (!argv || !envp) {
		err_msg("out of memory");
		child_fail();
	}
	argv[0] = p->exec_jail;
	for (int i = 0; i < o->nargs; i++)
		argv[i + 1] = o->args[i];
	for (int i = 0; i < o->nenv; i++)
		envp[i] = o->env[i];
	execve(p->exec_jail, argv, envp);
	err_msg("cannot execute %s in the jail: %s", p->exec_jail, strerror(errno));
	child_fail();
}

/* --- the parent ------------------------------------------------------- */

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
	struct plan p = { .netns_fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct termios tio;
	bool tty_saved = false;
	int sync[2], status, ret = 1;
	pid_t pid;
	char buf[32];

	log_set_quiet(1);
	ensure_std_fds();
	if (jail_parse_args(&o, argc, argv)) {
		print_error();
		return 1;
	}
	if (o.help) {
		fputs(usage_text, stdout);
		jail_opts_free(&o);
		return 0;
	}
	verbose = o.verbose;
	if (geteuid() != 0) {
		err_msg("must run as root (it creates namespaces, device nodes and mounts)");
		goto fail;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);

	if (check_inputs(&o, &p))
		goto fail;
	if (o.cgroup && setup_cgroup(&o, &p))
		goto fail;
	if (build_jail(&o, &p))
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
		run_child(&o, &p, sync[0]);
	}
	child_pid = pid;
	if (pending_sig)
		kill(pid, pending_sig);
	close(sync[0]);
	if (p.netns_fd >= 0)
		close(p.netns_fd);
	p.netns_fd = -1;
	if (o.cgroup) {
		char procs[JAIL_PATH_MAX + 16], cg[JAIL_PATH_MAX];
		int e;

		jail_norm_path(cg, sizeof(cg), o.cgroup, "--cgroup");
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
		snprintf(buf, sizeof(buf), "%d", (int)pid);
		if ((e = write_file(procs, buf))) {
			err_msg("--cgroup %s: cannot add the jail to %s: %s", o.cgroup, procs, strerror(-e));
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			goto fail;
		}
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
		cleanup_jail(&p);
	cleanup_cgroups(&p);
	free(p.copies);
	jail_opts_free(&o);
	return ret;
fail:
	print_error();
	if (p.netns_fd >= 0)
		close(p.netns_fd);
	cleanup_jail(&p);
	cleanup_cgroups(&p);
	free(p.copies);
	jail_opts_free(&o);
	return 1;
}

#endif /* EMBER_JAIL_NO_MAIN */
