/*
 * ember's options: one table (cli_opts.c) gives the usage text, the parser
 * and its errors. Parsing only fills struct cli; vmm/cli.c acts on it.
 */
#ifndef EMBER_CLI_OPTS_H
#define EMBER_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/keyval.h"
#include "vmm/machine.h"	/* MAX_SERIALS */

/* Minimal on purpose: no earlyprintk (each console byte is a VM exit). */
#define DEFAULT_APPEND	"console=ttyS0 panic=1"
#define MAX_OPTS	64

struct cli {
	const char *kernel, *initrd, *append, *machine, *cpu;
	const char *mem, *smp;
	const char *serial[MAX_SERIALS];
	unsigned nr_serial;
	const char *chardev[MAX_OPTS], *device[MAX_OPTS], *object[MAX_OPTS];
	const char *blockdev[MAX_OPTS], *netdev[MAX_OPTS];
	unsigned nr_chardev, nr_device, nr_object, nr_blockdev, nr_netdev;
	const char *sandbox;	/* sandbox: -sandbox on|off */
	const char *qmp[8];	/* -qmp unix:PATH,server=on[,wait=off], each a server */
	unsigned nr_qmp;
	const char *mon[8], *monitor[8];	/* -mon, -monitor (vmm/qmp.c) */
	unsigned nr_mon, nr_monitor;
	bool start_paused, no_shutdown;		/* -S, -no-shutdown */
	bool no_reboot;				/* -no-reboot */
	const char *incoming;	/* -incoming file:PATH or defer (vmm/snapshot.h) */
	bool print_seccomp;	/* sandbox: -print-seccomp, which ends the parse */
	/* QEMU compatibility (docs/cli.md) */
	const char *drive[MAX_OPTS], *nic[MAX_OPTS];
	unsigned nr_drive, nr_nic;
	const char *name, *uuid;	/* -name, -uuid: kept for QMP */
	const char *pidfile, *rtc, *msg, *overcommit;
	const char *rtc_base;	/* -rtc base=, NULL: utc */
	bool daemonize, nodefaults;
	bool nographic;		/* -nographic: the default COM1 is mon:stdio */
	const char *echr;	/* -echr: the mux's escape key */
	/* Strings made by the parser (JSON options turned into keyval); cli_free. */
	char **owned;
	unsigned nr_owned;
};

/* The headings of the usage text, in its order. */
enum cli_group { CLI_GUEST, CLI_BACKENDS, CLI_OTHER, CLI_NR_GROUPS };

/* Where an option's value goes. */
enum cli_kind {
	CLI_FIELD,	/* a const char * member of struct cli; the last one counts */
	CLI_LIST,	/* a const char * array member, at most .max, counted in .count */
	CLI_CALL,	/* .call decides */
	CLI_IGNORED,	/* accepted for QEMU compatibility, changes nothing */
	CLI_MORE,	/* another form of the option above: a usage line only */
};

/*
 * A key an option takes and its type as QEMU's query-command-line-options
 * names it: "string", "boolean", "number", "size". The option's parser
 * refuses keys not in its table (cli_keys_check), and QMP lists the table.
 */
struct cli_param {
	const char *name, *type;
};

struct cli_opt {
	const char *name, *alias;	/* "-M", "-machine"; "--M" works too */
	const char *arg;		/* the value's name in the usage; NULL: takes none */
	enum cli_kind kind;
	size_t field, count;		/* CLI_FIELD, CLI_LIST: offsets in struct cli */
	unsigned max;			/* CLI_LIST */
	/* CLI_CALL: 0, 1 (the parse ends: -help, -version...) or -EINVAL */
	int (*call)(struct cli *c, const char *arg);
	enum cli_group group;
	const char *help;		/* may go on over lines; "": on the line before */
	/*
	 * CLI_FIELD: when its value is "help" once the line is parsed, prints
	 * what the option takes (-M help) and the parse ends with 1. The
	 * back-end lists (-chardev help, -netdev tap,help) are answered by
	 * their object types' table (backends/object.h), from cli.c.
	 */
	void (*values)(FILE *f);
	/* The keys of a key=value option (NULL-ended), or NULL: none, or open (-device). */
	const struct cli_param *params;
};

extern const struct cli_opt cli_opts[];
extern const size_t cli_nr_opts;

void cli_usage(FILE *f);
/*
 * Fills @c (zeroed by the caller) from argv[1..]: 0, 1 when an option such
 * as -help or -M help was answered and nothing more is to be done, or
 * -EINVAL with one message (unknown option, missing argument, too many of
 * one option...).
 */
int cli_parse(int argc, char **argv, struct cli *c);
/*
 * After an option's parser has looked up the keys it knows: -EINVAL after
 * "OPT: unknown property 'K'" for a key it did not read or that @opt's
 * parameter table lacks (so that QMP's list is what the parser takes).
 */
int cli_keys_check(const struct keyval *kv, const char *opt);
/* The option called @name ("-rtc"), or NULL. */
const struct cli_opt *cli_opt_find(const char *name);
/* Frees what cli_parse (and cli.c) made and recorded in c->owned. */
void cli_free(struct cli *c);
/* Records @s (malloc'ed) in c->owned; @s, or NULL after a message if @s is NULL. */
char *cli_own(struct cli *c, char *s);

#endif
