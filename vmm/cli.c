/*
 * ember's command line and run (ember_main): QEMU-style options, then the
 * back ends, the machine and its devices in that order, machine_run, and
 * the teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "arch/arch.h"
#include "backends/chardev.h"
#include "backends/memory.h"
#include "backends/object.h"
#include "devices/device.h"
#include "devices/rtc.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "kvm/vcpu.h"
#include "seccomp/seccomp.h"	/* sandbox */
#include "vmm/cli.h"
#include "vmm/cli_compat.h"
#include "vmm/cli_opts.h"
#include "vmm/hmp_mon.h"
#include "vmm/machine.h"
#include "vmm/snapshot.h"
#include "vmm/qmp.h"

#define DEFAULT_RAM	(256ULL << 20)

/* sandbox: -sandbox on|off (QEMU's spelling, with its deny keys). */
static int parse_sandbox(const char *s)
{
	int on = 0, ret = cli_parse_sandbox(s, &on);

	if (ret)
		return ret;
	sandbox_set_enabled(on);
	if (!on)
		warn_msg("-sandbox off: no seccomp filters and all capabilities kept; "
			 "a guest that takes over ember gets everything ember may do");
	return 0;
}

/* -M: the type now; memory-backend= once the -object back ends exist (ram_id). */
static int parse_machine(struct cli *c, struct machine_config *mc, struct cli_machine *cm)
{
	int ret = cli_parse_machine(c, c->machine, cm);

	if (ret)
		return ret;
	if (cm->help) {
		machine_types_help(stdout);
		return 1;
	}
	if (cm->type) {
		mc->type = machine_type_find(cm->type);
		if (!mc->type) {
			err_msg("-M %s: unknown machine type (try -M help)", cm->type);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * -serial mon:DEV: as QEMU, DEV (stdio, pty, null, unix:PATH) made a
 * mux=on chardev named serialN, with the human monitor on it before the
 * serial port, which then has the input (Ctrl-a c switches).
 */
static int serial_mon(struct cli *c, unsigned idx, const char *s, struct loop *loop,
		      struct machine *m, struct chardev **out)
{
	const char *opts, *ref;
	char id[16], owner[128], *buf;
	int ret;

	snprintf(id, sizeof(id), "serial%u", idx);
	snprintf(owner, sizeof(owner), "-serial %s", c->serial[idx]);
	ret = cli_monitor_chardev(c, "-serial", s + 4, id, &opts, &ref);
	if (!ret && !opts) {
		err_msg("%s: expected mon:stdio, mon:pty, mon:null or mon:unix:PATH", owner);
		ret = -EINVAL;
	}
	if (ret || !loop)
		return ret;
	if (asprintf(&buf, "%s,mux=on", opts) < 0 || !(opts = cli_own(c, buf)))
		return -ENOMEM;
	if ((ret = object_create(OBJ_CHARDEV, opts, loop)))
		return ret;
	*out = chardev_find(id);
	return hmp_mon_attach(*out, owner, m);
}

/* -serial's forms; with no @loop only checked (before anything is set up). */
static int parse_serial(struct cli *c, unsigned idx, struct loop *loop, struct machine *m,
			struct serial_cfg *sc)
{
	const char *s = c->serial[idx], *opts;
	struct chardev *chr = NULL;
	char id[16];
	int ret;

	sc->kind = SERIAL_CHARDEV;
	if (!strcmp(s, "none")) {
		sc->kind = SERIAL_NONE;
		return 0;
	}
	if (c->daemonize && !strcmp(s, "mon:stdio")) {
		err_msg("-serial %s: not with -daemonize, which closes stdio", s);
		return -EINVAL;
	}
	if (!strncmp(s, "mon:", 4)) {
		ret = serial_mon(c, idx, s, loop, m, &chr);
		sc->chr = chr;
		return ret;
	}
	if (c->daemonize && !strcmp(s, "stdio")) {
		err_msg("-serial %s: not with -daemonize, which closes stdio", c->serial[idx]);
		return -EINVAL;
	}
	if (!strncmp(s, "unix:", 5)) {
		snprintf(id, sizeof(id), "serial%u", idx);
		ret = cli_unix_chardev(c, "-serial", s, id, &opts);
		if (ret || !loop)
			return ret;
		ret = object_create(OBJ_CHARDEV, opts, loop);
		if (ret)
			return ret;
		chr = chardev_find(id);
	} else if (!strncmp(s, "chardev:", 8)) {
		if (!loop)
			return 0;
		chr = chardev_find(s + 8);
		if (!chr) {
			err_msg("-serial %s: no -chardev with id '%s'", s, s + 8);
			return -EINVAL;
		}
	} else if (!strncmp(s, "file:", 5)) {
		if (!loop)
			return 0;
		ret = chardev_create_simple("file", s + 5, loop, &chr);
		if (ret)
			return ret;
	} else if (!strcmp(s, "stdio") || !strcmp(s, "null") || !strcmp(s, "pty")) {
		if (!loop)
			return 0;
		ret = chardev_create_simple(s, NULL, loop, &chr);
		if (ret)
			return ret;
	} else {
		err_msg("-serial %s: expected stdio, mon:stdio, none, null, pty, file:PATH, "
			"unix:PATH[,server,nowait], chardev:ID or mon:DEV", s);
		return -EINVAL;
	}
	sc->chr = chr;
	return 0;
}

/*
 * -monitor DEV: QEMU's human monitor on a chardev made from DEV's short
 * form, named compat_monitorN as QEMU names it; "none": no monitor. With
 * no @loop only checked, before anything is set up.
 */
static int monitor_create(struct cli *c, unsigned idx, struct loop *loop, struct machine *m)
{
	const char *s = c->monitor[idx], *opts, *ref;
	char id[32], owner[128];
	struct chardev *chr;
	int ret;

	if (!strcmp(s, "none"))
		return 0;
	snprintf(id, sizeof(id), "compat_monitor%u", idx);
	snprintf(owner, sizeof(owner), "-monitor %s", s);
	ret = cli_monitor_chardev(c, "-monitor", s, id, &opts, &ref);
	if (!ret && !strcmp(s, "stdio")) {
		for (unsigned i = 0; i < c->nr_serial; i++)
			if (!strcmp(c->serial[i], "stdio") || !strcmp(c->serial[i], "mon:stdio")) {
				err_msg("%s: stdio is taken by -serial %s", owner, c->serial[i]);
				return -EINVAL;
			}
		if (c->daemonize) {
			err_msg("%s: not with -daemonize, which closes stdio", owner);
			return -EINVAL;
		}
	}
	if (ret || !loop)
		return ret;
	if (opts && (ret = object_create(OBJ_CHARDEV, opts, loop)))
		return ret;
	chr = chardev_find(opts ? id : ref);
	if (!chr) {
		err_msg("%s: no -chardev with id '%s'", owner, ref);
		return -ENOENT;
	}
	return hmp_mon_attach(chr, owner, m);
}

/* Does a -monitor take stdio (then there is no default COM1 there)? */
static bool monitor_stdio(const struct cli *c)
{
	for (unsigned i = 0; i < c->nr_monitor; i++)
		if (!strcmp(c->monitor[i], "stdio"))
			return true;
	return false;
}

/* A -chardev stdio (for a virtconsole, say) takes the default COM1's place. */
static const char *stdio_chardev(const struct cli *c)
{
	for (unsigned i = 0; i < c->nr_chardev; i++) {
		struct keyval kv;
		const char *type;
		bool stdio;

		if (keyval_parse(c->chardev[i], "backend", "-chardev", &kv))
			continue;
		type = kv.implied ? kv.implied : keyval_get(&kv, "backend");
		stdio = type && !strcmp(type, "stdio");
		keyval_free(&kv);
		if (stdio)
			return c->chardev[i];
	}
	return NULL;
}

/* -echr KEY: QEMU's number (0x14, 20); 0..255. */
static int parse_echr(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < 0 || v > 255) {
		err_msg("-echr %s: expected the escape key's code, 0 to 255 (1 is Ctrl-a, 0x14 "
			"Ctrl-t)", s);
		return -EINVAL;
	}
	chardev_mux_set_escape((int)v);
	return 0;
}

/*
 * Everything the options say that can be checked before anything is set
 * up: the machine, RAM, vCPUs, CPU template, kernel, serial ports, -drive
 * and -nic (which become -blockdev, -netdev and -device options here).
 */
static int check_config(struct cli *c, struct machine_config *mc, struct cli_machine *cm)
{
	const char *stdio = stdio_chardev(c);
	int ret = 0;

	mc->type = machine_type_find("microvm");
	mc->ram_size = DEFAULT_RAM;
	mc->ncpus = 1;
	memset(cm, 0, sizeof(*cm));
	if (c->machine && (ret = parse_machine(c, mc, cm)))
		return ret;
	if (c->mem && (ret = cli_parse_mem(c->mem, &mc->ram_size)))
		return ret;
	if (c->smp && (ret = cli_parse_smp(c->smp, &mc->ncpus)))
		return ret;
	if (c->cpu && !arch_cpu_known(c->cpu)) {
		err_msg("-cpu %s: unknown CPU template (try -cpu help)", c->cpu);
		return -EINVAL;
	}
	if (c->daemonize && stdio) {
		err_msg("-chardev %s: not with -daemonize, which closes stdio", stdio);
		return -EINVAL;
	}
	mc->kernel = c->kernel;
	mc->initrd = c->initrd;
	mc->append = c->append ? c->append : DEFAULT_APPEND;
	mc->cpu_template = c->cpu;
	mc->start_paused = c->start_paused;
	mc->incoming = c->incoming;
	mc->snapshots = c->incoming || c->nr_qmp || c->nr_mon || c->nr_monitor;
	mc->no_shutdown = c->no_shutdown;
	mc->no_reboot = c->no_reboot;
	mc->name = c->name;
	mc->uuid = c->uuid;
	if (rtc_set_base(c->rtc_base)) {
		err_msg("-rtc base=%s: expected utc, localtime or a date like 2006-06-17T16:01:21",
			c->rtc_base);
		return -EINVAL;
	}
	if (cm->no_com1 && c->nr_serial) {
		err_msg("-serial %s: -M isa-serial=off has no serial ports", c->serial[0]);
		return -EINVAL;
	}
	/*
	 * QEMU's default serial port, which -nodefaults and -daemonize drop;
	 * with -nographic and no monitor given, QEMU's mon:stdio
	 */
	if (!c->nr_serial)
		c->serial[c->nr_serial++] = stdio || monitor_stdio(c) || c->nodefaults ||
					    c->daemonize || cm->no_com1 ? "none" :
					    c->nographic && !c->nr_monitor && !c->nr_mon &&
					    !c->nr_qmp ? "mon:stdio" : "stdio";
	for (unsigned i = 0; i < c->nr_serial; i++)
		if ((ret = parse_serial(c, i, NULL, NULL, &mc->serial[i])))
			return ret;
	if (c->echr && (ret = parse_echr(c->echr)))
		return ret;
	for (unsigned i = 0; i < c->nr_monitor; i++)
		if ((ret = monitor_create(c, i, NULL, NULL)))
			return ret;
	mc->nr_serial = c->nr_serial;
	return cli_expand(c, mc->type->has_pci);
}

/* What needs the back ends: -M memory-backend=, and the serial ports' chardevs. */
static int finish_config(struct cli *c, const struct cli_machine *cm, struct loop *loop,
			 struct machine *m, struct machine_config *mc)
{
	int ret;

	if (cm->ram_id) {
		mc->ram = mem_backend_find(cm->ram_id);
		if (!mc->ram) {
			err_msg("-M memory-backend=%s: no -object with that id", cm->ram_id);
			return -EINVAL;
		}
		if (c->mem && mc->ram_size != mc->ram->size) {
			err_msg("-m %s does not match the size of memory-backend '%s'",
				c->mem, mc->ram->obj.id);
			return -EINVAL;
		}
		mc->ram_size = mc->ram->size;
		if (mc->ram_size < MIN_RAM) {
			err_msg("memory-backend '%s': guest RAM must be at least %llu MiB",
				mc->ram->obj.id, MIN_RAM >> 20);
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < c->nr_serial; i++)
		if ((ret = parse_serial(c, i, loop, m, &mc->serial[i])))
			return ret;
	return 0;
}

/*
 * -daemonize: the parent waits until the child is set up (or has failed,
 * its errors on the terminal) and exits with that. 1 in the parent, with
 * *@status; 0 in the child.
 */
static int daemon_pipe = -1;

static int daemonize(int *status)
{
	int p[2], ws;
	ssize_t n;
	pid_t pid;
	char ok;

	if (pipe2(p, O_CLOEXEC)) {
		err_msg("-daemonize: pipe: %s", strerror(errno));
		*status = EXIT_USAGE;
		return 1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		err_msg("-daemonize: fork: %s", strerror(errno));
		*status = EXIT_USAGE;
		return 1;
	}
	if (pid) {
		close(p[1]);
		do
			n = read(p[0], &ok, 1);
		while (n < 0 && errno == EINTR);
		close(p[0]);
		*status = EXIT_OK;
		if (n != 1)	/* the child ended before it was set up */
			*status = waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) ?
				  WEXITSTATUS(ws) : EXIT_USAGE;
		return 1;
	}
	close(p[0]);
	setsid();
	daemon_pipe = p[1];
	return 0;
}

/* The child is set up: stdio goes to /dev/null and the parent exits. */
static void daemon_ready(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (daemon_pipe < 0)
		return;
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	if (write(daemon_pipe, "", 1) != 1)
		warn_msg("-daemonize: the parent is gone");
	close(daemon_pipe);
	daemon_pipe = -1;
}

/* -pidfile: written and locked (as QEMU locks it) before the parent exits, removed at exit. */
static int pidfile_fd = -1;
static const char *pidfile_path;

static int pidfile_write(const char *path)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char buf[24];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_msg("-pidfile %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (fcntl(fd, F_SETLK, &fl)) {
		err_msg("-pidfile %s: %s", path, errno == EAGAIN || errno == EACCES ?
			"locked by another process (is another VM using it?)" : strerror(errno));
		close(fd);
		return -EINVAL;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || write(fd, buf, n) != n) {
		err_msg("-pidfile %s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -EINVAL;
	}
	pidfile_fd = fd;
	pidfile_path = path;
	return 0;
}

static void pidfile_remove(void)
{
	if (pidfile_fd < 0)
		return;
	unlink(pidfile_path);
	close(pidfile_fd);
	pidfile_fd = -1;
}

/*
 * -overcommit mem-lock=on: all of ember's memory, guest RAM included, locked.
 * The sandbox drops CAP_IPC_LOCK before the vCPU threads' stacks are mapped
 * (locked too, MCL_FUTURE), so RLIMIT_MEMLOCK must cover all of it: raised
 * to unlimited where ember may, else checked against guest RAM plus room
 * for a stack per vCPU and ember's own.
 */
static int lock_memory(const struct machine_config *mc)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY }, st;
	unsigned long long need, stack = 8ULL << 20;

	if (!getrlimit(RLIMIT_STACK, &st) && st.rlim_cur != RLIM_INFINITY && st.rlim_cur > stack)
		stack = st.rlim_cur;
	need = mc->ram_size + (mc->ncpus + 8ULL) * stack;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) && !getrlimit(RLIMIT_MEMLOCK, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		err_msg("-overcommit mem-lock=on: RLIMIT_MEMLOCK (%llu MiB) is below the %llu MiB "
			"to lock: guest RAM and a stack per vCPU (ulimit -l)",
			(unsigned long long)rl.rlim_cur >> 20, need >> 20);
		return -EINVAL;
	}
	if (mlockall(MCL_CURRENT | MCL_FUTURE)) {
		err_msg("-overcommit mem-lock=on: mlockall: %s", strerror(errno));
		return -EINVAL;
	}
	return 0;
}

/* The back-end options, in the order they are created: a raw node may name a file node. */
struct backend_opts {
	enum object_kind kind;
	const char *const *opts;
	unsigned n;
};

static int backends_each(const struct cli *c, struct loop *loop,
			 int (*fn)(enum object_kind kind, const char *opts, struct loop *loop))
{
	const struct backend_opts list[] = {
		{ OBJ_CHARDEV, c->chardev, c->nr_chardev },
		{ OBJ_OBJECT, c->object, c->nr_object },
		{ OBJ_BLOCKDEV, c->blockdev, c->nr_blockdev },
		{ OBJ_NETDEV, c->netdev, c->nr_netdev },
	};
	int ret;

	for (size_t k = 0; k < ARRAY_SIZE(list); k++)
		for (unsigned i = 0; i < list[k].n; i++)
			if ((ret = fn(list[k].kind, list[k].opts[i], loop)))
				return ret;
	return 0;
}

static int check_one(enum object_kind kind, const char *opts, struct loop *loop)
{
	return object_check(kind, opts);
}

static int check_backends(const struct cli *c)
{
	int ret = backends_each(c, NULL, check_one);

	for (unsigned i = 0; !ret && i < c->nr_device; i++)
		ret = device_check(c->device[i]);
	return ret;
}

/*
 * Every option error before anything is set up (and /dev/kvm opened):
 * "-netdev help" and wrong types first, then the rest, then again what
 * -drive and -nic added. Creates nothing (tests/fuzz/fuzz_cli_opts.c).
 */
int cli_check(struct cli *c, struct machine_config *mc, struct cli_machine *cm)
{
	int ret = check_backends(c);

	if (!ret)
		ret = check_config(c, mc, cm);
	if (!ret && (c->nr_drive || c->nr_nic))
		ret = check_backends(c);
	if (!ret && !c->kernel) {
		err_msg("no kernel given: use -kernel PATH (see ember -help)");
		ret = -EINVAL;
	}
	/* sandbox */
	if (!ret && c->sandbox)
		ret = parse_sandbox(c->sandbox);
	return ret;
}

/* Ctrl-a x on a mux: QEMU's quit, a clean end of the run. */
static void mux_quit(void *opaque)
{
	machine_quit(opaque, "host-qmp-quit", "terminating on Ctrl-a x");
}

int ember_main(int argc, char **argv)
{
	struct cli c = { 0 };
	struct machine_config mc = { 0 };
	struct cli_machine cm;
	struct machine m;
	struct loop *loop = NULL;
	int ret, status = EXIT_USAGE;
	int machine_up = 0;

	/* EMBER_DEBUG=1: debug messages; EMBER_DEBUG=io: also every port access. */
	if (getenv("EMBER_DEBUG")) {
		log_set_level(LOG_DEBUG);
		vcpu_trace_io = !strcmp(getenv("EMBER_DEBUG"), "io");
	}
	/* A console reader that went away must not kill the VM. */
	signal(SIGPIPE, SIG_IGN);
	boot_trace("main");
	ret = cli_parse(argc, argv, &c);
	if (c.print_seccomp) {	/* sandbox */
		cli_free(&c);
		return sandbox_print(stdout) ? EXIT_USAGE : EXIT_OK;
	}
	if (!ret)
		ret = cli_check(&c, &mc, &cm);
	if (ret) {
		cli_free(&c);
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	}
	boot_trace("options checked");
	if (!c.sandbox && !sandbox_enabled())
		warn_msg("built with sanitizers: the sandbox is off (-sandbox on forces it; "
			 "see docs/sandbox.md)");
	if (c.daemonize && daemonize(&status)) {
		cli_free(&c);
		return status;
	}
	if ((c.pidfile && (ret = pidfile_write(c.pidfile))) ||
	    (c.overcommit && (ret = lock_memory(&mc))))
		goto out;

	loop = loop_new();
	if (!loop)
		goto out;
	ret = backends_each(&c, loop, object_create);
	/* Monitors on chardevs (HMP, QMP): before the machine, so that errors come first. */
	for (unsigned i = 0; !ret && i < c.nr_monitor; i++)
		ret = monitor_create(&c, i, loop, &m);
	for (unsigned i = 0; !ret && i < c.nr_mon; i++)
		ret = hmp_mon_create(c.mon[i], loop, &m);
	if (!ret)
		ret = finish_config(&c, &cm, loop, &m, &mc);
	if (ret)
		goto out;
	boot_trace("back ends and monitors created");
	ret = machine_init(&m, loop, &mc);
	machine_up = 1;
	if (ret)
		goto out;
	for (unsigned i = 0; i < c.nr_device; i++)
		if ((ret = device_create(&m.pf, c.device[i])) < 0)
			goto out;
	boot_trace("devices created");
	ret = machine_finish(&m);
	if (!ret && c.incoming && strcmp(c.incoming, "defer"))
		ret = snapshot_load(&m, c.incoming);
	for (unsigned i = 0; !ret && i < c.nr_qmp; i++)
		ret = qmp_server_create(c.qmp[i], loop, &m);
	if (ret)
		goto out;
	/* every front end is there: muxes read input and tell monitors of their peer */
	chardev_mux_set_quit(mux_quit, &m);
	chardev_mux_start();
	daemon_ready();
	status = machine_run(&m);
out:
	if (ret > 0)
		status = EXIT_OK;
	hmp_mon_destroy();
	qmp_server_destroy();
	if (machine_up)
		machine_destroy(&m);
	object_cleanup_all();
	if (loop)
		loop_free(loop);
	pidfile_remove();
	cli_free(&c);
	boot_trace("exit");
	return status;
}
