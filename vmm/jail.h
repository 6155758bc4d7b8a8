/*
 * ember-jail: start ember (or any program) in fresh namespaces, inside a
 * per-VM root directory, as an unprivileged uid, under cgroup v2 limits.
 * See docs/jail.md. This header exposes the pure logic (argument parsing,
 * path building, value checks, ELF dependency parsing, descriptor ranges)
 * so that tests/unit/test_jail.c can test it without root.
 *
 * Functions returning int report an error once with err_msg() (lib/log.h)
 * and return -1; the message is then in log_last().
 */
#ifndef EMBER_JAIL_H
#define EMBER_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define JAIL_ID_MAX 64
#define JAIL_PATH_MAX 4096
#define JAIL_NAME_MAX 256
#define JAIL_DEFAULT_BASE "/srv/jailer"

struct jail_file {
	const char *spec;		/* as given */
	char host[JAIL_PATH_MAX];	/* host path (must exist) */
	char jail[JAIL_PATH_MAX];	/* normalized absolute path in the jail */
	bool rw;			/* --rw-file: bound read-write */
};

struct jail_opts {
	const char *id;
	const char *exec_file;
	const char *uid_str, *gid_str;
	const char *base_dir;		/* default JAIL_DEFAULT_BASE */
	const char *netns;		/* --netns PATH */
	bool new_netns;
	const char *cgroup;
	char cpu_max[64];		/* normalized limits; "" = not given */
	char memory_max[32];
	char pids_max[32];
	struct jail_file *files;
	int nfiles;
	int *keep_fds;			/* sorted, unique, all >= 3 */
	int nkeep;
	char **env;			/* NAME=VALUE from --env, NULL-terminated */
	int nenv;
	char **args;			/* the program's arguments after "--" (not argv[0]) */
	int nargs;
	bool keep;			/* --keep: leave the jail directory behind */
	bool verbose;
	bool help;
};

/* Parse the command line (syntax and values only: no file system access). */
int jail_parse_args(struct jail_opts *o, int argc, char **argv);
void jail_opts_free(struct jail_opts *o);

/* [A-Za-z0-9_-]{1,64} */
int jail_check_id(const char *id);
/* A number, or a name known to getpwnam/getgrnam. Refuses 0 (root). */
int jail_resolve_uid(const char *s, uid_t *out);
int jail_resolve_gid(const char *s, gid_t *out);

/* Normalize a path for inside the jail: absolute (a leading '/' is implied),
 * repeated and trailing slashes dropped, "." dropped; ".." and "/" refused. */
int jail_norm_path(char *out, size_t n, const char *in, const char *what);
/* HOST[:JAIL] -> f->host, f->jail (default: '/' + basename(HOST)). */
int jail_parse_file_spec(struct jail_file *f, const char *spec, const char *opt);
/* "<base>/ember/<id>/root" and "<base>/ember/<id>" */
int jail_dir_path(char *out, size_t n, const char *base, const char *id);
int jail_root_path(char *out, size_t n, const char *base, const char *id);
/* The first path that appears twice in PATHS, or NULL. */
const char *jail_find_duplicate(const char *const *paths, int n);

/* cgroup v2 values, normalized into OUT for writing to the control file. */
int jail_parse_cpu_max(const char *s, char *out, size_t n);	/* "max"|"Q"|"Q P"|"max P" */
int jail_parse_memory_max(const char *s, char *out, size_t n);	/* "max"|N[KMGT] -> bytes */
int jail_parse_pids_max(const char *s, char *out, size_t n);	/* "max"|N>0 */

/* Descriptors to close: the ranges [lo, hi] covering 3..~0U minus KEEP
 * (sorted, unique, >= 3). Returns the number of ranges written (<= nkeep+1). */
struct jail_fd_range { unsigned lo, hi; };
int jail_close_ranges(const int *keep, int nkeep, struct jail_fd_range *out, int max);

/* An ELF64 x86-64 image: its interpreter (PT_INTERP, "" if none) and the
 * names of its DT_NEEDED libraries. Returns the number of names, or -1. */
int jail_elf_deps(const void *img, size_t len, char *interp, size_t interp_size,
		  char (*needed)[JAIL_NAME_MAX], int max_needed);

#endif
