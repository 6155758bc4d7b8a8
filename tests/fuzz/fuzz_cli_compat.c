/*
 * QEMU's shorthands (vmm/cli_compat.c): arbitrary text as -drive, -nic,
 * -M, -m, -sandbox and -serial unix:. What -drive and -nic make must parse
 * as the -blockdev, -netdev and -device options they stand for.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/keyval.h"
#include "lib/log.h"
#include "vmm/cli_compat.h"

/* What the option table's help hooks would print: not part of this target. */
void machine_types_help(FILE *f) { }
void arch_cpu_help(FILE *f) { }

static void must_parse(const char *s, const char *implied, const char *what)
{
	struct keyval kv;

	if (keyval_parse(s, implied, what, &kv))
		abort();
	keyval_free(&kv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct cli c = { 0 };
	struct cli_machine m;
	const char *o, *ref;
	uint64_t mem;
	int on;
	unsigned ncpus;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	log_set_quiet(1);

	c.drive[c.nr_drive++] = s;
	c.nic[c.nr_nic++] = s;
	if (!cli_expand(&c, size & 1)) {
		for (unsigned i = 0; i < c.nr_blockdev; i++)
			must_parse(c.blockdev[i], NULL, "-blockdev");
		for (unsigned i = 0; i < c.nr_netdev; i++)
			must_parse(c.netdev[i], "type", "-netdev");
		for (unsigned i = 0; i < c.nr_device; i++)
			must_parse(c.device[i], "driver", "-device");
	}
	cli_parse_machine(&c, s, &m);
	if (!cli_parse_mem(s, &mem) && mem < (16 << 20))
		abort();
	cli_parse_sandbox(s, &on);
	if (!cli_parse_smp(s, &ncpus) && (ncpus < 1 || ncpus > MAX_VCPUS))
		abort();
	if (!cli_unix_chardev(&c, "-serial", s, "serial0", &o))
		must_parse(o, "backend", "-chardev");
	if (!cli_monitor_chardev(&c, "-monitor", s, "compat_monitor0", &o, &ref) && o)
		must_parse(o, "backend", "-chardev");
	cli_free(&c);
	free(s);
	return 0;
}
