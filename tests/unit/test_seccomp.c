/*
 * seccomp: every class's filter compiles and loads; the allowlists are the
 * reviewed ones (seccomp/allowlist.expected); a forbidden call, an ioctl
 * request or an mmap protection outside the list kills the process with
 * SIGSYS and a line naming the call; capabilities and NO_NEW_PRIVS; the
 * gate that keeps vCPU threads waiting until every filter is loaded.
 *
 * Filters are loaded in forked children only: the test process stays free.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>

#include "lib/log.h"
#include "seccomp/seccomp.h"

#ifndef EMBER_TEST_SRCDIR
#define EMBER_TEST_SRCDIR "."
#endif
#define EXPECTED_FILE EMBER_TEST_SRCDIR "/seccomp/allowlist.expected"

static int setup(void **state)
{
	log_set_quiet(1);
	return 0;
}

static char *print_lists(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(sandbox_print(f), 0);
	fclose(f);
	return buf;
}

/* Whole file, NUL-terminated (also /proc files, whose size says 0). */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		char *b = realloc(buf, len + n + 1);

		if (!b) {
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = b;
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = 0;
	return buf;
}

/* Lines starting with '#' in the expectation file are comments. */
static char *strip_comments(const char *s)
{
	char *out = calloc(1, strlen(s) + 1), *o = out;

	assert_non_null(out);
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s + 1) : strlen(s);

		if (*s != '#') {
			memcpy(o, s, n);
			o += n;
		}
		s += n;
	}
	return out;
}

/* ---- the lists ---- */

static void t_lists_match_expected(void **state)
{
	char *actual = print_lists(), *file = read_file(EXPECTED_FILE), *expected;
	char path[] = "/tmp/ember-seccomp-actual.XXXXXX", cmd[512];
	FILE *d;
	int fd;

	if (!file)
		fail_msg("cannot read %s", EXPECTED_FILE);
	expected = strip_comments(file);
	if (strcmp(actual, expected)) {
		fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, actual, strlen(actual)), (ssize_t)strlen(actual));
		close(fd);
		snprintf(cmd, sizeof(cmd), "grep -v '^#' '%s' | diff -u - '%s'", EXPECTED_FILE, path);
		print_message("The allowlists differ from %s (- reviewed, + built):\n", EXPECTED_FILE);
		d = popen(cmd, "r");
		if (d) {
			char line[256];

			while (fgets(line, sizeof(line), d))
				print_message("%s", line);
			pclose(d);
		}
		print_message("A new system call needs a reason in seccomp/seccomp.c and a review;\n"
			      "then: ember -print-seccomp >> the file's data lines (docs/sandbox.md).\n");
		unlink(path);
		fail_msg("seccomp allowlists changed");
	}
	free(actual);
	free(file);
	free(expected);
}

static void t_lists_sorted_per_class(void **state)
{
	char *all = print_lists(), *save = NULL, *line;
	char prev[160] = "", prev_class[32] = "";
	unsigned classes_seen = 0, lines = 0;

	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char cls[32];
		const char *sp = strchr(line, ' ');

		assert_non_null(sp);
		snprintf(cls, sizeof(cls), "%.*s", (int)(sp - line), line);
		if (strcmp(cls, prev_class)) {
			classes_seen++;
			snprintf(prev_class, sizeof(prev_class), "%s", cls);
		} else {
			assert_true(strcmp(prev, line) < 0);	/* sorted, no duplicates */
		}
		snprintf(prev, sizeof(prev), "%s", line);
		lines++;
	}
	/* + main+netdev-user, main+vfio, vcpu+vfio, main+reconnect, main+snapshot, main+hotplug */
	assert_int_equal(classes_seen, SANDBOX_NR_CLASSES + 6);
	assert_true(lines > 10);
	free(all);
}

static void t_each_filter_compiles(void **state)
{
	for (unsigned c = 0; c < SANDBOX_NR_CLASSES; c++) {
		int n = sandbox_compile(c);

		assert_non_null(sandbox_class_name(c));
		assert_true(n > 0);
		print_message("class %s: %d BPF instructions\n", sandbox_class_name(c), n);
	}
	assert_null(sandbox_class_name(SANDBOX_NR_CLASSES));
	assert_int_equal(sandbox_compile(SANDBOX_NR_CLASSES), -EINVAL);
}

/* -device vfio-pci's calls join main's and vcpu's filters only when asked (last: it stays on). */
static void t_vfio_compiled_in(void **state)
{
	int main_n = sandbox_compile(SANDBOX_MAIN), vcpu_n = sandbox_compile(SANDBOX_VCPU);

	sandbox_allow_vfio();
	assert_true(sandbox_compile(SANDBOX_MAIN) > main_n);
	assert_true(sandbox_compile(SANDBOX_VCPU) > vcpu_n);
	/*
	 * A hot-plug slot's calls overlap vfio's (pread64) and -netdev user's
	 * (openat and newfstatat with and without filters): all three compile.
	 */
	sandbox_allow_user_net();
	assert_true(sandbox_compile(SANDBOX_MAIN) > 0);
	sandbox_allow_hotplug();
	assert_true(sandbox_compile(SANDBOX_MAIN) > 0);
}

static void t_off_is_a_no_op(void **state)
{
	sandbox_set_enabled(false);
	assert_false(sandbox_enabled());
	assert_int_equal(sandbox_setup(), 0);
	assert_int_equal(sandbox_enter_vcpu(0), 0);
	assert_int_equal(sandbox_enter_main(4), 0);	/* would wait for 4 vCPUs if on */
	sandbox_set_enabled(true);
}

/* ---- children ---- */

struct child_result {
	int status;
	char err[1024];		/* its stderr */
};

/* How a filtered child ends: exit_group is only on the main list, exit only on the vCPU one. */
static long child_exit_nr = SYS_exit;

/* Runs @fn in a child whose stderr is captured; @fn's return is its exit status. */
static void run_child(int (*fn)(void *), void *arg, struct child_result *r)
{
	int p[2];
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		close(p[1]);
		log_set_quiet(0);
		int code = fn(arg);	/* sets child_exit_nr: call it first */

		syscall(child_exit_nr, code);
	}
	close(p[1]);
	while ((n = read(p[0], r->err + got, sizeof(r->err) - 1 - got)) > 0)
		got += n;
	close(p[0]);
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
}

static void expect_sigsys(const struct child_result *r, const char *line)
{
	if (!WIFSIGNALED(r->status) || WTERMSIG(r->status) != SIGSYS)
		fail_msg("expected death by SIGSYS, got status %#x; stderr: %s", r->status, r->err);
	if (!strstr(r->err, line))
		fail_msg("expected '%s' on stderr, got: %s", line, r->err);
}

static void expect_exit0(const struct child_result *r)
{
	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status))
		fail_msg("expected exit 0, got status %#x; stderr: %s", r->status, r->err);
}

struct probe {
	enum sandbox_class cls;
	const char *name;		/* thread name for the report */
	void (*prepare)(void);		/* before the filter, or NULL */
	void (*call)(void);		/* what the thread does once filtered */
	const char *report;		/* expected line, or NULL: must survive */
};

static int probe_child(void *arg)
{
	const struct probe *p = arg;

	sandbox_set_enabled(true);
	if (p->prepare)
		p->prepare();
	if (sandbox_setup())
		return 10;
	if (sandbox_load(p->cls, p->name))
		return 11;
	child_exit_nr = p->cls == SANDBOX_MAIN ? SYS_exit_group : SYS_exit;
	p->call();
	return 0;
}

static void call_execve(void)
{
	char *const argv[] = { "true", NULL };

	execve("/bin/true", argv, argv + 1);
}

static void call_open(void) { open("/dev/null", O_RDONLY); }
static void call_pidfd_open(void) { syscall(SYS_pidfd_open, 1, 0); }
static void call_unknown(void) { syscall(1000); }
static void call_ioctl_tty(void) { ioctl(-1, TCSETS, NULL); }
static void call_ioctl_create_vm(void) { ioctl(-1, KVM_CREATE_VM, 0); }
static void call_mmap_exec(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void call_mprotect_exec(void)
{
	static char page[4096] __attribute__((aligned(4096)));

	mprotect(page, sizeof(page), PROT_READ | PROT_EXEC);
}
static void call_madvise_other(void)
{
	static char page[4096] __attribute__((aligned(4096)));

	madvise(page, sizeof(page), MADV_DONTFORK);
}
/* Single-threaded: the thread id is the process id. */
static void call_tgkill_other(void) { syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1); }
static void call_kill(void) { kill(1, 0); }

/* What the lists allow must not kill: KVM ioctls (EBADF), memory, output. */
static void call_allowed_vcpu(void)
{
	void *p;

	if (ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF)
		syscall(SYS_exit, 20);
	/* The kernel reads the request as 32 bits; so does the filter. */
	if (syscall(SYS_ioctl, -1, (unsigned long)KVM_RUN | 1ul << 32, 0) != -1 || errno != EBADF)
		syscall(SYS_exit, 21);
	if (ioctl(-1, KVM_IRQ_LINE, NULL) != -1 || errno != EBADF)
		syscall(SYS_exit, 22);
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p, 4096, PROT_READ) ||
	    madvise(p, 1 << 20, MADV_DONTNEED) || munmap(p, 1 << 20))
		syscall(SYS_exit, 23);
	if (write(STDERR_FILENO, "ok\n", 3) != 3)
		syscall(SYS_exit, 24);
}

static void call_allowed_main(void)
{
	char c;
	void *p;

	if (read(-1, &c, 1) != -1 || errno != EBADF)
		syscall(SYS_exit_group, 30);
	if (close(-1) != -1 || errno != EBADF)
		syscall(SYS_exit_group, 31);
	if (ioctl(-1, TCSETS, NULL) != -1 || errno != EBADF)
		syscall(SYS_exit_group, 32);
	if (ioctl(-1, KVM_IOEVENTFD, NULL) != -1 || errno != EBADF)
		syscall(SYS_exit_group, 33);
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || munmap(p, 1 << 20))
		syscall(SYS_exit_group, 34);
}

/* The stdio chardev's teardown: tcsetattr() must be the listed TCSETS. */
static int tty = -1;
static struct termios tty_saved;

static void open_tty(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);

	if (m < 0 || grantpt(m) || unlockpt(m) ||
	    (tty = open(ptsname(m), O_RDWR | O_NOCTTY)) < 0 || tcgetattr(tty, &tty_saved))
		syscall(SYS_exit, 40);
}

static void call_tcsetattr(void)
{
	if (tcsetattr(tty, TCSANOW, &tty_saved))
		syscall(SYS_exit_group, 41);
}

static void t_probes(void **state)
{
	static const struct probe probes[] = {
		{ SANDBOX_VCPU, "vcpu0", NULL, call_execve,
		  "ember: error: seccomp: thread vcpu0 made forbidden system call execve(59)\n" },
		{ SANDBOX_MAIN, "main", NULL, call_execve,
		  "ember: error: seccomp: thread main made forbidden system call execve(59)\n" },
		{ SANDBOX_VCPU, "vcpu3", NULL, call_open, "thread vcpu3 made forbidden system call openat(257)" },
		{ SANDBOX_MAIN, "main", NULL, call_open, "thread main made forbidden system call openat(257)" },
		{ SANDBOX_VCPU, "vcpu0", NULL, call_pidfd_open, "forbidden system call pidfd_open(434)" },
		{ SANDBOX_VCPU, "vcpu0", NULL, call_unknown, "forbidden system call syscall(1000)" },
		{ SANDBOX_VCPU, "vcpu0", NULL, call_ioctl_tty, "forbidden system call ioctl(16)" },
		{ SANDBOX_MAIN, "main", NULL, call_ioctl_create_vm, "forbidden system call ioctl(16)" },
		{ SANDBOX_VCPU, "vcpu0", NULL, call_ioctl_create_vm, "forbidden system call ioctl(16)" },
		{ SANDBOX_VCPU, "vcpu0", NULL, call_mmap_exec, "forbidden system call mmap(9)" },
		{ SANDBOX_MAIN, "main", NULL, call_mmap_exec, "forbidden system call mmap(9)" },
		{ SANDBOX_MAIN, "main", NULL, call_mprotect_exec, "forbidden system call mprotect(10)" },
		{ SANDBOX_VCPU, "vcpu0", NULL, call_madvise_other, "forbidden system call madvise(28)" },
		{ SANDBOX_MAIN, "main", NULL, call_tgkill_other, "forbidden system call tgkill(234)" },
		{ SANDBOX_MAIN, "main", NULL, call_kill, "forbidden system call kill(62)" },
		{ SANDBOX_VCPU, "vcpu0", NULL, call_allowed_vcpu, NULL },
		{ SANDBOX_MAIN, "main", NULL, call_allowed_main, NULL },
		{ SANDBOX_MAIN, "main", open_tty, call_tcsetattr, NULL },
	};
	struct child_result r;

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		run_child(probe_child, (void *)&probes[i], &r);
		if (probes[i].report)
			expect_sigsys(&r, probes[i].report);
		else
			expect_exit0(&r);
	}
}

/* ---- privileges ---- */

/* NoNewPrivs, Seccomp: decimal */
static long status_field(const char *status, const char *key)
{
	const char *p = strstr(status, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* CapEff, CapBnd...: hex */
static unsigned long long cap_field(const char *status, const char *key)
{
	const char *p = strstr(status, key);

	return p ? strtoull(p + strlen(key), NULL, 16) : ~0ULL;
}

static int privileges_child(void *arg)
{
	char *s;
	bool root = getuid() == 0;

	sandbox_set_enabled(true);
	if (sandbox_setup())
		return 10;
	s = read_file("/proc/self/status");
	if (!s)
		return 11;
	if (status_field(s, "NoNewPrivs:\t") != 1)
		return 12;
	if (cap_field(s, "CapEff:\t") || cap_field(s, "CapPrm:\t") || cap_field(s, "CapInh:\t"))
		return 13;
	if (root && cap_field(s, "CapBnd:\t"))
		return 14;
	if (cap_field(s, "CapAmb:\t"))
		return 15;
	free(s);
	return 0;
}

static void t_privileges_dropped(void **state)
{
	struct child_result r;

	run_child(privileges_child, NULL, &r);
	expect_exit0(&r);
}

static int nobody_child(void *arg)
{
	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return 20;
	/* No capabilities left, a full bounding set that cannot be dropped: fine. */
	return privileges_child(arg);
}

static void t_not_root_is_fine(void **state)
{
	struct child_result r;

	if (getuid() != 0)
		skip();		/* privileges_child covers it */
	run_child(nobody_child, NULL, &r);
	expect_exit0(&r);
}

/* ---- the gate and whole-process state ---- */

#define NTHREADS 3

struct gate_test {
	int to_parent, from_parent;
	int ran[NTHREADS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static struct gate_test gt;

static void *fake_vcpu(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;

	if (sandbox_enter_vcpu(i))
		return NULL;
	__atomic_store_n(&gt.ran[i], 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&gt.lock);
	while (!gt.done)
		pthread_cond_wait(&gt.cond, &gt.lock);
	pthread_mutex_unlock(&gt.lock);
	return NULL;
}

static int gate_child(void *arg)
{
	pthread_t t[NTHREADS];
	sigset_t all, old;
	char c = 'r';

	sandbox_set_enabled(true);
	if (sandbox_setup())
		return 10;
	/* As vcpu_start() does: threads start with every signal blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, fake_vcpu, (void *)(uintptr_t)i))
			return 11;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	usleep(200 * 1000);
	for (unsigned i = 0; i < NTHREADS; i++)
		if (__atomic_load_n(&gt.ran[i], __ATOMIC_SEQ_CST))
			return 12;	/* a vCPU went through the closed gate */
	if (sandbox_enter_main(NTHREADS))
		return 13;
	for (unsigned i = 0; i < NTHREADS; i++)
		while (!__atomic_load_n(&gt.ran[i], __ATOMIC_SEQ_CST))
			;	/* no sched_yield: not on the main list */
	/* Everyone filtered: the parent looks at /proc, then lets us go. */
	if (write(gt.to_parent, &c, 1) != 1 || read(gt.from_parent, &c, 1) != 1)
		return 14;
	/*
	 * A vCPU thread's exit (madvise, rt_sigprocmask, exit) goes through;
	 * not under ASan, whose thread exit needs more (docs/sandbox.md).
	 */
	if (sandbox_sanitized_build())
		syscall(SYS_exit_group, 0);
	pthread_mutex_lock(&gt.lock);
	gt.done = true;
	pthread_cond_broadcast(&gt.cond);
	pthread_mutex_unlock(&gt.lock);
	for (unsigned i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	syscall(SYS_exit_group, 0);
	return 15;
}

static void check_tasks(pid_t pid)
{
	char path[64], cmd[128];
	FILE *ls;
	unsigned n = 0;

	snprintf(cmd, sizeof(cmd), "ls /proc/%d/task", (int)pid);
	ls = popen(cmd, "r");
	assert_non_null(ls);
	while (fgets(path, sizeof(path), ls)) {
		char file[96], *s;

		snprintf(file, sizeof(file), "/proc/%d/task/%ld/status", (int)pid, strtol(path, NULL, 10));
		s = read_file(file);
		assert_non_null(s);
		if (status_field(s, "Seccomp:\t") != 2 || status_field(s, "NoNewPrivs:\t") != 1 ||
		    cap_field(s, "CapEff:\t") || cap_field(s, "CapPrm:\t"))
			fail_msg("%s:\n%s", file, s);
		if (getuid() == 0 && cap_field(s, "CapBnd:\t"))
			fail_msg("%s: bounding set left:\n%s", file, s);
		free(s);
		n++;
	}
	pclose(ls);
	assert_int_equal(n, NTHREADS + 1);
}

static void t_gate_and_every_thread_filtered(void **state)
{
	int up[2], down[2];
	pid_t pid;
	int status;
	char c;

	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	memset(&gt, 0, sizeof(gt));
	pthread_mutex_init(&gt.lock, NULL);
	pthread_cond_init(&gt.cond, NULL);
	gt.to_parent = up[1];
	gt.from_parent = down[0];
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		_exit(gate_child(NULL));
	close(up[1]);
	close(down[0]);
	if (read(up[0], &c, 1) == 1) {
		check_tasks(pid);
		assert_int_equal(write(down[1], "g", 1), 1);
	}
	close(up[0]);
	close(down[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("child status %#x", status);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_lists_match_expected),
		cmocka_unit_test(t_lists_sorted_per_class),
		cmocka_unit_test(t_each_filter_compiles),
		cmocka_unit_test(t_off_is_a_no_op),
		cmocka_unit_test(t_probes),
		cmocka_unit_test(t_privileges_dropped),
		cmocka_unit_test(t_not_root_is_fine),
		cmocka_unit_test(t_gate_and_every_thread_filtered),
		cmocka_unit_test(t_vfio_compiled_in),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
