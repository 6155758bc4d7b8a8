/*
 * QEMU's command-line forms that ember maps onto its own (docs/cli.md):
 * -drive and -nic become -blockdev, -netdev and -device strings; -M's
 * microvm properties, -m's hotplug keys, -sandbox's QEMU keys and
 * -serial unix: are parsed here. Pure parsing, so that unit tests see each.
 */
#ifndef EMBER_CLI_COMPAT_H
#define EMBER_CLI_COMPAT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/cli_opts.h"

/* What -M says. */
struct cli_machine {
	const char *type;	/* NULL: the default; "pci" for microvm,pcie=on */
	const char *ram_id;	/* memory-backend=, or NULL */
	bool no_com1;		/* isa-serial=off */
	bool help;		/* -M TYPE,help */
};
/* Strings point into c->owned. 0, or -EINVAL after one message naming -M and the key. */
int cli_parse_machine(struct cli *c, const char *s, struct cli_machine *out);

/* -m SIZE[,slots=N,maxmem=M]: the size; slots and maxmem are checked, then ignored. */
int cli_parse_mem(const char *s, uint64_t *out);

/* -smp N or -smp cpus=N, QEMU's topology keys accepted: the number of vCPUs. */
int cli_parse_smp(const char *s, unsigned *out);

/* -sandbox on|off[,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny] */
int cli_parse_sandbox(const char *s, int *on);

/*
 * -serial (or -monitor) unix:PATH[,server[,nowait]] as -chardev socket
 * options with id @id, into c->owned. 0, or -EINVAL after one message
 * naming @what.
 */
int cli_unix_chardev(struct cli *c, const char *what, const char *s, const char *id,
		     const char **out);

/* -drive cache=MODE as QEMU defines it (NULL: writeback, its default). */
struct cli_cache {
	bool writeback;		/* the guest sees a volatile write cache (else write-cache=off) */
	bool direct;		/* cache.direct: O_DIRECT */
	bool no_flush;		/* cache.no-flush: flushes ignored */
};
/* 0, or -EINVAL after one message naming -drive cache=. */
int cli_drive_cache(const char *mode, struct cli_cache *out);

/*
 * QEMU's short chardev forms of -monitor: stdio, null, pty, file:PATH,
 * unix:PATH[,server[,nowait]] as -chardev options with id @id into *@out
 * (in c->owned), or chardev:ID as *@out NULL and *@ref ID. 0, or -EINVAL
 * after one message naming @what.
 */
int cli_monitor_chardev(struct cli *c, const char *what, const char *s, const char *id,
			const char **out, const char **ref);

/*
 * Appends each -drive's -blockdev (and -device, for if=virtio) and each
 * -nic's -netdev and -device to the lists of @c; @pci: the machine has PCI
 * (virtio-*-pci front ends), else virtio-mmio (virtio-*-device).
 */
int cli_expand(struct cli *c, bool pci);

#endif
