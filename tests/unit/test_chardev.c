/* chardev: back ends over real files, sockets, ptys and a real loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "in_child.h"
#include "backends/chardev.h"
#include "backends/chardev_internal.h"
#include "backends/object.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"

static char dir[64];
static char path[128];
static struct loop *loop;
static int timer_fd;

/* A front end with a budget: takes at most `credit` bytes, `per_call` at a time. */
struct fe {
	uint8_t got[65536];
	size_t len, credit, per_call, want;
};

static size_t fe_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct fe *f = opaque;
	size_t k = MIN(MIN(len, f->credit), f->per_call);

	k = MIN(k, sizeof(f->got) - f->len);
	memcpy(f->got + f->len, buf, k);
	f->len += k;
	f->credit -= k;
	if (k && f->want && f->len >= f->want)
		loop_stop(loop, 0);
	return k;
}

static void on_timeout(void *opaque, uint32_t events)
{
	uint64_t n;

	if (read(timer_fd, &n, sizeof(n)) == sizeof(n))
		loop_stop(loop, -ETIMEDOUT);
}

/* Runs the loop until something stops it, or -ETIMEDOUT after @ms. */
static int run(int ms)
{
	struct itimerspec its = { .it_value = { ms / 1000, (ms % 1000) * 1000000L } };
	struct itimerspec off = { 0 };
	int ret;

	assert_int_equal(timerfd_settime(timer_fd, 0, &its, NULL), 0);
	ret = loop_run(loop);
	timerfd_settime(timer_fd, 0, &off, NULL);
	return ret;
}

/* Runs the loop for @ms and checks it slept rather than spun. */
static void idle(int ms)
{
	struct rusage a, b;
	long used;

	getrusage(RUSAGE_THREAD, &a);
	assert_int_equal(run(ms), -ETIMEDOUT);
	getrusage(RUSAGE_THREAD, &b);
	used = (b.ru_utime.tv_sec - a.ru_utime.tv_sec) * 1000000L +
	       (b.ru_utime.tv_usec - a.ru_utime.tv_usec) +
	       (b.ru_stime.tv_sec - a.ru_stime.tv_sec) * 1000000L +
	       (b.ru_stime.tv_usec - a.ru_stime.tv_usec);
	assert_true(used < ms * 1000L / 2);
}

static int setup(void **state)
{
	log_set_quiet(1);
	strcpy(dir, "/tmp/ember-chr-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	rmdir(dir);
	return 0;
}

static int setup_test(void **state)
{
	loop = loop_new();
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	assert_int_equal(loop_add(loop, timer_fd, EPOLLIN, on_timeout, NULL), 0);
	snprintf(path, sizeof(path), "%s/x", dir);
	return 0;
}

static int teardown_test(void **state)
{
	object_cleanup_all();
	loop_del(loop, timer_fd);
	close(timer_fd);
	loop_free(loop);
	unlink(path);
	return 0;
}

static char *slurp(const char *p)
{
	static char buf[65536];
	int fd = open(p, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = 0;
	return buf;
}

static void t_file(void **state)
{
	char opts[256];
	struct chardev *c;

	snprintf(opts, sizeof(opts), "file,id=f0,path=%s", path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), 0);
	c = chardev_find("f0");
	assert_non_null(c);
	assert_string_equal(chardev_id(c), "f0");
	assert_int_equal(chardev_write(c, "hello ", 6), 6);
	assert_int_equal(chardev_write(c, "world", 5), 5);
	assert_string_equal(slurp(path), "hello world");
	/* file has no input, attaching is still fine */
	assert_int_equal(chardev_attach(c, fe_input, NULL), 0);
	chardev_accept_input(c);
	object_cleanup_all();
	assert_null(chardev_find("f0"));

	/* append=on keeps, the default truncates */
	snprintf(opts, sizeof(opts), "file,id=f1,path=%s,append=on", path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), 0);
	assert_int_equal(chardev_write(chardev_find("f1"), "!", 1), 1);
	assert_string_equal(slurp(path), "hello world!");
	snprintf(opts, sizeof(opts), "file,id=f2,path=%s", path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), 0);
	assert_string_equal(slurp(path), "");
}

static void t_file_errors(void **state)
{
	char opts[256];

	assert_int_equal(object_create(OBJ_CHARDEV, "file,id=f0", loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev file: property 'path' is required");
	snprintf(opts, sizeof(opts), "file,id=f0,path=%s/no/such", dir);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), -ENOENT);
	snprintf(opts, sizeof(opts), "-chardev file: cannot open '%s/no/such': "
		 "No such file or directory", dir);
	assert_string_equal(log_last(), opts);
	assert_null(chardev_find("f0"));
}

struct writer {
	struct chardev *c;
	char tag;
};

static void *write_records(void *arg)
{
	struct writer *w = arg;
	char rec[8];

	for (int i = 0; i < 2000; i++) {
		snprintf(rec, sizeof(rec), "%c%05d", w->tag, i);
		rec[6] = '\n';
		assert_int_equal(chardev_write(w->c, rec, 7), 7);
	}
	return NULL;
}

/* Writes from several vCPU threads come out whole, in each thread's order. */
static void t_concurrent_writes(void **state)
{
	struct writer w[4];
	pthread_t th[4];
	int next[4] = { 0 };
	struct chardev *c;
	char *s;

	assert_int_equal(chardev_create_simple("file", path, NULL, &c), 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){ c, (char)('A' + i) };
		pthread_create(&th[i], NULL, write_records, &w[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	s = slurp(path);
	assert_int_equal(strlen(s), 4 * 2000 * 7);
	for (size_t off = 0; s[off]; off += 7) {
		int t = s[off] - 'A';

		assert_true(t >= 0 && t < 4);
		assert_int_equal(atoi(s + off + 1), next[t]++);
		assert_int_equal(s[off + 6], '\n');
	}
}

static void t_null(void **state)
{
	struct fe f = { .credit = 100, .per_call = 100 };
	struct chardev *c;

	assert_int_equal(object_create(OBJ_CHARDEV, "null,id=n0", loop), 0);
	c = chardev_find("n0");
	assert_int_equal(chardev_write(c, "abc", 3), 3);
	assert_int_equal(chardev_attach(c, fe_input, &f), 0);
	assert_int_equal(chardev_attach(c, fe_input, &f), -EBUSY);
	chardev_detach(c);
	assert_int_equal(chardev_attach(c, fe_input, &f), 0);
	idle(30);
	assert_int_equal(f.len, 0);
}

static void t_errors(void **state)
{
	int save, nul, help, type_help;

	assert_int_equal(object_create(OBJ_CHARDEV, "nosuch,id=x", loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev nosuch: unknown back-end type "
			    "(supported: file, null, pty, socket, stdio; try -chardev help)");
	assert_int_equal(object_create(OBJ_CHARDEV, "id=x", loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev: no back-end type given "
			    "(supported: file, null, pty, socket, stdio; try -chardev help)");
	assert_int_equal(object_create(OBJ_CHARDEV, "null", loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev null: property 'id' is required");
	assert_int_equal(object_create(OBJ_CHARDEV, "null,id=9", loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev null: invalid id '9' "
			    "(use letters, digits, '-', '.', '_', starting with a letter)");
	assert_int_equal(object_create(OBJ_CHARDEV, "null,id=a,path=x", loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev null: unknown property 'path'");
	assert_int_equal(object_create(OBJ_CHARDEV, "null,id=a,", loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev: trailing ',' in 'null,id=a,'");

	assert_int_equal(object_create(OBJ_CHARDEV, "null,id=a", loop), 0);
	assert_int_equal(object_create(OBJ_CHARDEV, "null,id=a", loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev null: duplicate id 'a'");
	assert_int_equal(object_create(OBJ_CHARDEV, "pty,id=a", loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev pty: duplicate id 'a'");

	/* backend= names the type as the implied key does */
	assert_int_equal(object_create(OBJ_CHARDEV, "backend=null,id=b", loop), 0);
	assert_non_null(chardev_find("b"));

	/* help goes to stdout: keep it out of the test report */
	fflush(stdout);
	save = dup(1);
	nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dup2(nul, 1);
	close(nul);
	help = object_create(OBJ_CHARDEV, "help", loop);
	type_help = object_create(OBJ_CHARDEV, "socket,help", loop);
	fflush(stdout);
	dup2(save, 1);
	close(save);
	assert_int_equal(help, 1);
	assert_int_equal(type_help, 1);
	assert_null(chardev_find("socket"));
	assert_int_equal(object_create(OBJ_CHARDEV, "nosuch,help", loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev nosuch: unknown back-end type "
			    "(supported: file, null, pty, socket, stdio; try -chardev help)");
}

static void t_help(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	object_types_help(OBJ_CHARDEV, f);
	fclose(f);
	assert_non_null(strstr(buf, "\n  stdio  - "));
	assert_non_null(strstr(buf, "\n  file   - "));
	assert_non_null(strstr(buf, "\n  null   - "));
	assert_non_null(strstr(buf, "\n  socket - "));
	assert_non_null(strstr(buf, "\n  pty    - "));
	free(buf);
	/* every type takes mux= */
	f = open_memstream(&buf, &len);
	object_type_help(object_type_find(OBJ_CHARDEV, "stdio"), f);
	fclose(f);
	assert_non_null(strstr(buf, "\n  mux=<bool> - several front ends share it"));
	free(buf);
}

static void t_simple(void **state)
{
	struct chardev *a, *b;

	assert_int_equal(chardev_create_simple("file", path, loop, &a), 0);
	assert_string_equal(chardev_id(a), "serial0");
	assert_int_equal(chardev_create_simple("null", NULL, loop, &b), 0);
	assert_string_equal(chardev_id(b), "serial1");
	assert_ptr_equal(chardev_find("serial1"), b);
	assert_int_equal(chardev_write(a, "x", 1), 1);
	assert_string_equal(slurp(path), "x");

	assert_int_equal(chardev_create_simple("nosuch", NULL, loop, &a), -EINVAL);
	assert_string_equal(log_last(), "-serial nosuch: unknown back-end type (try -chardev help)");
	assert_int_equal(chardev_create_simple("file", NULL, loop, &a), -EINVAL);
	assert_string_equal(log_last(), "-serial file: property 'path' is required");
}

static int unix_connect(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, p);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void expect_recv(int fd, const char *want)
{
	char buf[64];
	size_t n = strlen(want), got = 0;
	ssize_t r;

	while (got < n) {
		r = recv(fd, buf + got, n - got, 0);
		assert_true(r > 0);
		got += r;
	}
	assert_memory_equal(buf, want, n);
}

/* Lets the front end take @more bytes and runs until it has them. */
static void grant(struct chardev *c, struct fe *f, size_t more)
{
	f->credit += more;
	f->want = f->len + more;
	chardev_accept_input(c);
	assert_int_equal(run(2000), 0);
	assert_int_equal(f->len, f->want);
}

static void *accept_from_thread(void *arg)
{
	chardev_accept_input(arg);
	return NULL;
}

static void t_socket_server(void **state)
{
	static struct fe f = { .credit = 3, .per_call = 3, .want = 3 };
	static uint8_t big[20000];
	char opts[256];
	struct chardev *c;
	pthread_t th;
	int cl;

	snprintf(opts, sizeof(opts), "socket,id=s0,path=%s,server=on,wait=off", path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), 0);
	c = chardev_find("s0");
	/* no client yet: output is dropped, not blocked on */
	assert_int_equal(chardev_write(c, "lost", 4), 4);
	assert_int_equal(chardev_attach(c, fe_input, &f), 0);

	cl = unix_connect(path);
	assert_true(cl >= 0);
	assert_int_equal(write(cl, "hello ", 6), 6);
	assert_int_equal(run(2000), 0);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.got, "hel", 3);

	/*
	 * The front end is full: nothing more arrives until it says so, and
	 * the loop sleeps although the socket has more to read.
	 */
	assert_int_equal(write(cl, "world!", 6), 6);
	idle(50);
	assert_int_equal(f.len, 3);
	grant(c, &f, 3);
	assert_memory_equal(f.got, "hello ", 6);
	idle(50);
	assert_int_equal(f.len, 6);

	/* from another thread, as a vCPU would */
	f.credit += 3;
	f.want = 9;
	pthread_create(&th, NULL, accept_from_thread, c);
	pthread_join(th, NULL);
	assert_int_equal(run(2000), 0);
	grant(c, &f, 3);
	assert_memory_equal(f.got, "hello world!", 12);

	/* output reaches the client */
	assert_int_equal(chardev_write(c, "ping", 4), 4);
	expect_recv(cl, "ping");

	/* more than the 4 KiB buffer, through many small grants: nothing lost */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	assert_int_equal(write(cl, big, sizeof(big)), sizeof(big));
	f.per_call = 1000;
	while (f.len < 12 + sizeof(big))
		grant(c, &f, MIN(997, 12 + sizeof(big) - f.len));
	assert_memory_equal(f.got + 12, big, sizeof(big));
	idle(50);

	/* the client leaves; output is dropped; the next client is taken */
	close(cl);
	f.credit = 100;
	idle(50);
	assert_int_equal(chardev_write(c, "void", 4), 4);
	cl = unix_connect(path);
	assert_true(cl >= 0);
	assert_int_equal(write(cl, "again", 5), 5);
	f.want = f.len + 5;
	assert_int_equal(run(2000), 0);
	assert_memory_equal(f.got + f.len - 5, "again", 5);
	assert_int_equal(chardev_write(c, "pong", 4), 4);
	expect_recv(cl, "pong");
	close(cl);

	object_cleanup_all();
	assert_int_equal(access(path, F_OK), -1);	/* socket removed */
}

static int peer_events[2], focus_events[2];

static void on_peer(void *opaque, int open)
{
	peer_events[open ? 1 : 0]++;
}

static void on_focus(void *opaque, int in)
{
	focus_events[in ? 1 : 0]++;
}

/* mux=on through the core: two front ends on one socket, Ctrl-a c between them. */
static void t_socket_mux(void **state)
{
	static struct fe mon = { .credit = 100, .per_call = 100 };
	static struct fe con = { .credit = 100, .per_call = 100, .want = 3 };
	char opts[256];
	struct chardev *c;
	int cl;

	snprintf(opts, sizeof(opts), "socket,id=s0,path=%s,server=on,wait=off,mux=of", path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev socket: mux=of: expected on or off");
	snprintf(opts, sizeof(opts), "socket,id=s0,path=%s,server=on,wait=off,mux=on", path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), 0);
	c = chardev_find("s0");
	assert_int_equal(chardev_attach(c, fe_input, &mon), 0);
	assert_int_equal(chardev_watch_focus(c, on_focus), 1);
	chardev_watch_peer(c, on_peer);
	assert_int_equal(chardev_attach(c, fe_input, &con), 0);

	/* nothing is read, nothing told, until every front end is there */
	cl = unix_connect(path);
	assert_true(cl >= 0);
	assert_int_equal(write(cl, "abc\x01" "cmon", 8), 8);
	idle(50);
	assert_int_equal(con.len, 0);
	assert_int_equal(peer_events[1], 0);
	chardev_mux_start();
	assert_int_equal(run(2000), 0);
	assert_int_equal(con.len, 3);
	assert_memory_equal(con.got, "abc", 3);
	assert_int_equal(mon.len, 3);
	assert_memory_equal(mon.got, "mon", 3);
	assert_int_equal(peer_events[1], 1);
	assert_int_equal(focus_events[1], 1);
	/* both front ends' output reaches the client */
	assert_int_equal(chardev_write(c, "(qemu) ", 7), 7);
	assert_int_equal(chardev_write(c, "login:", 6), 6);
	expect_recv(cl, "(qemu) login:");
	/* the client leaves: the monitor is told */
	close(cl);
	idle(50);
	assert_int_equal(peer_events[0], 1);
	/* on a plain chardev there are no focus events */
	assert_int_equal(object_create(OBJ_CHARDEV, "null,id=n0", loop), 0);
	assert_int_equal(chardev_attach(chardev_find("n0"), fe_input, &mon), 0);
	assert_int_equal(chardev_watch_focus(chardev_find("n0"), on_focus), 0);
	object_cleanup_all();
}

/* CPU time of this thread, in microseconds. */
static long thread_cpu_us(void)
{
	struct rusage r;

	getrusage(RUSAGE_THREAD, &r);
	return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000000L + r.ru_utime.tv_usec +
	       r.ru_stime.tv_usec;
}

/* In a child under a low RLIMIT_NOFILE: see t_socket_accept_backoff. */
static int accept_backoff_child(void)
{
	struct rlimit rl = { 64, 64 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char opts[256], buf[8];
	struct chardev *c;
	int cl, fds[64], n = 0, ret = 0;
	long t0, used;

	snprintf(opts, sizeof(opts), "socket,id=s0,path=%s,server=on,wait=off", path);
	if (setrlimit(RLIMIT_NOFILE, &rl) || object_create(OBJ_CHARDEV, opts, loop))
		return 10;
	c = chardev_find("s0");
	cl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	while (n < 64 && (fds[n] = dup(0)) >= 0)
		n++;
	if (cl < 0 || n == 64 || errno != EMFILE)
		return 11;
	strcpy(sa.sun_path, path);
	if (connect(cl, (struct sockaddr *)&sa, sizeof(sa)))
		return 12;
	/* The pending connection cannot be taken: the loop must sleep, not spin. */
	t0 = thread_cpu_us();
	if (run(1000) != -ETIMEDOUT)
		return 13;
	used = thread_cpu_us() - t0;
	if (used > 200000) {
		fprintf(stderr, "the listener spun: %ld us of CPU in 1 s\n", used);
		ret = 14;
	}
	/* A descriptor frees up: the client is taken within the back-off. */
	close(fds[--n]);
	run(300);
	chardev_write(c, "hi", 2);
	if (recv(cl, buf, sizeof(buf), MSG_DONTWAIT) != 2)
		ret = ret ? ret : 15;
	while (n)
		close(fds[--n]);
	close(cl);
	object_cleanup_all();
	return ret;
}

/* accept4 failing with EMFILE: the listener backs off and serves the client later. */
static void t_socket_accept_backoff(void **state)
{
	in_child(accept_backoff_child, 20);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * As a vCPU writing the UART would: @total bytes in small writes to a
 * reader that stalled. Returns the longest single write, in seconds.
 */
static double flood(struct chardev *c, size_t total)
{
	static uint8_t chunk[256];
	double worst = 0;

	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	for (size_t done = 0; done < total; done += sizeof(chunk)) {
		double t0 = now_s(), t;

		if (chardev_write(c, chunk, sizeof(chunk)) != sizeof(chunk))
			return 1e9;
		t = now_s() - t0;
		worst = t > worst ? t : worst;
	}
	return worst;
}

/* Reads @fd (non-blocking) while the loop drains, until nothing more comes. */
static size_t drain_reader(int fd)
{
	static uint8_t buf[65536];
	size_t got = 0;
	int quiet = 0;

	while (quiet < 10) {
		ssize_t n;

		run(CHR_OUT_RETRY_MS * 3);
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			got += (size_t)n;
			quiet = 0;
		} else {
			quiet++;
		}
	}
	return got;
}

/*
 * The console policy (docs/architecture.md): a stalled reader costs the
 * writer at most CHR_OUT_STALL_MS once, memory at most CHR_OUT_MAX, and what
 * is dropped is counted; once it reads again, what waited arrives.
 */
#define CHECK(x) do { if (!(x)) { fprintf(stderr, "check failed: %s\n", #x); return __LINE__; } } while (0)

/* 0, or the line of the check that failed (usable in a child). */
static int check_stall(struct chardev *c, int reader)
{
	const size_t total = 4 << 20;
	double t0 = now_s(), worst = flood(c, total), took = now_s() - t0;
	uint64_t dropped = chardev_dropped(c);
	size_t got;

	CHECK(worst < CHR_OUT_STALL_MS / 1000.0 + 0.05);
	CHECK(took < CHR_OUT_STALL_MS / 1000.0 + 1.0);
	CHECK(c->out_len <= CHR_OUT_MAX);
	CHECK(dropped > 0);
	got = drain_reader(reader);
	/* What was not dropped arrives, including the whole buffer. */
	CHECK(got + dropped == total);
	CHECK(got >= CHR_OUT_MAX);
	/* Reading again: nothing more is dropped. */
	CHECK(chardev_write(c, "ok", 2) == 2);
	CHECK(chardev_dropped(c) == dropped);
	CHECK(drain_reader(reader) == 2);
	return 0;
}

static void t_socket_stall(void **state)
{
	char opts[256];
	struct chardev *c;
	int cl;

	snprintf(opts, sizeof(opts), "socket,id=s0,path=%s,server=on,wait=off", path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), 0);
	c = chardev_find("s0");
	cl = unix_connect(path);
	assert_true(cl >= 0);
	assert_int_equal(run(50), -ETIMEDOUT);	/* accepted */
	assert_int_equal(fcntl(cl, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(check_stall(c, cl), 0);
	close(cl);
}

/* stdout a pipe nobody reads: in a child, since a hang must end (SIGALRM). */
static int stdio_stall_child(void)
{
	int out[2];
	struct chardev *c;

	if (pipe(out) || dup2(out[1], 1) < 0)
		return 10;
	close(out[1]);
	if (object_create(OBJ_CHARDEV, "stdio,id=io,signal=off", loop))
		return 11;
	c = chardev_find("io");
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	return check_stall(c, out[0]) ? 12 : 0;
}

static void t_stdio_stall(void **state)
{
	in_child(stdio_stall_child, 20);
}

static void *connect_later(void *arg)
{
	int fd;

	for (int i = 0; i < 500; i++) {
		fd = unix_connect(arg);
		if (fd >= 0)
			return (void *)(intptr_t)fd;
		usleep(2000);
	}
	return (void *)(intptr_t)-1;
}

static void t_socket_wait(void **state)
{
	struct fe f = { .credit = 10, .per_call = 10, .want = 2 };
	char opts[256];
	pthread_t th;
	void *res;
	int cl;

	/* wait=on is the default for servers: creation returns with a client */
	snprintf(opts, sizeof(opts), "socket,id=w0,path=%s,server=on", path);
	pthread_create(&th, NULL, connect_later, path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), 0);
	pthread_join(th, &res);
	cl = (int)(intptr_t)res;
	assert_true(cl >= 0);
	assert_int_equal(chardev_write(chardev_find("w0"), "hi", 2), 2);
	expect_recv(cl, "hi");
	assert_int_equal(chardev_attach(chardev_find("w0"), fe_input, &f), 0);
	assert_int_equal(write(cl, "yo", 2), 2);
	assert_int_equal(run(2000), 0);
	assert_memory_equal(f.got, "yo", 2);
	close(cl);
}

static void t_socket_client(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fe f = { .credit = 10, .per_call = 10, .want = 3 };
	char opts[256], big[8192] = { 0 };
	struct chardev *c;
	int ls, peer;

	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);

	snprintf(opts, sizeof(opts), "socket,id=c0,path=%s", path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), 0);
	c = chardev_find("c0");
	peer = accept(ls, NULL, NULL);
	assert_true(peer >= 0);
	assert_int_equal(chardev_attach(c, fe_input, &f), 0);
	assert_int_equal(chardev_write(c, "out", 3), 3);
	expect_recv(peer, "out");
	assert_int_equal(write(peer, "in!", 3), 3);
	assert_int_equal(run(2000), 0);
	assert_memory_equal(f.got, "in!", 3);

	/* the peer goes away: writes neither block nor raise SIGPIPE */
	close(peer);
	for (int i = 0; i < 64; i++)
		assert_int_equal(chardev_write(c, big, sizeof(big)), sizeof(big));
	idle(50);
	assert_int_equal(chardev_write(c, "x", 1), 1);
	assert_int_equal(chardev_socket_reconnect(c), 0);

	/* reconnect=N (vhost-user-blk): a front end that took the socket connects again. */
	snprintf(opts, sizeof(opts), "socket,id=c1,path=%s,reconnect=2", path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), 0);
	c = chardev_find("c1");
	assert_int_equal(chardev_socket_reconnect(c), 2);
	peer = accept(ls, NULL, NULL);
	assert_true(peer >= 0);
	int fd = chardev_socket_take(c);

	assert_true(fd >= 0);
	close(fd);
	close(peer);
	fd = chardev_socket_connect(c);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	peer = accept(ls, NULL, NULL);
	assert_true(peer >= 0);
	assert_int_equal(write(fd, "again", 5), 5);
	expect_recv(peer, "again");
	close(fd);
	close(peer);
	close(ls);
	unlink(path);
	assert_true(chardev_socket_connect(c) < 0);	/* nobody listens any more */
}

static void t_socket_errors(void **state)
{
	char opts[512], want[512];

	snprintf(opts, sizeof(opts), "socket,id=e0,path=%s/nope", dir);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), -ENOENT);
	snprintf(want, sizeof(want), "-chardev socket: cannot connect to '%s/nope': "
		 "No such file or directory", dir);
	assert_string_equal(log_last(), want);

	assert_int_equal(object_create(OBJ_CHARDEV, "socket,id=e0,server=on", loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev socket: path= or fd= is required");

	snprintf(opts, sizeof(opts), "socket,id=e0,server=on,wait=off,path=%s,reconnect=1", path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev socket: reconnect= is for a client that "
			    "connects to path= itself (not with server=on or fd=)");

	snprintf(opts, sizeof(opts), "socket,id=e0,server=on,wait=off,path=/%0200d", 0);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), -ENAMETOOLONG);
	assert_non_null(strstr(log_last(), "is too long (at most 107 bytes)"));

	/* never removes a file that is not a socket */
	close(open(path, O_CREAT | O_WRONLY, 0600));
	snprintf(opts, sizeof(opts), "socket,id=e0,server=on,wait=off,path=%s", path);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), -EADDRINUSE);
	assert_int_equal(access(path, F_OK), 0);
	assert_null(chardev_find("e0"));
}

/* fd=: a socket a manager opened, listening (server=on) or connected. */
static void t_socket_fd(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fe f = { .credit = 10, .per_call = 10, .want = 3 };
	char opts[256];
	struct chardev *c;
	int sv[2], ls, cl, pfd[2];

	/* connected: server=off */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	snprintf(opts, sizeof(opts), "socket,id=f0,fd=%d", sv[0]);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), 0);
	c = chardev_find("f0");
	assert_non_null(c);
	assert_int_equal(chardev_attach(c, fe_input, &f), 0);
	assert_int_equal(chardev_write(c, "out", 3), 3);
	expect_recv(sv[1], "out");
	assert_int_equal(write(sv[1], "in!", 3), 3);
	assert_int_equal(run(2000), 0);
	assert_memory_equal(f.got, "in!", 3);
	close(sv[1]);

	/* listening: server=on,wait=off; a client arrives through the loop */
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	snprintf(opts, sizeof(opts), "socket,id=f1,fd=%d,server,nowait", ls);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), 0);
	c = chardev_find("f1");
	cl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(cl, (struct sockaddr *)&sa, sizeof(sa)), 0);
	idle(50);
	assert_int_equal(chardev_write(c, "hey", 3), 3);
	expect_recv(cl, "hey");
	close(cl);

	/* wrong kinds, each named */
	assert_int_equal(object_create(OBJ_CHARDEV, "socket,id=f2,fd=1", loop), -EINVAL);
	assert_string_equal(log_last(),
			    "-chardev socket: fd=1 is not a file descriptor number (3 or more)");
	assert_int_equal(pipe(pfd), 0);
	snprintf(opts, sizeof(opts), "socket,id=f2,fd=%d", pfd[0]);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), -EINVAL);
	assert_non_null(strstr(log_last(), "is not an open stream socket"));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	snprintf(opts, sizeof(opts), "socket,id=f2,fd=%d,server=on,wait=off", sv[0]);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), -EINVAL);
	assert_non_null(strstr(log_last(), "is a connected socket but server=on"));
	snprintf(opts, sizeof(opts), "socket,id=f2,fd=%d,path=/x", sv[0]);
	assert_int_equal(object_create(OBJ_CHARDEV, opts, loop), -EINVAL);
	assert_string_equal(log_last(), "-chardev socket: give either path= or fd=, not both");
	assert_null(chardev_find("f2"));
	close(sv[0]);
	close(sv[1]);
	close(pfd[0]);
	close(pfd[1]);
}

static void t_pty(void **state)
{
	struct fe f = { .credit = 100, .per_call = 100, .want = 3 };
	char name[64], buf[64], chunk[4096] = { 0 };
	struct timespec t0, t1;
	struct chardev *c;
	int s;

	assert_int_equal(object_create(OBJ_CHARDEV, "pty,id=p0", loop), 0);
	assert_int_equal(sscanf(log_last(), "char device redirected to %63s (label p0)", name), 1);
	assert_memory_equal(name, "/dev/pts/", 9);
	c = chardev_find("p0");

	/* output written before anyone opened the slave is waiting there */
	assert_int_equal(chardev_write(c, "early\n", 6), 6);
	s = open(name, O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	assert_int_equal(read(s, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "early\n", 6);	/* raw: no \r added */

	assert_int_equal(chardev_attach(c, fe_input, &f), 0);
	assert_int_equal(write(s, "a\rb", 3), 3);
	assert_int_equal(run(2000), 0);
	assert_memory_equal(f.got, "a\rb", 3);	/* raw: \r kept */
	close(s);

	/* nobody reads: output is dropped, the writer never blocks */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 256; i++)
		assert_int_equal(chardev_write(c, chunk, sizeof(chunk)), sizeof(chunk));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	/* and the loop does not spin on a pty nobody has open */
	idle(50);
}

/* stdio over pipes put in place of fds 0 and 1. */
static void t_stdio(void **state)
{
	struct fe f = { .credit = 100, .per_call = 100, .want = 4 };
	int in[2], out[2], save_in = dup(0), save_out = dup(1);
	struct chardev *c;
	char buf[16] = { 0 };
	ssize_t n;
	int ret, dup_ret, del = 0;

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	fflush(stdout);
	dup2(in[0], 0);
	dup2(out[1], 1);
	ret = object_create(OBJ_CHARDEV, "stdio,id=io,signal=off", loop);
	dup_ret = object_create(OBJ_CHARDEV, "stdio,id=io2", loop);
	c = chardev_find("io");
	if (c) {
		chardev_write(c, "out!", 4);
		chardev_attach(c, fe_input, &f);
		if (write(in[1], "in!!", 4) == 4)
			run(2000);
		close(in[1]);
		run(50);
		/* EOF seen: stdin is off the loop, not spinning on EPOLLHUP */
		del = loop_del(loop, 0);
	}
	object_cleanup_all();
	dup2(save_in, 0);
	dup2(save_out, 1);
	close(save_in);
	close(save_out);
	close(in[0]);
	close(out[1]);
	n = read(out[0], buf, sizeof(buf));
	close(out[0]);

	assert_int_equal(ret, 0);
	assert_int_equal(dup_ret, -EBUSY);
	assert_non_null(c);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "out!", 4);
	assert_int_equal(f.len, 4);
	assert_memory_equal(f.got, "in!!", 4);
	assert_int_equal(del, -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_file, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_file_errors, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_concurrent_writes, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_null, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_errors, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_help, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_simple, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_socket_server, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_socket_mux, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_socket_wait, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_socket_client, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_socket_errors, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_socket_fd, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_socket_accept_backoff, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_socket_stall, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_stdio_stall, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_pty, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_stdio, setup_test, teardown_test),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
