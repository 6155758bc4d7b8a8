/* ember-jail's command line: the options, their syntax and values, the usage text. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "jail/jail.h"

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

void jail_usage(FILE *f)
{
	fputs(usage_text, f);
}

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

int jail_cmp_int(const void *a, const void *b)
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
	qsort(o->keep_fds, (size_t)o->nkeep, sizeof(int), jail_cmp_int);
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
