/*
 * ember-jail: start ember (or any program) in fresh namespaces, inside a
 * per-VM root directory, as an unprivileged uid, under cgroup v2 limits.
 * See docs/jail.md. The interface between the program's files: first the
 * pure logic (argument parsing, path building, value checks, ELF dependency
 * parsing, descriptor ranges) that tests/unit/test_jail.c tests without
 * root, then the steps main.c runs.
 *
 * Functions returning int report an error once with err_msg() (lib/log.h),
 * where the user's input is known, and return a negative errno (-EINVAL for
 * a bad value, -ENAMETOOLONG, -ERANGE, -ENOENT, or a system call's); the
 * message is then in log_last(). main() alone decides the exit status.
 */
#ifndef EMBER_JAIL_H
#define EMBER_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define JAIL_ID_MAX 64
#define JAIL_PATH_MAX 4096
#define JAIL_NAME_MAX 256
#define JAIL_DEFAULT_BASE "/srv/jailer"
#define JAIL_VFIO_MAX 16		/* --vfio groups */

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
	char **libs;			/* --lib NAME: dlopen()ed libraries to copy too */
	int nlibs;
	char **vfio;			/* --vfio GROUP: IOMMU group numbers, digits */
	int nvfio;
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
 * (sorted, unique, >= 3). Returns the number of ranges written (<= nkeep+1),
 * or -ENOSPC when MAX is too few. */
struct jail_fd_range { unsigned lo, hi; };
int jail_close_ranges(const int *keep, int nkeep, struct jail_fd_range *out, int max);

/* An ELF64 x86-64 image: its interpreter (PT_INTERP, "" if none) and the
 * names of its DT_NEEDED libraries. Returns the number of names, -ENOEXEC
 * for a file it cannot use, or -E2BIG for more than MAX_NEEDED names. */
int jail_elf_deps(const void *img, size_t len, char *interp, size_t interp_size,
		  char (*needed)[JAIL_NAME_MAX], int max_needed);

/* --- the program ------------------------------------------------------ */

/* Progress lines (-v only), warnings and the one error line, on stderr. */
extern bool jail_verbose;
void jail_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void jail_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void jail_print_error(void);	/* log_last(), the last err_msg() */
/* The system call WHAT failed: err_msg("WHAT: <errno's text>"), and -errno. */
int jail_fail(const char *what);

/* args.c: the usage text, from the same table of options as the parser. */
void jail_usage(FILE *f);
/* qsort() order for ints: the descriptors to keep. */
int jail_cmp_int(const void *a, const void *b);

/* A host file copied into the jail. */
struct jail_copy { char host[JAIL_PATH_MAX]; char jail[JAIL_PATH_MAX]; mode_t mode; };

/* What goes into the jail and where; filled by jail_check_inputs(). */
struct jail_plan {
	char exec_jail[JAIL_PATH_MAX];	/* "/ember" */
	struct jail_copy *copies;	/* the exec file, its interpreter, its libraries */
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
	/* --vfio: /dev/vfio/vfio and each /dev/vfio/GROUP, made like jail_devnodes' for_vm ones */
	char vfio_nodes[JAIL_VFIO_MAX + 1][32];
	int nvfio_nodes;
};

/* Device nodes made in the jail when the host has them; for_vm ones belong to uid:gid. */
struct jail_devnode { const char *path; mode_t mode; bool for_vm; };
extern const struct jail_devnode jail_devnodes[];
extern const size_t jail_ndevnodes;

/* plan.c: every input checked before anything is created. */
int jail_check_inputs(struct jail_opts *o, struct jail_plan *p);
/* cgroup.c: create and limit --cgroup, put PID in it, remove what was created. */
int jail_cgroup_setup(struct jail_opts *o, struct jail_plan *p);
int jail_cgroup_add(const struct jail_opts *o, pid_t pid);
void jail_cgroup_cleanup(struct jail_plan *p);
/* fs.c: the jail directory <base>/ember/<id>/root, made and removed. */
int jail_dir_build(struct jail_opts *o, struct jail_plan *p);
void jail_dir_cleanup(struct jail_plan *p);
/*
 * child.c: PID 1 of the new PID namespace; enters the jail and execs the
 * program. Returns only on failure: a negative errno with its message, or
 * -EPIPE and no message when the parent is gone (nobody to tell).
 */
int jail_child(struct jail_opts *o, struct jail_plan *p, int sync_fd);

#endif
