/*
 * ember's whole command line through its real tables: the input, split at
 * newlines, is argv[1..]; cli_parse and cli_check (vmm/cli.c) run it
 * through the option table, -drive/-nic expansion and the -device,
 * -blockdev, -netdev, -chardev and -object type tables, as ember_main does
 * before it opens /dev/kvm. Linked with the whole of ember, so every device
 * and back-end type registers as in the binary.
 *
 * Checked after each input: nothing was created in the working directory
 * (a fresh empty one while the input runs), no fd was left open, and an accepted line has a
 * kernel. An exit() anywhere is reported by libFuzzer.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/cli.h"

#define MAX_ARGS	512

static int home_fd;
static char scratch[] = "/tmp/fuzz_cli_opts.XXXXXX";

/* The lowest free fd: it moves if a check left one open. */
static int free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static int dir_empty(void)
{
	DIR *d = opendir(".");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return !n;
}

static void scratch_remove(void)
{
	rmdir(scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int null = open("/dev/null", O_WRONLY);

	/* -help, -M help, -netdev help... print here; libFuzzer reports on stderr. */
	if (null >= 0) {
		dup2(null, 1);
		close(null);
	}
	home_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (home_fd < 0 || !mkdtemp(scratch))
		abort();
	atexit(scratch_remove);
	log_set_quiet(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 1], *p;
	struct machine_config mc = { 0 };
	struct cli_machine cm;
	struct cli c = { 0 };
	int argc = 0, ret, lowest_fd = free_fd();

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "ember";
	for (p = buf; argc < MAX_ARGS; ) {
		char *nl = strchr(p, '\n');

		argv[argc++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	argv[argc] = NULL;

	/* Relative paths in the options land in the scratch directory; libFuzzer's stay. */
	if (chdir(scratch))
		abort();
	ret = cli_parse(argc, argv, &c);
	if (!ret && !c.print_seccomp) {
		ret = cli_check(&c, &mc, &cm);
		if (!ret && (!mc.kernel || !mc.type || mc.ram_size < MIN_RAM || !mc.ncpus))
			abort();
	}
	cli_free(&c);
	free(buf);
	fflush(stdout);
	if (!dir_empty() || free_fd() != lowest_fd || fchdir(home_fd))
		abort();
	return 0;
}
