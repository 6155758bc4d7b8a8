/* ember-jail: the pure logic (jail/jail.h); the jail itself is tested in e2e. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "jail/jail.h"

static int setup(void **state)
{
	log_set_quiet(1);
	return 0;
}

#define ARGV(...) ((char *[]){ "ember-jail", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "ember-jail", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, ...) jail_parse_args((o), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))
#define BASIC "--id", "vm1", "--exec-file", "/usr/bin/ember", "--uid", "1234", "--gid", "1234"

/* Expect a parse error whose message contains WANT. */
static void parse_fails(int argc, char **argv, const char *want)
{
	struct jail_opts o;

	assert_int_equal(jail_parse_args(&o, argc, argv), -EINVAL);
	if (!strstr(log_last(), want))
		fail_msg("message '%s' lacks '%s'", log_last(), want);
	assert_null(o.files);
}
#define PARSE_FAILS(want, ...) parse_fails(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), want)

static void t_parse_full(void **state)
{
	struct jail_opts o;

	assert_int_equal(PARSE(&o, BASIC, "--chroot-base-dir", "/tmp/j", "--new-netns",
			       "--cgroup", "/sys/fs/cgroup/ember/vm1", "--cpu-max", "50000 100000",
			       "--memory-max=512M", "--pids-max", "64",
			       "--file", "/boot/vmlinuz", "--file", "/tmp/initrd.img:/boot/initrd",
			       "--rw-file", "/var/disk.img:disk.img",
			       "--keep-fd", "9", "--keep-fd", "5", "--keep-fd", "9", "--keep-fd", "1",
			       "--env", "EMBER_DEBUG=1", "--lib", "libslirp.so.0", "--keep", "-v",
			       "--vfio", "7", "--vfio=12",
			       "--", "-kernel", "/vmlinuz", "-m", "256"), 0);
	assert_string_equal(o.id, "vm1");
	assert_string_equal(o.exec_file, "/usr/bin/ember");
	assert_string_equal(o.uid_str, "1234");
	assert_string_equal(o.gid_str, "1234");
	assert_string_equal(o.base_dir, "/tmp/j");
	assert_true(o.new_netns);
	assert_null(o.netns);
	assert_string_equal(o.cgroup, "/sys/fs/cgroup/ember/vm1");
	assert_string_equal(o.cpu_max, "50000 100000");
	assert_string_equal(o.memory_max, "536870912");
	assert_string_equal(o.pids_max, "64");
	assert_int_equal(o.nfiles, 3);
	assert_string_equal(o.files[0].host, "/boot/vmlinuz");
	assert_string_equal(o.files[0].jail, "/vmlinuz");
	assert_false(o.files[0].rw);
	assert_string_equal(o.files[1].host, "/tmp/initrd.img");
	assert_string_equal(o.files[1].jail, "/boot/initrd");
	assert_string_equal(o.files[2].jail, "/disk.img");
	assert_true(o.files[2].rw);
	/* sorted, unique, 0-2 dropped (always kept) */
	assert_int_equal(o.nkeep, 2);
	assert_int_equal(o.keep_fds[0], 5);
	assert_int_equal(o.keep_fds[1], 9);
	assert_int_equal(o.nenv, 1);
	assert_string_equal(o.env[0], "EMBER_DEBUG=1");
	assert_int_equal(o.nlibs, 1);
	assert_string_equal(o.libs[0], "libslirp.so.0");
	assert_null(o.env[1]);
	assert_int_equal(o.nvfio, 2);
	assert_string_equal(o.vfio[0], "7");
	assert_string_equal(o.vfio[1], "12");
	assert_true(o.keep);
	assert_true(o.verbose);
	assert_int_equal(o.nargs, 4);
	assert_string_equal(o.args[0], "-kernel");
	assert_string_equal(o.args[3], "256");
	jail_opts_free(&o);
}

static void t_parse_defaults(void **state)
{
	struct jail_opts o;

	assert_int_equal(PARSE(&o, BASIC), 0);
	assert_string_equal(o.base_dir, JAIL_DEFAULT_BASE);
	assert_null(o.cgroup);
	assert_string_equal(o.memory_max, "");
	assert_int_equal(o.nargs, 0);
	assert_int_equal(o.nfiles, 0);
	assert_false(o.keep);
	jail_opts_free(&o);
	/* the program's arguments may look like our options */
	assert_int_equal(PARSE(&o, BASIC, "--", "--id", "x"), 0);
	assert_int_equal(o.nargs, 2);
	assert_string_equal(o.args[0], "--id");
	jail_opts_free(&o);
	assert_int_equal(PARSE(&o, "--help"), 0);
	assert_true(o.help);
	jail_opts_free(&o);
}

static void t_parse_errors(void **state)
{
	PARSE_FAILS("--id is required", "--exec-file", "/e", "--uid", "1", "--gid", "1");
	PARSE_FAILS("--exec-file is required", "--id", "a", "--uid", "1", "--gid", "1");
	PARSE_FAILS("--uid and --gid are required", "--id", "a", "--exec-file", "/e", "--uid", "1");
	PARSE_FAILS("unknown option '--frob'", BASIC, "--frob", "1");
	PARSE_FAILS("unknown option '--frob'", BASIC, "--frob=1");
	PARSE_FAILS("--cgroup needs a value", BASIC, "--cgroup");
	PARSE_FAILS("unexpected argument 'stray'", BASIC, "stray");
	PARSE_FAILS("--id given twice", BASIC, "--id", "b");
	PARSE_FAILS("--id 'a/b': only letters", "--id", "a/b");
	PARSE_FAILS("--memory-max needs --cgroup", BASIC, "--memory-max", "1G");
	PARSE_FAILS("--pids-max needs --cgroup", BASIC, "--pids-max", "10");
	PARSE_FAILS("--netns and --new-netns exclude each other", BASIC, "--netns",
		    "/var/run/netns/x", "--new-netns");
	PARSE_FAILS("--cgroup sys/fs/cgroup/x: must be an absolute path", BASIC, "--cgroup",
		    "sys/fs/cgroup/x");
	PARSE_FAILS("--keep-fd 'x': not a descriptor number", BASIC, "--keep-fd", "x");
	PARSE_FAILS("--keep-fd '-3': not a descriptor number", BASIC, "--keep-fd", "-3");
	PARSE_FAILS("--env 'NOVALUE': expected NAME=VALUE", BASIC, "--env", "NOVALUE");
	PARSE_FAILS("--lib '/usr/lib/libslirp.so.0': expected a library's file name, e.g. "
		    "libslirp.so.0", BASIC, "--lib", "/usr/lib/libslirp.so.0");
	PARSE_FAILS("--vfio '../7': expected an IOMMU group number", BASIC, "--vfio", "../7");
	PARSE_FAILS("--vfio '': expected an IOMMU group number", BASIC, "--vfio=");
	PARSE_FAILS("--vfio '7x': expected an IOMMU group number", BASIC, "--vfio", "7x");
	PARSE_FAILS("--file /a:../etc: '..' is not allowed", BASIC, "--file", "/a:../etc");
	PARSE_FAILS("--file :/x: no host path", BASIC, "--file", ":/x");
	PARSE_FAILS("--rw-file /a:/: the jail path must name something", BASIC, "--rw-file", "/a:/");
	PARSE_FAILS("--cpu-max 'fast'", BASIC, "--cgroup", "/c", "--cpu-max", "fast");
	PARSE_FAILS("--cpu-max given twice", BASIC, "--cgroup", "/c", "--cpu-max", "max", "--cpu-max=max");
	PARSE_FAILS("--uid given twice", BASIC, "--uid=7");
	PARSE_FAILS("unknown option '--keep'", BASIC, "--keep=1");
	PARSE_FAILS("unexpected argument '-x'", BASIC, "-x");
}

static const char usage_want[] =
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
"  --lib NAME               also copy a library the program dlopen()s (libslirp.so.0)\n"
"  --vfio GROUP             /dev/vfio/{vfio,GROUP} and the group's sysfs (-device vfio-pci)\n"
"  --keep                   leave the jail directory behind at the end\n"
"  -v, --verbose            say what is being set up\n"
"\n"
"Exit status: the program's (128+N when killed by signal N); 1 when the jail\n"
"could not be set up. See docs/jail.md.\n";

/* The usage text, made from the table of options, is the one documented. */
static void t_usage(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	jail_usage(f);
	fclose(f);
	assert_string_equal(buf, usage_want);
	free(buf);
}

static void t_id(void **state)
{
	char longid[JAIL_ID_MAX + 2];

	assert_int_equal(jail_check_id("vm-1_A"), 0);
	assert_int_equal(jail_check_id(""), -EINVAL);
	assert_int_equal(jail_check_id("a b"), -EINVAL);
	assert_int_equal(jail_check_id("../x"), -EINVAL);
	assert_int_equal(jail_check_id("a.b"), -EINVAL);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[JAIL_ID_MAX] = 0;
	assert_int_equal(jail_check_id(longid), 0);
	longid[JAIL_ID_MAX] = 'a';
	longid[JAIL_ID_MAX + 1] = 0;
	assert_int_equal(jail_check_id(longid), -EINVAL);
	assert_string_equal(log_last(), "--id '" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			    "': must be 1 to 64 characters");
}

static void t_uid_gid(void **state)
{
	uid_t u = 7;
	gid_t g = 7;

	assert_int_equal(jail_resolve_uid("1234", &u), 0);
	assert_int_equal(u, 1234);
	assert_int_equal(jail_resolve_gid("4294967294", &g), 0);
	assert_int_equal(g, 4294967294u);
	assert_int_equal(jail_resolve_uid("4294967295", &u), -ERANGE);
	assert_string_equal(log_last(), "--uid 4294967295: out of range");
	assert_int_equal(jail_resolve_uid("0", &u), -EINVAL);
	assert_string_equal(log_last(), "--uid 0: the jail must not run as root (uid 0)");
	assert_int_equal(jail_resolve_gid("0", &g), -EINVAL);
	/* "root" is a name that resolves, to 0: refused as well */
	assert_int_equal(jail_resolve_uid("root", &u), -EINVAL);
	assert_string_equal(log_last(), "--uid root: the jail must not run as root (uid 0)");
	assert_int_equal(jail_resolve_uid("no-such-user-ember", &u), -ENOENT);
	assert_string_equal(log_last(), "--uid no-such-user-ember: no such user");
	assert_int_equal(jail_resolve_gid("no-such-group-ember", &g), -ENOENT);
	assert_string_equal(log_last(), "--gid no-such-group-ember: no such group");
	assert_int_equal(jail_resolve_uid("12a", &u), -ENOENT);
	assert_string_equal(log_last(), "--uid 12a: no such user");
}

static void t_norm_path(void **state)
{
	char out[64];

	assert_int_equal(jail_norm_path(out, sizeof(out), "/a/b", "t"), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(jail_norm_path(out, sizeof(out), "a//b/./c/", "t"), 0);
	assert_string_equal(out, "/a/b/c");
	assert_int_equal(jail_norm_path(out, sizeof(out), "./x", "t"), 0);
	assert_string_equal(out, "/x");
	assert_int_equal(jail_norm_path(out, sizeof(out), "..x/y..", "t"), 0);
	assert_string_equal(out, "/..x/y..");
	assert_int_equal(jail_norm_path(out, sizeof(out), "/a/../b", "t"), -EINVAL);
	assert_string_equal(log_last(), "t: '..' is not allowed in a jail path");
	assert_int_equal(jail_norm_path(out, sizeof(out), "//./", "t"), -EINVAL);
	assert_int_equal(jail_norm_path(out, sizeof(out), "", "t"), -EINVAL);
	assert_int_equal(jail_norm_path(out, 8, "/abcdefgh", "t"), -ENAMETOOLONG);
	assert_string_equal(log_last(), "t: jail path too long");
	assert_int_equal(jail_norm_path(out, 8, "/abcdef", "t"), 0);
}

static void t_file_spec(void **state)
{
	struct jail_file f;

	assert_int_equal(jail_parse_file_spec(&f, "/lab/kernel/vmlinuz", "--file"), 0);
	assert_string_equal(f.host, "/lab/kernel/vmlinuz");
	assert_string_equal(f.jail, "/vmlinuz");
	assert_int_equal(jail_parse_file_spec(&f, "rel/dir/", "--file"), 0);
	assert_string_equal(f.host, "rel/dir");
	assert_string_equal(f.jail, "/dir");
	assert_int_equal(jail_parse_file_spec(&f, "/x/initrd.cpio:/boot/initrd", "--file"), 0);
	assert_string_equal(f.host, "/x/initrd.cpio");
	assert_string_equal(f.jail, "/boot/initrd");
	assert_int_equal(jail_parse_file_spec(&f, "/", "--file"), -EINVAL);
	assert_string_equal(log_last(), "--file /: the jail path must name something below '/'");
	assert_int_equal(jail_parse_file_spec(&f, "/a:", "--file"), -EINVAL);
}

static void t_dir_paths(void **state)
{
	char out[64];

	assert_int_equal(jail_root_path(out, sizeof(out), "/srv/jailer", "vm1"), 0);
	assert_string_equal(out, "/srv/jailer/ember/vm1/root");
	assert_int_equal(jail_root_path(out, sizeof(out), "/srv/jailer//", "vm1"), 0);
	assert_string_equal(out, "/srv/jailer/ember/vm1/root");
	assert_int_equal(jail_dir_path(out, sizeof(out), "/", "x"), 0);
	assert_string_equal(out, "/ember/x");
	assert_int_equal(jail_root_path(out, 20, "/srv/jailer", "vm1"), -ENAMETOOLONG);
	assert_int_equal(jail_root_path(out, 24, "/srv/jailer", "vm1"), -ENAMETOOLONG);
	assert_string_equal(log_last(), "--chroot-base-dir /srv/jailer: path too long");
}

static void t_duplicates(void **state)
{
	const char *a[] = { "/ember", "/lib/libc.so.6", "/dev/kvm", "/vmlinuz" };
	const char *b[] = { "/ember", "/dev/kvm", "/vmlinuz", "/dev/kvm" };

	assert_null(jail_find_duplicate(a, 4));
	assert_string_equal(jail_find_duplicate(b, 4), "/dev/kvm");
	assert_null(jail_find_duplicate(b, 0));
}

static void t_cgroup_values(void **state)
{
	char out[64];

	assert_int_equal(jail_parse_cpu_max("50000 100000", out, sizeof(out)), 0);
	assert_string_equal(out, "50000 100000");
	assert_int_equal(jail_parse_cpu_max("20000", out, sizeof(out)), 0);
	assert_string_equal(out, "20000 100000");
	assert_int_equal(jail_parse_cpu_max("max", out, sizeof(out)), 0);
	assert_string_equal(out, "max 100000");
	assert_int_equal(jail_parse_cpu_max("max 50000", out, sizeof(out)), 0);
	assert_string_equal(out, "max 50000");
	assert_int_equal(jail_parse_cpu_max("500 100000", out, sizeof(out)), -EINVAL);
	assert_string_equal(log_last(), "--cpu-max '500 100000': the quota must be at least 1000 microseconds");
	assert_int_equal(jail_parse_cpu_max("5000 100", out, sizeof(out)), -EINVAL);
	assert_int_equal(jail_parse_cpu_max("5000 2000000", out, sizeof(out)), -EINVAL);
	assert_int_equal(jail_parse_cpu_max("5000  100000", out, sizeof(out)), -EINVAL);
	assert_int_equal(jail_parse_cpu_max("5000/100000", out, sizeof(out)), -EINVAL);
	assert_int_equal(jail_parse_cpu_max("maxi", out, sizeof(out)), -EINVAL);
	assert_int_equal(jail_parse_cpu_max("", out, sizeof(out)), -EINVAL);

	assert_int_equal(jail_parse_memory_max("512M", out, sizeof(out)), 0);
	assert_string_equal(out, "536870912");
	assert_int_equal(jail_parse_memory_max("2g", out, sizeof(out)), 0);
	assert_string_equal(out, "2147483648");
	assert_int_equal(jail_parse_memory_max("1048576", out, sizeof(out)), 0);
	assert_string_equal(out, "1048576");
	assert_int_equal(jail_parse_memory_max("max", out, sizeof(out)), 0);
	assert_string_equal(out, "max");
	assert_int_equal(jail_parse_memory_max("1T", out, sizeof(out)), 0);
	assert_string_equal(out, "1099511627776");
	assert_int_equal(jail_parse_memory_max("100K", out, sizeof(out)), -EINVAL);
	assert_string_equal(log_last(), "--memory-max '100K': a VM needs more than 1 MiB");
	assert_int_equal(jail_parse_memory_max("99999999999T", out, sizeof(out)), -ERANGE);
	assert_string_equal(log_last(), "--memory-max '99999999999T': too large");
	assert_int_equal(jail_parse_memory_max("99999999999999999999999", out, sizeof(out)), -EINVAL);
	assert_int_equal(jail_parse_memory_max("1MB", out, sizeof(out)), -EINVAL);
	assert_int_equal(jail_parse_memory_max("-1", out, sizeof(out)), -EINVAL);
	assert_int_equal(jail_parse_memory_max("", out, sizeof(out)), -EINVAL);

	assert_int_equal(jail_parse_pids_max("64", out, sizeof(out)), 0);
	assert_string_equal(out, "64");
	assert_int_equal(jail_parse_pids_max("max", out, sizeof(out)), 0);
	assert_int_equal(jail_parse_pids_max("0", out, sizeof(out)), -EINVAL);
	assert_string_equal(log_last(), "--pids-max '0': expected 'max' or a number from 1 to 2147483647");
	assert_int_equal(jail_parse_pids_max("3000000000", out, sizeof(out)), -EINVAL);
	assert_int_equal(jail_parse_pids_max("12x", out, sizeof(out)), -EINVAL);
}

static void t_close_ranges(void **state)
{
	struct jail_fd_range r[8];
	int keep[] = { 3, 5, 6, 10 };

	assert_int_equal(jail_close_ranges(NULL, 0, r, 8), 1);
	assert_int_equal(r[0].lo, 3);
	assert_int_equal(r[0].hi, ~0U);

	assert_int_equal(jail_close_ranges(keep, 4, r, 8), 3);
	assert_int_equal(r[0].lo, 4);
	assert_int_equal(r[0].hi, 4);
	assert_int_equal(r[1].lo, 7);
	assert_int_equal(r[1].hi, 9);
	assert_int_equal(r[2].lo, 11);
	assert_int_equal(r[2].hi, ~0U);

	assert_int_equal(jail_close_ranges(keep + 3, 1, r, 8), 2);
	assert_int_equal(r[0].lo, 3);
	assert_int_equal(r[0].hi, 9);
	assert_int_equal(r[1].lo, 11);

	/* no room */
	assert_int_equal(jail_close_ranges(keep, 4, r, 2), -ENOSPC);
}

/* A minimal ELF64 image: PT_INTERP, PT_LOAD covering a string table, PT_DYNAMIC. */
struct mini_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	char interp[32];
	char strtab[64];
	Elf64_Dyn dyn[6];
};

static void make_elf(struct mini_elf *m)
{
	size_t off_interp = offsetof(struct mini_elf, interp);
	size_t off_str = offsetof(struct mini_elf, strtab);
	size_t off_dyn = offsetof(struct mini_elf, dyn);
	const uint64_t vbase = 0x400000;

	memset(m, 0, sizeof(*m));
	memcpy(m->eh.e_ident, ELFMAG, SELFMAG);
	m->eh.e_ident[EI_CLASS] = ELFCLASS64;
	m->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m->eh.e_ident[EI_VERSION] = EV_CURRENT;
	m->eh.e_type = ET_DYN;
	m->eh.e_machine = EM_X86_64;
	m->eh.e_phoff = offsetof(struct mini_elf, ph);
	m->eh.e_phentsize = sizeof(Elf64_Phdr);
	m->eh.e_phnum = 3;
	strcpy(m->interp, "/lib64/ld-linux-x86-64.so.2");
	m->ph[0] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_offset = off_interp,
				 .p_filesz = strlen(m->interp) + 1 };
	m->ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0, .p_vaddr = vbase,
				 .p_filesz = sizeof(*m), .p_memsz = sizeof(*m) };
	m->ph[2] = (Elf64_Phdr){ .p_type = PT_DYNAMIC, .p_offset = off_dyn,
				 .p_filesz = sizeof(m->dyn) };
	/* "\0liburing.so.2\0libc.so.6\0" */
	memcpy(m->strtab, "\0liburing.so.2\0libc.so.6\0", 26);
	m->dyn[0] = (Elf64_Dyn){ .d_tag = DT_NEEDED, .d_un.d_val = 1 };
	m->dyn[1] = (Elf64_Dyn){ .d_tag = DT_NEEDED, .d_un.d_val = 15 };
	m->dyn[2] = (Elf64_Dyn){ .d_tag = DT_STRTAB, .d_un.d_ptr = vbase + off_str };
	m->dyn[3] = (Elf64_Dyn){ .d_tag = DT_STRSZ, .d_un.d_val = sizeof(m->strtab) };
	m->dyn[4] = (Elf64_Dyn){ .d_tag = DT_NULL };
}

static void t_elf_synthetic(void **state)
{
	struct mini_elf m;
	char interp[64], needed[4][JAIL_NAME_MAX];

	make_elf(&m);
	assert_int_equal(jail_elf_deps(&m, sizeof(m), interp, sizeof(interp), needed, 4), 2);
	assert_string_equal(interp, "/lib64/ld-linux-x86-64.so.2");
	assert_string_equal(needed[0], "liburing.so.2");
	assert_string_equal(needed[1], "libc.so.6");
	/* too many for the room given */
	assert_int_equal(jail_elf_deps(&m, sizeof(m), interp, sizeof(interp), needed, 1), -E2BIG);
	assert_string_equal(log_last(), "more than 1 DT_NEEDED libraries");

	/* truncated anywhere: an error or fewer results, never a read past the end */
	for (size_t len = 0; len < sizeof(m); len++) {
		void *copy = malloc(len ? len : 1);

		memcpy(copy, &m, len);
		assert_true(jail_elf_deps(copy, len, interp, sizeof(interp), needed, 4) <= 2);
		free(copy);
	}

	/* a needed name with a '/' */
	make_elf(&m);
	memcpy(m.strtab, "\0../evil.so\0libc.so.6\0", 22);
	assert_int_equal(jail_elf_deps(&m, sizeof(m), interp, sizeof(interp), needed, 4), -ENOEXEC);
	assert_string_equal(log_last(), "unsupported ELF DT_NEEDED entry '../evil.so'");

	/* a name offset outside the table */
	make_elf(&m);
	m.dyn[1].d_un.d_val = 1000;
	assert_int_equal(jail_elf_deps(&m, sizeof(m), interp, sizeof(interp), needed, 4), -ENOEXEC);
	assert_string_equal(log_last(), "bad ELF DT_NEEDED entry");

	/* unterminated interpreter */
	make_elf(&m);
	m.ph[0].p_filesz = strlen(m.interp);
	assert_int_equal(jail_elf_deps(&m, sizeof(m), interp, sizeof(interp), needed, 4), -ENOEXEC);
	assert_string_equal(log_last(), "bad ELF interpreter (PT_INTERP)");

	/* static: no PT_INTERP, no PT_DYNAMIC */
	make_elf(&m);
	m.eh.e_phnum = 1;
	m.ph[0] = m.ph[1];
	assert_int_equal(jail_elf_deps(&m, sizeof(m), interp, sizeof(interp), needed, 4), 0);
	assert_string_equal(interp, "");

	/* not x86-64, not ELF */
	make_elf(&m);
	m.eh.e_machine = EM_AARCH64;
	assert_int_equal(jail_elf_deps(&m, sizeof(m), interp, sizeof(interp), needed, 4), -ENOEXEC);
	assert_string_equal(log_last(), "not an x86-64 ELF file");
	assert_int_equal(jail_elf_deps("#!/bin/sh\n", 10, interp, sizeof(interp), needed, 4), -ENOEXEC);
	assert_string_equal(log_last(), "not an ELF file");
}

/* This very test program is a dynamic x86-64 executable that needs libc. */
static void t_elf_self(void **state)
{
	char interp[JAIL_PATH_MAX], needed[32][JAIL_NAME_MAX];
	struct stat st;
	void *img;
	int fd = open("/proc/self/exe", O_RDONLY), n;
	bool libc = false;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(img != MAP_FAILED);
	close(fd);
	n = jail_elf_deps(img, (size_t)st.st_size, interp, sizeof(interp), needed, 32);
	munmap(img, (size_t)st.st_size);
	assert_true(n >= 1);
	assert_true(interp[0] == '/');
	assert_non_null(strstr(interp, "ld-linux"));
	for (int i = 0; i < n; i++)
		if (!strcmp(needed[i], "libc.so.6"))
			libc = true;
	assert_true(libc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_parse_full),
		cmocka_unit_test(t_parse_defaults),
		cmocka_unit_test(t_parse_errors),
		cmocka_unit_test(t_usage),
		cmocka_unit_test(t_id),
		cmocka_unit_test(t_uid_gid),
		cmocka_unit_test(t_norm_path),
		cmocka_unit_test(t_file_spec),
		cmocka_unit_test(t_dir_paths),
		cmocka_unit_test(t_duplicates),
		cmocka_unit_test(t_cgroup_values),
		cmocka_unit_test(t_close_ranges),
		cmocka_unit_test(t_elf_synthetic),
		cmocka_unit_test(t_elf_self),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
