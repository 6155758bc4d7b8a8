/* ember-jail's command line: one table of options makes the parser and the usage text. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "jail/jail.h"

struct opt {
	const char *name, *alias;	/* "--verbose", "-v" (a flag's only) */
	const char *arg;		/* the value's name in the usage; NULL: a flag */
	int (*set)(struct jail_opts *o, const struct opt *op, const char *val);
	size_t field;			/* for set_flag, set_string: the member set */
	const char *help;		/* NULL: not in the usage; "": on the line before */
};

int jail_check_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > JAIL_ID_MAX) {
		err_msg("--id '%s': must be 1 to %d characters", id, JAIL_ID_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_') {
			err_msg("--id '%s': only letters, digits, '-' and '_' are allowed", id);
			return -EINVAL;
		}
	return 0;
}

int jail_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* --- the setters: one option's value into the options ------------------ */

static int once(bool given, const struct opt *op)
{
	if (given) {
		err_msg("%s given twice", op->name);
		return -EINVAL;
	}
	return 0;
}

static int set_flag(struct jail_opts *o, const struct opt *op, const char *val)
{
	*(bool *)((char *)o + op->field) = true;
	return 0;
}

static int set_string(struct jail_opts *o, const struct opt *op, const char *val)
{
	const char **slot = (const char **)((char *)o + op->field);

	int r = once(*slot, op);

	if (!r)
		*slot = val;
	return r;
}

static int set_id(struct jail_opts *o, const struct opt *op, const char *val)
{
	int r = set_string(o, op, val);

	return r ? r : jail_check_id(val);
}

static int set_cgroup(struct jail_opts *o, const struct opt *op, const char *val)
{
	int r = set_string(o, op, val);

	if (r)
		return r;
	if (val[0] != '/') {
		err_msg("--cgroup %s: must be an absolute path", val);
		return -EINVAL;
	}
	return 0;
}

static int set_cpu_max(struct jail_opts *o, const struct opt *op, const char *val)
{
	int r = once(o->cpu_max[0], op);

	return r ? r : jail_parse_cpu_max(val, o->cpu_max, sizeof(o->cpu_max));
}

static int set_memory_max(struct jail_opts *o, const struct opt *op, const char *val)
{
	int r = once(o->memory_max[0], op);

	return r ? r : jail_parse_memory_max(val, o->memory_max, sizeof(o->memory_max));
}

static int set_pids_max(struct jail_opts *o, const struct opt *op, const char *val)
{
	int r = once(o->pids_max[0], op);

	return r ? r : jail_parse_pids_max(val, o->pids_max, sizeof(o->pids_max));
}

/* --file and --rw-file */
static int set_file(struct jail_opts *o, const struct opt *op, const char *val)
{
	struct jail_file *f = &o->files[o->nfiles];
	int r = jail_parse_file_spec(f, val, op->name);

	if (r)
		return r;
	f->rw = !strcmp(op->name, "--rw-file");
	o->nfiles++;
	return 0;
}

static int set_keep_fd(struct jail_opts *o, const struct opt *op, const char *val)
{
	char *end;
	long fd;

	errno = 0;
	fd = strtol(val, &end, 10);
	if (!isdigit((unsigned char)val[0]) || *end || errno || fd > INT_MAX) {
		err_msg("--keep-fd '%s': not a descriptor number", val);
		return -EINVAL;
	}
	if (fd >= 3)
		o->keep_fds[o->nkeep++] = (int)fd;
	return 0;
}

static int set_env(struct jail_opts *o, const struct opt *op, const char *val)
{
	const char *e = strchr(val, '=');

	if (!e || e == val) {
		err_msg("--env '%s': expected NAME=VALUE", val);
		return -EINVAL;
	}
	o->env[o->nenv++] = (char *)val;
	return 0;
}

/* A library file name as dlopen() takes it: no path. */
static int set_lib(struct jail_opts *o, const struct opt *op, const char *val)
{
	if (!val[0] || strchr(val, '/') || strlen(val) >= JAIL_NAME_MAX) {
		err_msg("--lib '%s': expected a library's file name, e.g. libslirp.so.0", val);
		return -EINVAL;
	}
	o->libs[o->nlibs++] = (char *)val;
	return 0;
}

/* An IOMMU group as /dev/vfio names it: a decimal number. */
static int set_vfio(struct jail_opts *o, const struct opt *op, const char *val)
{
	size_t n = strspn(val, "0123456789");

	if (!n || val[n] || n > 9) {
		err_msg("--vfio '%s': expected an IOMMU group number, as in /dev/vfio/GROUP", val);
		return -EINVAL;
	}
	if (o->nvfio >= JAIL_VFIO_MAX) {
		err_msg("--vfio %s: at most %d groups", val, JAIL_VFIO_MAX);
		return -EINVAL;
	}
	o->vfio[o->nvfio++] = (char *)val;
	return 0;
}

/* --- the table --------------------------------------------------------- */

#define FIELD(m) offsetof(struct jail_opts, m)

static const struct opt opts[] = {
	{ "--id", NULL, "ID", set_id, FIELD(id),
	  "jail name: 1-64 of [A-Za-z0-9_-]; also the hostname" },
	{ "--exec-file", NULL, "PATH", set_string, FIELD(exec_file),
	  "program copied into the jail (with its shared libraries)" },
	{ "--uid", NULL, "UID", set_string, FIELD(uid_str),
	  "numbers, or user/group names; not 0" },
	{ "--gid", NULL, "GID", set_string, FIELD(gid_str), "" },
	{ "--chroot-base-dir", NULL, "DIR", set_string, FIELD(base_dir),
	  "existing directory holding the jails (default " JAIL_DEFAULT_BASE ")" },
	{ "--file", NULL, "HOST[:JAIL]", set_file, 0,
	  "bind-mount HOST read-only at JAIL (default /basename)" },
	{ "--rw-file", NULL, "HOST[:JAIL]", set_file, 0, "the same, read-write" },
	{ "--netns", NULL, "PATH", set_string, FIELD(netns),
	  "join this network namespace (e.g. /var/run/netns/NAME)" },
	{ "--new-netns", NULL, NULL, set_flag, FIELD(new_netns), "a new, empty network namespace" },
	{ "--cgroup", NULL, "PATH", set_cgroup, FIELD(cgroup),
	  "cgroup v2 directory for the jail (created if missing)" },
	{ "--cpu-max", NULL, "'QUOTA PERIOD'", set_cpu_max, 0,
	  "cpu.max (microseconds), needs --cgroup" },
	{ "--memory-max", NULL, "SIZE", set_memory_max, 0,
	  "memory.max (bytes, K, M, G, T or max), needs --cgroup" },
	{ "--pids-max", NULL, "N", set_pids_max, 0, "pids.max, needs --cgroup" },
	{ "--keep-fd", NULL, "N", set_keep_fd, 0, "pass descriptor N on (0, 1 and 2 always are)" },
	{ "--env", NULL, "NAME=VALUE", set_env, 0, "environment of the program (empty otherwise)" },
	{ "--lib", NULL, "NAME", set_lib, 0,
	  "also copy a library the program dlopen()s (libslirp.so.0)" },
	{ "--vfio", NULL, "GROUP", set_vfio, 0,
	  "/dev/vfio/{vfio,GROUP} and the group's sysfs (-device vfio-pci)" },
	{ "--keep", NULL, NULL, set_flag, FIELD(keep), "leave the jail directory behind at the end" },
	{ "--verbose", "-v", NULL, set_flag, FIELD(verbose), "say what is being set up" },
	{ "--help", "-h", NULL, set_flag, FIELD(help), NULL },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (!strcmp(name, opts[i].name) || (opts[i].alias && !strcmp(name, opts[i].alias)))
			return &opts[i];
	return NULL;
}

/* --- the usage text ---------------------------------------------------- */

/* "-v, --verbose", "--id ID" */
static void opt_syntax(const struct opt *op, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s%s%s", op->alias ? op->alias : "", op->alias ? ", " : "",
		 op->name, op->arg ? " " : "", op->arg ? op->arg : "");
}

void jail_usage(FILE *f)
{
	fputs("usage: ember-jail --id ID --exec-file PATH --uid UID --gid GID [OPTIONS] -- ARGS...\n"
	      "\n"
	      "Runs PATH (ember) with ARGS as PID 1 of new PID, mount, IPC and UTS namespaces,\n"
	      "inside <base>/ember/ID/root, as UID:GID, after closing inherited descriptors.\n"
	      "Paths in ARGS are paths inside the jail.\n"
	      "\n", f);
	for (size_t i = 0; i < NOPTS; i++) {
		char left[128];
		size_t len;

		if (!opts[i].help || !opts[i].help[0])
			continue;
		opt_syntax(&opts[i], left, sizeof(left));
		/* the options that share this line's help */
		for (size_t j = i + 1; j < NOPTS && opts[j].help && !opts[j].help[0]; j++) {
			len = strlen(left);
			snprintf(left + len, sizeof(left) - len, ", ");
			opt_syntax(&opts[j], left + len + 2, sizeof(left) - len - 2);
		}
		fprintf(f, "  %-24s %s\n", left, opts[i].help);
	}
	fputs("\n"
	      "Exit status: the program's (128+N when killed by signal N); 1 when the jail\n"
	      "could not be set up. See docs/jail.md.\n", f);
}

/* --- the parser -------------------------------------------------------- */

void jail_opts_free(struct jail_opts *o)
{
	free(o->files);
	free(o->keep_fds);
	free(o->env);
	free(o->libs);
	free(o->vfio);
	o->libs = NULL;
	o->vfio = NULL;
	o->files = NULL;
	o->keep_fds = NULL;
	o->env = NULL;
}

/* ARGV[*I], and its value (after '=' or the next argument, then *I moves on). */
static int parse_opt(struct jail_opts *o, int argc, char **argv, int *i)
{
	char name[64];
	const char *a = argv[*i], *opt = a, *val = NULL, *eq = strchr(a, '=');
	const struct opt *op = find_opt(a);

	if (op && !op->arg)
		return op->set(o, op, NULL);
	if (strncmp(a, "--", 2)) {
		err_msg("unexpected argument '%s' (the program's arguments go after '--')", a);
		return -EINVAL;
	}
	if (eq && (size_t)(eq - a) < sizeof(name)) {
		memcpy(name, a, (size_t)(eq - a));
		name[eq - a] = 0;
		opt = name;
		val = eq + 1;
	}
	op = find_opt(opt);
	if (!op || !op->arg) {
		err_msg("unknown option '%s' (see --help)", opt);
		return -EINVAL;
	}
	if (!val) {
		if (*i + 1 >= argc) {
			err_msg("%s needs a value", opt);
			return -EINVAL;
		}
		val = argv[++*i];
	}
	return op->set(o, op, val);
}

/* What the options need of each other, once all are read. */
static int check_opts(const struct jail_opts *o)
{
	if (!o->id) {
		err_msg("--id is required");
		return -EINVAL;
	}
	if (!o->exec_file) {
		err_msg("--exec-file is required");
		return -EINVAL;
	}
	if (!o->uid_str || !o->gid_str) {
		err_msg("--uid and --gid are required");
		return -EINVAL;
	}
	if (o->netns && o->new_netns) {
		err_msg("--netns and --new-netns exclude each other");
		return -EINVAL;
	}
	if (!o->cgroup && (o->cpu_max[0] || o->memory_max[0] || o->pids_max[0])) {
		err_msg("%s needs --cgroup", o->cpu_max[0] ? "--cpu-max" :
			o->memory_max[0] ? "--memory-max" : "--pids-max");
		return -EINVAL;
	}
	return 0;
}

int jail_parse_args(struct jail_opts *o, int argc, char **argv)
{
	int i, n = 0, r = -ENOMEM;

	memset(o, 0, sizeof(*o));
	o->files = calloc((size_t)argc + 1, sizeof(*o->files));
	o->keep_fds = calloc((size_t)argc + 1, sizeof(*o->keep_fds));
	o->env = calloc((size_t)argc + 1, sizeof(*o->env));
	o->libs = calloc((size_t)argc + 1, sizeof(*o->libs));
	o->vfio = calloc((size_t)argc + 1, sizeof(*o->vfio));
	if (!o->files || !o->keep_fds || !o->env || !o->libs || !o->vfio) {
		err_msg("out of memory");
		goto fail;
	}
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if ((r = parse_opt(o, argc, argv, &i)))
			goto fail;
	if (i < argc)
		i++;	/* the "--" */
	o->args = argv + i;
	o->nargs = argc - i;
	if (o->help)
		return 0;
	if ((r = check_opts(o)))
		goto fail;
	if (!o->base_dir)
		o->base_dir = JAIL_DEFAULT_BASE;
	/* sorted and unique, so that the close ranges can be computed */
	qsort(o->keep_fds, (size_t)o->nkeep, sizeof(int), jail_cmp_int);
	for (int k = 0; k < o->nkeep; k++)
		if (!n || o->keep_fds[n - 1] != o->keep_fds[k])
			o->keep_fds[n++] = o->keep_fds[k];
	o->nkeep = n;
	return 0;
fail:
	jail_opts_free(o);
	return r;
}
