/* block: -blockdev nodes over real files, a real loop and real io_uring. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/vfs.h>

#include "backends/block.h"
#include "backends/block_batch.h"
#include "backends/object.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/ratelimit.h"
#include "lib/util.h"

#define IMG_SIZE	(4 * MiB)
#define TMPFS_MAGIC	0x01021994

static char dir[256], img[300];
static struct loop *loop;
static int timer_fd;

/* A request with its own completion record. */
struct treq {
	struct blk_req r;
	int result;
	bool done;
	unsigned order;		/* completions so far, this one included */
};

static unsigned completed, expected, batches;

static void on_done(struct blk_req *r, int result)
{
	struct treq *t = container_of(r, struct treq, r);

	assert_false(t->done);
	t->done = true;
	t->result = result;
	t->order = ++completed;
	if (completed == expected)
		loop_stop(loop, 0);
}

static void on_batch(void *opaque, unsigned queue)
{
	batches++;
}

static void on_timeout(void *opaque, uint32_t events)
{
	uint64_t n;

	if (read(timer_fd, &n, sizeof(n)) == sizeof(n))
		loop_stop(loop, -ETIMEDOUT);
}

/* Runs the loop until @n more requests completed. */
static void wait_for(unsigned n)
{
	struct itimerspec its = { .it_value = { 10, 0 } }, off = { 0 };

	expected = completed + n;
	if (!n)
		return;
	assert_int_equal(timerfd_settime(timer_fd, 0, &its, NULL), 0);
	assert_int_equal(loop_run(loop), 0);
	timerfd_settime(timer_fd, 0, &off, NULL);
}

static void make_image(const char *path, uint64_t size, uint8_t fill)
{
	uint8_t buf[65536];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	memset(buf, fill, sizeof(buf));
	for (uint64_t off = 0; off < size; off += sizeof(buf))
		assert_int_equal(pwrite(fd, buf, sizeof(buf), off), sizeof(buf));
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

/* FNV-1a of the whole file. */
static uint64_t file_hash(const char *path)
{
	uint8_t buf[65536];
	uint64_t h = 1469598103934665603ull;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	close(fd);
	return h;
}

static int create(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int create(const char *fmt, ...)
{
	char opts[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(opts, sizeof(opts), fmt, ap);
	va_end(ap);
	return object_create(OBJ_BLOCKDEV, opts, loop);
}

static struct blk *attach(const char *node, unsigned queues, unsigned depth)
{
	struct blk *b = blk_find(node);

	assert_non_null(b);
	assert_int_equal(blk_attach(b, "test", queues, depth), 0);
	blk_set_batch_end(b, on_batch, NULL);
	return b;
}

static int submit(struct blk *b, unsigned q, struct treq *t, enum blk_op op,
		  uint64_t off, uint64_t len, const struct iovec *iov, unsigned n)
{
	*t = (struct treq){ .r = { .op = op, .offset = off, .len = len, .iov = iov,
				  .iovcnt = n, .done = on_done } };
	return blk_submit(b, q, &t->r);
}

/* Submits one request, runs it to completion, returns its result. */
static int run1(struct blk *b, enum blk_op op, uint64_t off, uint64_t len,
		const struct iovec *iov, unsigned n)
{
	struct treq t;
	int ret = submit(b, 0, &t, op, off, len, iov, n);

	if (ret)
		return ret;
	blk_flush_queue(b, 0);
	wait_for(1);
	assert_true(t.done);
	return t.result;
}

static int setup_test(void **state)
{
	const char *tmp = getenv("TMPDIR");

	log_set_quiet(1);
	snprintf(dir, sizeof(dir), "%s/ember-block-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	make_image(img, IMG_SIZE, 0xaa);
	loop = loop_new();
	assert_non_null(loop);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	assert_int_equal(loop_add(loop, timer_fd, EPOLLIN, on_timeout, NULL), 0);
	completed = expected = batches = 0;
	return 0;
}

static int teardown_test(void **state)
{
	char cmd[300];

	object_cleanup_all();
	loop_del(loop, timer_fd);
	close(timer_fd);
	loop_free(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void t_roundtrip(void **state)
{
	uint8_t a[1000], b[3096], c[4096], back[8192];
	struct iovec wv[] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct iovec rv[] = { { back, 512 }, { back + 512, sizeof(back) - 512 } };
	uint8_t disk[8192];
	struct blk *blk;
	int fd;

	assert_int_equal(create("driver=file,node-name=f0,filename=%s", img), 0);
	assert_int_equal(create("driver=raw,node-name=d0,file=f0"), 0);
	assert_int_equal(blk_size(blk_find("d0")), IMG_SIZE);
	assert_false(blk_read_only(blk_find("d0")));
	assert_string_equal(blk_node_name(blk_find("d0")), "d0");
	blk = attach("d0", 1, 16);
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	memset(c, 3, sizeof(c));
	assert_int_equal(run1(blk, BLK_WRITE, 4096, 0, wv, 3), 8192);
	assert_true(batches >= 1);
	assert_int_equal(run1(blk, BLK_READ, 4096, 0, rv, 2), 8192);
	assert_memory_equal(back, a, sizeof(a));
	assert_memory_equal(back + 1000, b, sizeof(b));
	assert_memory_equal(back + 4096, c, sizeof(c));
	assert_int_equal(run1(blk, BLK_FLUSH, 0, 0, NULL, 0), 0);
	/* It really is in the file, around untouched bytes. */
	fd = open(img, O_RDONLY);
	assert_int_equal(pread(fd, disk, sizeof(disk), 4096), sizeof(disk));
	assert_memory_equal(disk, back, sizeof(disk));
	assert_int_equal(pread(fd, disk, 1, 4095), 1);
	assert_int_equal(disk[0], 0xaa);
	close(fd);
}

static void t_direct(void **state)
{
	uint8_t *buf = NULL;
	struct iovec v;
	struct blk *blk;

	assert_int_equal(posix_memalign((void **)&buf, 4096, 8192), 0);
	assert_int_equal(create("driver=file,node-name=f0,filename=%s,cache.direct=on", img), 0);
	blk = attach("f0", 1, 4);
	memset(buf, 0x5c, 8192);
	v = (struct iovec){ buf, 8192 };
	assert_int_equal(run1(blk, BLK_WRITE, 65536, 0, &v, 1), 8192);
	memset(buf, 0, 8192);
	assert_int_equal(run1(blk, BLK_READ, 65536, 0, &v, 1), 8192);
	for (int i = 0; i < 8192; i++)
		assert_int_equal(buf[i], 0x5c);
	/* Zeroes written by hand (ZERO_RANGE) are aligned for O_DIRECT too. */
	assert_int_equal(run1(blk, BLK_WRITE_ZEROES, 65536, 4096, NULL, 0), 0);
	assert_int_equal(run1(blk, BLK_READ, 65536, 0, &v, 1), 8192);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[4096], 0x5c);
	free(buf);
}

/*
 * QEMU's cache.* on a raw node reach its nested file node; cache.no-flush
 * and a front end without a write cache show in the node's info, and a
 * write-through node's writes and flushes still work.
 */
static void t_cache_modes(void **state)
{
	uint8_t buf[4096];
	struct iovec v = { buf, sizeof(buf) };
	struct blk_info bi;
	struct blk *blk, *n;
	bool seen[2] = { false, false };

	assert_int_equal(create("driver=raw,node-name=d0,cache.no-flush=on,"
				"file.driver=file,file.filename=%s", img), 0);
	assert_int_equal(create("driver=raw,node-name=d1,cache.direct=on,"
				"file.driver=file,file.filename=%s,file.locking=off", img), 0);
	for (n = NULL; (n = blk_next_info(n, &bi));) {
		if (!bi.node_name || bi.node_name[0] == '#') {	/* the nested file nodes */
			seen[bi.direct] = true;
			assert_int_equal(bi.no_flush, !bi.direct);
			continue;
		}
		assert_true(bi.writeback);
		assert_int_equal(bi.no_flush, !strcmp(bi.node_name, "d0"));
		assert_int_equal(bi.direct, !strcmp(bi.node_name, "d1"));
	}
	assert_true(seen[0] && seen[1]);
	blk = attach("d0", 1, 4);
	blk_set_write_through(blk, true);
	assert_non_null(blk_next_info(NULL, &bi));
	for (n = NULL; (n = blk_next_info(n, &bi));)
		if (bi.node_name && !strcmp(bi.node_name, "d0"))
			assert_false(bi.writeback);
	memset(buf, 0x7e, sizeof(buf));
	assert_int_equal(run1(blk, BLK_WRITE, 0, 0, &v, 1), 4096);
	assert_int_equal(run1(blk, BLK_FLUSH, 0, 0, NULL, 0), 0);	/* a no-op, still done */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(run1(blk, BLK_READ, 0, 0, &v, 1), 4096);
	assert_int_equal(buf[4095], 0x7e);
	assert_int_equal(create("driver=file,node-name=f9,filename=%s,cache.no-flush=maybe", img),
			 -EINVAL);
}

static blkcnt_t blocks_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_blocks;
}

static void t_discard(void **state)
{
	struct blk *blk;
	blkcnt_t before;
	off_t hole;
	int fd;

	assert_int_equal(create("driver=file,node-name=f0,discard=unmap,filename=%s", img), 0);
	assert_int_equal(create("driver=raw,node-name=d0,discard=unmap,file=f0"), 0);
	blk = attach("d0", 1, 4);
	assert_true(blk_discard_supported(blk));
	before = blocks_of(img);
	assert_int_equal(run1(blk, BLK_DISCARD, 1 * MiB, 1 * MiB, NULL, 0), 0);
	assert_int_equal(run1(blk, BLK_FLUSH, 0, 0, NULL, 0), 0);
	assert_true(blocks_of(img) <= before - (blkcnt_t)(1 * MiB / 512));
	fd = open(img, O_RDONLY);
	hole = lseek(fd, 0, SEEK_HOLE);
	close(fd);
	assert_int_equal(hole, 1 * MiB);
	/* The size does not change. */
	assert_int_equal(blk_size(blk), IMG_SIZE);
}

static void t_discard_ignored(void **state)
{
	struct blk *blk;
	blkcnt_t before = blocks_of(img);
	uint64_t h = file_hash(img);

	/* discard=unmap below, but the raw node ignores them (QEMU's default). */
	assert_int_equal(create("driver=file,node-name=f0,filename=%s,discard=unmap", img), 0);
	assert_int_equal(create("driver=raw,node-name=d0,file=f0"), 0);
	blk = attach("d0", 1, 4);
	assert_false(blk_discard_supported(blk));
	assert_int_equal(run1(blk, BLK_DISCARD, 0, 1 * MiB, NULL, 0), 0);
	assert_int_equal(blocks_of(img), before);
	assert_true(file_hash(img) == h);
}

static void check_zero(struct blk *blk, uint64_t off, uint64_t len, uint8_t around)
{
	uint8_t *buf = malloc(len + 1024);
	struct iovec v = { buf, len + 1024 };

	assert_int_equal(run1(blk, BLK_READ, off - 512, 0, &v, 1), len + 1024);
	assert_int_equal(buf[0], around);
	assert_int_equal(buf[511], around);
	for (uint64_t i = 0; i < len; i++)
		if (buf[512 + i])
			fail_msg("byte %llu not zero", (unsigned long long)i);
	assert_int_equal(buf[len + 512], around);
	free(buf);
}

static void t_write_zeroes(void **state)
{
	struct blk *blk;
	struct treq t;

	assert_int_equal(create("driver=raw,node-name=d0,discard=unmap,"
				"file.driver=file,file.filename=%s", img), 0);
	blk = attach("d0", 1, 4);
	assert_int_equal(run1(blk, BLK_WRITE_ZEROES, 8192, 12288, NULL, 0), 0);
	check_zero(blk, 8192, 12288, 0xaa);
	/* May unmap: a hole that reads back as zeroes. */
	assert_int_equal(submit(blk, 0, &t, BLK_WRITE_ZEROES, 2 * MiB, 512 * KiB, NULL, 0), 0);
	t.r.unmap = true;
	blk_flush_queue(blk, 0);
	wait_for(1);
	assert_int_equal(t.result, 0);
	check_zero(blk, 2 * MiB, 512 * KiB, 0xaa);
}

/* tmpfs has no FALLOC_FL_ZERO_RANGE: zeroes are written by hand. */
static void t_write_zeroes_fallback(void **state)
{
	char path[64] = "/dev/shm/ember-block-XXXXXX";
	struct statfs sf;
	struct blk *blk;
	int fd = mkstemp(path);

	if (fd < 0 || fstatfs(fd, &sf) || sf.f_type != TMPFS_MAGIC) {
		if (fd >= 0)
			unlink(path);
		skip();
	}
	close(fd);
	make_image(path, IMG_SIZE, 0x77);
	assert_int_equal(create("driver=file,node-name=f0,filename=%s", path), 0);
	blk = attach("f0", 1, 4);
	/* More than one vectored write of zeroes, and a tail. */
	assert_int_equal(run1(blk, BLK_WRITE_ZEROES, 512, 1 * MiB + 3 * 65536 + 4096,
			      NULL, 0), 0);
	check_zero(blk, 512, 1 * MiB + 3 * 65536 + 4096, 0x77);
	object_cleanup_all();
	unlink(path);
}

/* Writes of every kind fail with -EROFS and leave the file as it was. */
static void check_refuses_writes(struct blk *blk)
{
	uint8_t buf[4096] = { 0 };
	struct iovec v = { buf, sizeof(buf) };
	uint64_t h = file_hash(img);

	assert_true(blk_read_only(blk));
	assert_false(blk_discard_supported(blk));
	assert_int_equal(run1(blk, BLK_WRITE, 0, 0, &v, 1), -EROFS);
	assert_int_equal(run1(blk, BLK_DISCARD, 0, 4096, NULL, 0), -EROFS);
	assert_int_equal(run1(blk, BLK_WRITE_ZEROES, 0, 4096, NULL, 0), -EROFS);
	assert_int_equal(run1(blk, BLK_FLUSH, 0, 0, NULL, 0), 0);
	assert_int_equal(run1(blk, BLK_READ, 0, 0, &v, 1), 4096);
	assert_int_equal(buf[0], 0xaa);
	assert_true(file_hash(img) == h);
}

static void t_read_only(void **state)
{
	assert_int_equal(create("driver=file,node-name=f0,filename=%s,read-only=on", img), 0);
	assert_int_equal(create("driver=raw,node-name=d0,file=f0,read-only=on"), 0);
	check_refuses_writes(attach("d0", 1, 4));
}

/* A read-only raw node over a writable file node still refuses writes. */
static void t_read_only_raw(void **state)
{
	assert_int_equal(create("driver=file,node-name=f0,filename=%s", img), 0);
	assert_int_equal(create("driver=raw,node-name=d0,file=f0,read-only=on"), 0);
	check_refuses_writes(attach("d0", 1, 4));
	/* Nested form: read-only is inherited by the anonymous file node. */
	assert_int_equal(create("driver=raw,node-name=d1,read-only=on,"
				"file.driver=file,file.filename=%s,file.locking=off", img), 0);
	check_refuses_writes(attach("d1", 1, 4));
}

static void t_bounds(void **state)
{
	uint8_t buf[1024];
	struct iovec v = { buf, sizeof(buf) };
	struct iovec huge[2] = { { buf, UINT64_MAX / 2 + 1 }, { buf, UINT64_MAX / 2 + 1 } };
	struct blk *blk;
	struct treq t;

	assert_int_equal(create("driver=file,node-name=f0,filename=%s", img), 0);
	blk = attach("f0", 1, 4);
	assert_int_equal(submit(blk, 0, &t, BLK_READ, IMG_SIZE - 512, 0, &v, 1), -EINVAL);
	assert_int_equal(submit(blk, 0, &t, BLK_WRITE, IMG_SIZE, 0, &v, 1), -EINVAL);
	assert_int_equal(submit(blk, 0, &t, BLK_READ, UINT64_MAX - 100, 0, &v, 1), -EINVAL);
	assert_int_equal(submit(blk, 0, &t, BLK_READ, 0, 0, huge, 2), -EINVAL);
	assert_int_equal(submit(blk, 0, &t, BLK_DISCARD, IMG_SIZE - 512, 1024, NULL, 0), -EINVAL);
	assert_int_equal(submit(blk, 0, &t, BLK_WRITE_ZEROES, 512, UINT64_MAX, NULL, 0), -EINVAL);
	assert_int_equal(submit(blk, 1, &t, BLK_READ, 0, 0, &v, 1), -EINVAL);
	assert_int_equal(submit(blk, 0, &t, (enum blk_op)99, 0, 0, &v, 1), -EINVAL);
	/* The last bytes are fine. */
	assert_int_equal(run1(blk, BLK_READ, IMG_SIZE - 1024, 0, &v, 1), 1024);
	assert_int_equal(completed, 1);
}

static void t_many_in_flight(void **state)
{
	enum { N = 64, Q = 2 };
	static uint8_t data[Q][N][4096], back[Q][N][4096];
	static struct iovec wv[Q][N], rv[Q][N];
	static struct treq t[Q][N];
	struct blk *blk;

	assert_int_equal(create("driver=raw,node-name=d0,file.driver=file,file.filename=%s",
				img), 0);
	blk = attach("d0", Q, N);
	for (int q = 0; q < Q; q++) {
		for (int i = 0; i < N; i++) {
			memset(data[q][i], q * N + i, 4096);
			wv[q][i] = (struct iovec){ data[q][i], 4096 };
			assert_int_equal(submit(blk, q, &t[q][i], BLK_WRITE,
						(uint64_t)(q * N + i) * 4096, 0, &wv[q][i], 1), 0);
		}
		/* The pool is @depth deep. */
		assert_int_equal(submit(blk, q, &(struct treq){ 0 }, BLK_FLUSH, 0, 0, NULL, 0),
				 -EAGAIN);
		blk_flush_queue(blk, q);
	}
	wait_for(Q * N);
	for (int q = 0; q < Q; q++) {
		for (int i = 0; i < N; i++) {
			assert_int_equal(t[q][i].result, 4096);
			rv[q][i] = (struct iovec){ back[q][i], 4096 };
			assert_int_equal(submit(blk, q, &t[q][i], BLK_READ,
						(uint64_t)(q * N + i) * 4096, 0, &rv[q][i], 1), 0);
		}
		blk_flush_queue(blk, q);
	}
	wait_for(Q * N);
	for (int q = 0; q < Q; q++)
		for (int i = 0; i < N; i++) {
			assert_int_equal(t[q][i].result, 4096);
			assert_memory_equal(back[q][i], data[q][i], 4096);
		}
}

/* The file shrinks under a read: the rest is asked for, then -EIO. */
static void t_short_read(void **state)
{
	static uint8_t buf[3][40000];
	struct iovec v[3] = { { buf[0], 40000 }, { buf[1], 40000 }, { buf[2], 40000 - 64 } };
	struct blk *blk;

	assert_int_equal(create("driver=file,node-name=f0,filename=%s", img), 0);
	blk = attach("f0", 1, 4);
	assert_int_equal(truncate(img, 1 * MiB + 50000), 0);
	assert_int_equal(run1(blk, BLK_READ, 1 * MiB, 0, v, 3), -EIO);
	assert_int_equal(buf[1][9999], 0xaa);
	/* Whole again: the same read completes. */
	assert_int_equal(truncate(img, IMG_SIZE), 0);
	assert_int_equal(run1(blk, BLK_READ, 1 * MiB, 0, v, 3), 3 * 40000 - 64);
}

static void t_detach_pending(void **state)
{
	enum { N = 32 };
	static uint8_t buf[N][65536];
	static struct iovec v[N];
	static struct treq t[N];
	struct blk *blk;

	assert_int_equal(create("driver=file,node-name=f0,filename=%s", img), 0);
	blk = attach("f0", 1, N);
	for (int i = 0; i < N; i++) {
		v[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		assert_int_equal(submit(blk, 0, &t[i], i & 1 ? BLK_READ : BLK_WRITE,
					(uint64_t)i * 65536, 0, &v[i], 1), 0);
	}
	blk_flush_queue(blk, 0);
	/* Every request is called back, done or cancelled, before detach returns. */
	blk_detach(blk);
	for (int i = 0; i < N; i++) {
		assert_true(t[i].done);
		assert_true(t[i].result == 65536 || t[i].result == -ECANCELED);
	}
	/* And the node can be claimed again. */
	blk = attach("f0", 1, 4);
	assert_int_equal(run1(blk, BLK_FLUSH, 0, 0, NULL, 0), 0);
	/* At exit, pending requests are waited for without callbacks. */
	assert_int_equal(submit(blk, 0, &t[0], BLK_READ, 0, 0, &v[0], 1), 0);
	blk_flush_queue(blk, 0);
	object_cleanup_all();
}

static void t_locking(void **state)
{
	/* One writer excludes everyone; readers coexist (QEMU's rules). */
	assert_int_equal(create("driver=file,node-name=w1,filename=%s", img), 0);
	assert_int_equal(create("driver=file,node-name=w2,filename=%s", img), -EBUSY);
	assert_non_null(strstr(log_last(), "Failed to get \"write\" lock"));
	assert_non_null(strstr(log_last(), img));
	assert_int_equal(create("driver=file,node-name=r1,filename=%s,read-only=on", img),
			 -EBUSY);
	assert_non_null(strstr(log_last(), "Failed to get shared \"write\" lock"));
	/* locking=off opens anyway, as QEMU's does. */
	assert_int_equal(create("driver=file,node-name=w3,filename=%s,locking=off", img), 0);
	object_cleanup_all();

	assert_int_equal(create("driver=file,node-name=r1,filename=%s,read-only=on", img), 0);
	assert_int_equal(create("driver=raw,node-name=r2,read-only=on,"
				"file.driver=file,file.filename=%s,file.locking=on", img), 0);
	assert_int_equal(create("driver=file,node-name=w1,filename=%s", img), -EBUSY);
	assert_non_null(strstr(log_last(), "Failed to get \"write\" lock"));
	object_cleanup_all();
	/* Closed: the locks went with the descriptors. */
	assert_int_equal(create("driver=file,node-name=w1,filename=%s", img), 0);
}

static void expect_error(const char *opts, const char *msg)
{
	int ret = object_create(OBJ_BLOCKDEV, opts, loop);

	if (ret >= 0)
		fail_msg("'%s' was accepted", opts);
	if (!strstr(log_last(), msg))
		fail_msg("'%s': got \"%s\", want \"%s\"", opts, log_last(), msg);
}

static void t_errors(void **state)
{
	char o[512];

	expect_error("driver=file,node-name=f0", "property 'filename' is required");
	expect_error("driver=vmdk,node-name=f0,filename=x", "driver=vmdk: unknown driver");
	expect_error("node-name=f0,filename=x", "no driver given");
	expect_error("driver=file,filename=x", "property 'node-name' is required");
	expect_error("driver=raw,node-name=d0", "driver=raw needs file=NODE");
	expect_error("driver=raw,node-name=d0,file=nope", "no -blockdev with node-name 'nope'");
	expect_error("driver=file,node-name=f0,filename=/nonexistent/x", "cannot open /nonexistent/x");
	expect_error("driver=file,node-name=f0,filename=/dev/null",
		     "/dev/null is not a regular file or a block device");
	snprintf(o, sizeof(o), "driver=file,node-name=f0,filename=%s,aio=threads", img);
	expect_error(o, "aio=threads is not supported");
	snprintf(o, sizeof(o), "driver=file,node-name=f0,filename=%s,aio=fast", img);
	expect_error(o, "aio=fast: unknown");
	snprintf(o, sizeof(o), "driver=file,node-name=f0,filename=%s,locking=maybe", img);
	expect_error(o, "locking=maybe");
	snprintf(o, sizeof(o), "driver=file,node-name=f0,filename=%s,discard=sometimes", img);
	expect_error(o, "discard=sometimes");
	snprintf(o, sizeof(o), "driver=file,node-name=f0,filename=%s,color=red", img);
	expect_error(o, "unknown property 'color'");
	snprintf(o, sizeof(o), "driver=file,node-name=0bad,filename=%s", img);
	expect_error(o, "invalid id '0bad'");
	snprintf(o, sizeof(o), "driver=raw,node-name=d0,file.driver=nbd,file.filename=%s", img);
	expect_error(o, "file.driver=nbd");
	snprintf(o, sizeof(o), "driver=raw,node-name=d0,file.driver=file,file.filename=%s,"
		 "file.bogus=1", img);
	expect_error(o, "unknown property 'bogus'");
	assert_null(blk_find("d0"));
	assert_null(blk_find("#d0.file"));

	snprintf(o, sizeof(o), "driver=file,node-name=f0,filename=%s,read-only=on", img);
	assert_int_equal(object_create(OBJ_BLOCKDEV, o, loop), 0);
	expect_error(o, "duplicate node-name 'f0'");
	expect_error("driver=raw,node-name=d0,file=f0", "node 'f0' is read-only");
	expect_error("driver=raw,node-name=d0,file=f0,read-only=on,file.filename=x",
		     "either file= or file.*");
	assert_int_equal(object_create(OBJ_BLOCKDEV, "driver=raw,node-name=d0,file=f0,read-only=on", loop), 0);
	expect_error("driver=raw,node-name=d1,file=f0,read-only=on",
		     "node 'f0' is already used by raw node 'd0'");
	assert_int_equal(blk_attach(blk_find("f0"), "-device x", 1, 4), -EBUSY);
	assert_non_null(strstr(log_last(), "already used by raw node 'd0'"));
	assert_int_equal(blk_attach(blk_find("d0"), "-device x", 1, 4), 0);
	assert_int_equal(blk_attach(blk_find("d0"), "-device y", 1, 4), -EBUSY);
	assert_non_null(strstr(log_last(), "already used by -device x"));
	assert_int_equal(object_create(OBJ_BLOCKDEV, "help", loop), 1);
	assert_int_equal(object_create(OBJ_BLOCKDEV, "driver=file,help", loop), 1);
}

/* O_DIRECT where the file system refuses it: one clear message. */
static void t_direct_unsupported(void **state)
{
	char path[64] = "/dev/shm/ember-block-XXXXXX", o[256];
	int fd = mkstemp(path), dfd;
	bool refuses;

	if (fd < 0)
		skip();
	close(fd);
	make_image(path, 65536, 0);
	/* Since Linux 6.6 tmpfs takes O_DIRECT; older ones refuse it. */
	dfd = open(path, O_RDONLY | O_DIRECT);
	refuses = dfd < 0 && errno == EINVAL;
	if (dfd >= 0)
		close(dfd);
	snprintf(o, sizeof(o), "driver=file,node-name=f0,filename=%s,cache.direct=on", path);
	if (refuses) {
		expect_error(o, "cache.direct=on: ");
		assert_non_null(strstr(log_last(), "file system does not support O_DIRECT"));
	} else {
		assert_int_equal(object_create(OBJ_BLOCKDEV, o, loop), 0);
	}
	object_cleanup_all();
	unlink(path);
}

/* ---- throttling.* ---- */

static double secs_since(uint64_t t0)
{
	return (double)(ratelimit_now_ns() - t0) / 1e9;
}

/* A file node over the image with @extra options must be refused with @msg. */
static void expect_file_error(const char *extra, const char *msg)
{
	char o[512];

	snprintf(o, sizeof(o), "driver=file,node-name=f0,filename=%s,%s", img, extra);
	expect_error(o, msg);
}

static void t_throttle_options(void **state)
{
	char o[512];

	expect_file_error("throttling.bps-total=fast", "throttling.bps-total");
	expect_file_error("throttling.bps-total=-1", "throttling.bps-total");
	expect_file_error("throttling.bps-total=2000000000000000", "throttling.bps-total");
	expect_file_error("throttling.bps-totl=1", "unknown property 'throttling.bps-totl'");
	expect_file_error("throttling.iops-total-max=10",
			  "throttling.iops-total-max needs throttling.iops-total");
	expect_file_error("throttling.bps-total=1000,throttling.bps-total-max=999",
			  "cannot be lower than throttling.bps-total");
	expect_file_error("throttling.bps-total=1000,throttling.bps-write=10",
			  "throttling.bps-total and throttling.bps-read/-write cannot be used together");
	expect_file_error("throttling.iops-total=1000,throttling.iops-read=10",
			  "throttling.iops-total and throttling.iops-read/-write cannot");
	expect_file_error("throttling.iops-write-max=10",
			  "throttling.iops-write-max needs throttling.iops-write");
	expect_file_error("throttling.bps-read=100,throttling.bps-read-max=10",
			  "throttling.bps-read-max (10) cannot be lower than throttling.bps-read");
	snprintf(o, sizeof(o), "driver=raw,node-name=d0,file.driver=file,file.filename=%s,"
		 "file.throttling.iops-total=x", img);
	expect_error(o, "throttling.iops-total");
	assert_null(blk_find("f0"));
	assert_null(blk_find("d0"));

	/* Limits on a raw node and on its file node: refused when claimed. */
	assert_int_equal(create("driver=file,node-name=f0,filename=%s,throttling.iops-total=5",
				img), 0);
	assert_int_equal(create("driver=raw,node-name=d0,file=f0,throttling.bps-total=5000"), 0);
	assert_int_equal(blk_attach(blk_find("d0"), "-device x", 1, 4), -EINVAL);
	assert_non_null(strstr(log_last(), "on node 'd0' and on node 'f0'"));
	assert_int_equal(object_create(OBJ_BLOCKDEV, "driver=file,help", loop), 1);
}

/* A limit on the file node applies to the raw node a front end claims. */
static void t_throttle_bps(void **state)
{
	enum { N = 8, LEN = 65536 };
	static uint8_t buf[N][LEN];
	static struct iovec v[N];
	static struct treq t[N];
	struct blk *blk;
	uint64_t t0;
	double dt;

	/* 1 MiB/s with a burst of 1 MiB */
	assert_int_equal(create("driver=file,node-name=f0,filename=%s,"
				"throttling.bps-total=1048576,throttling.bps-total-max=1048576",
				img), 0);
	assert_int_equal(create("driver=raw,node-name=d0,file=f0"), 0);
	blk = attach("d0", 1, N);
	/* empty the bucket first: a full one would let 16 requests through */
	assert_int_equal(run1(blk, BLK_READ, 0, 0, &(struct iovec){ buf[0], LEN }, 1), LEN);
	v[0] = (struct iovec){ buf[0], sizeof(buf) };
	assert_int_equal(run1(blk, BLK_READ, 0, 0, v, 1), N * LEN);
	assert_int_equal(run1(blk, BLK_READ, 0, 0, v, 1), N * LEN);	/* 64 KiB of debt */
	t0 = ratelimit_now_ns();
	for (int i = 0; i < N; i++) {
		v[i] = (struct iovec){ buf[i], LEN };
		assert_int_equal(submit(blk, 0, &t[i], BLK_READ, (uint64_t)i * LEN, 0, &v[i], 1), 0);
	}
	blk_flush_queue(blk, 0);
	wait_for(N);
	dt = secs_since(t0);
	/* each waits 1/16 s (less the crumbs refilled meanwhile) */
	assert_true(dt >= 0.40);
	assert_true(dt < 3.0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(t[i].result, LEN);
		assert_int_equal(t[i].order, t[0].order + i);
	}
}

static void t_throttle_iops(void **state)
{
	enum { N = 12 };
	static uint8_t buf[N][4096];
	static struct iovec v[N];
	static struct treq t[N];
	struct blk *blk;
	uint64_t t0;
	double dt;

	/* 20/s with the default burst of 2: 10 wait 50 ms each */
	assert_int_equal(create("driver=file,node-name=f0,filename=%s,throttling.iops-total=20",
				img), 0);
	blk = attach("f0", 2, N);
	t0 = ratelimit_now_ns();
	for (int i = 0; i < N; i++) {
		v[i] = (struct iovec){ buf[i], 4096 };
		/* both queues share the node's limit */
		assert_int_equal(submit(blk, i & 1, &t[i], i % 3 ? BLK_READ : BLK_WRITE,
					(uint64_t)i * 4096, 0, &v[i], 1), 0);
	}
	blk_flush_queue(blk, 0);
	blk_flush_queue(blk, 1);
	wait_for(N);
	dt = secs_since(t0);
	assert_true(dt >= 0.45);
	assert_true(dt < 3.0);
	for (int i = 0; i < N; i++)
		assert_int_equal(t[i].result, 4096);
	/* flushes are not counted, but keep their place */
	t0 = ratelimit_now_ns();
	for (int i = 0; i < 5; i++)
		assert_int_equal(submit(blk, 0, &t[i], BLK_FLUSH, 0, 0, NULL, 0), 0);
	blk_flush_queue(blk, 0);
	wait_for(5);
	assert_true(secs_since(t0) < 0.04);
}

/* -read and -write limits: reads wait, writes do not (and mixes are fine). */
static void t_throttle_rw(void **state)
{
	enum { N = 8, LEN = 65536 };
	static uint8_t buf[N][LEN];
	static struct iovec v[N];
	static struct treq t[N];
	struct blk *blk;
	uint64_t t0;

	/* reads 1 MiB/s with a 1 MiB burst; writes 1000/s, bytes free */
	assert_int_equal(create("driver=file,node-name=f0,filename=%s,throttling.bps-read=1048576,"
				"throttling.bps-read-max=1048576,throttling.iops-write=1000",
				img), 0);
	blk = attach("f0", 1, N);
	
	for (int i = 0; i < N; i++)
		v[i] = (struct iovec){ buf[i], LEN };
	t0 = ratelimit_now_ns();
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++)
			assert_int_equal(submit(blk, 0, &t[i], BLK_WRITE, (uint64_t)i * LEN, 0,
						&v[i], 1), 0);
		blk_flush_queue(blk, 0);
		wait_for(N);
	}
	/* 24 writes, 1.5 MiB: not held back (100 writes of burst) */
	assert_true(secs_since(t0) < 0.35);
	t0 = ratelimit_now_ns();
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < N; i++)
			assert_int_equal(submit(blk, 0, &t[i], BLK_READ, (uint64_t)i * LEN, 0,
						&v[i], 1), 0);
		blk_flush_queue(blk, 0);
		wait_for(N);
		for (int i = 0; i < N; i++)
			assert_int_equal(t[i].result, LEN);
	}
	/* 32 reads, 2 MiB at 1 MiB/s after a 1 MiB burst: 1 s */
	assert_true(secs_since(t0) >= 0.9);
	assert_true(secs_since(t0) < 4.0);
}

/* A flush behind a throttled write completes after it. */
static void t_throttle_flush_order(void **state)
{
	static uint8_t big[256 * 1024], small[4096];
	struct iovec bv = { big, sizeof(big) }, sv = { small, sizeof(small) };
	struct treq w1, w2, f;
	struct blk *blk;
	uint64_t t0;

	assert_int_equal(create("driver=file,node-name=f0,filename=%s,"
				"throttling.bps-total=1048576", img), 0);
	blk = attach("f0", 1, 4);
	memset(small, 0x5c, sizeof(small));
	t0 = ratelimit_now_ns();
	assert_int_equal(submit(blk, 0, &w1, BLK_WRITE, 0, 0, &bv, 1), 0);
	assert_int_equal(submit(blk, 0, &w2, BLK_WRITE, 1 * MiB, 0, &sv, 1), 0);
	assert_int_equal(submit(blk, 0, &f, BLK_FLUSH, 0, 0, NULL, 0), 0);
	blk_flush_queue(blk, 0);
	wait_for(3);
	/* 256 KiB - 102 KiB of burst at 1 MiB/s: 150 ms */
	assert_true(secs_since(t0) >= 0.13);
	assert_int_equal(w1.result, (int)sizeof(big));
	assert_int_equal(w2.result, (int)sizeof(small));
	assert_int_equal(f.result, 0);
	assert_true(w2.order < f.order);
}

/* A reset drops what waits, once each, without I/O; new requests still run. */
static void t_throttle_drop(void **state)
{
	static uint8_t big[512 * 1024], back[2][4096];
	struct iovec bv = { big, sizeof(big) };
	struct iovec rv[2] = { { back[0], 4096 }, { back[1], 4096 } };
	struct treq w, r[2], again;
	unsigned batches0;
	struct blk *blk;
	uint64_t t0;

	assert_int_equal(create("driver=file,node-name=f0,filename=%s,"
				"throttling.bps-total=1048576", img), 0);
	blk = attach("f0", 1, 4);
	blk_drop_waiting(blk);		/* nothing waits: nothing happens */
	t0 = ratelimit_now_ns();
	assert_int_equal(submit(blk, 0, &w, BLK_WRITE, 0, 0, &bv, 1), 0);
	assert_int_equal(submit(blk, 0, &r[0], BLK_READ, 1 * MiB, 0, &rv[0], 1), 0);
	assert_int_equal(submit(blk, 0, &r[1], BLK_READ, 2 * MiB, 0, &rv[1], 1), 0);
	blk_flush_queue(blk, 0);
	memset(back, 0x11, sizeof(back));
	blk_drop_waiting(blk);
	assert_false(r[0].done);	/* never from inside the call */
	batches0 = batches;
	wait_for(3);
	/* long before the 400 ms the reads would have waited */
	assert_true(secs_since(t0) < 0.3);
	assert_true(batches > batches0);
	assert_int_equal(w.result, (int)sizeof(big));
	assert_int_equal(r[0].result, -ECANCELED);
	assert_int_equal(r[1].result, -ECANCELED);
	assert_int_equal(back[0][0], 0x11);
	assert_int_equal(back[1][4095], 0x11);
	/* the debt stays: the next read waits for it, then runs */
	assert_int_equal(run1(blk, BLK_READ, 3 * MiB, 0, &rv[0], 1), 4096);
	assert_true(secs_since(t0) >= 0.35);
	assert_int_equal(back[0][0], 0xaa);
	/* at detach, waiting requests are cancelled, each exactly once */
	assert_int_equal(submit(blk, 0, &w, BLK_WRITE, 0, 0, &bv, 1), 0);
	assert_int_equal(submit(blk, 0, &again, BLK_READ, 0, 0, &rv[1], 1), 0);
	blk_detach(blk);
	assert_true(again.done);
	assert_int_equal(again.result, -ECANCELED);
	assert_true(w.done);
}

/*
 * A machine reset's drain: every request on the ring runs to its end and
 * is called back inside blk_drain (no loop turn), throttled ones marked
 * by blk_drop_waiting are dropped without I/O; the node stays attached.
 */
static void t_drain(void **state)
{
	enum { N = 16 };
	static uint8_t buf[N][65536], back[4096];
	static struct iovec v[N];
	static struct treq t[N];
	struct iovec bv = { back, sizeof(back) };
	struct treq w;
	struct blk *blk;

	assert_int_equal(create("driver=file,node-name=f0,filename=%s", img), 0);
	blk = attach("f0", 1, N);
	for (int i = 0; i < N; i++) {
		v[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		memset(buf[i], 0x11, sizeof(buf[i]));
		assert_int_equal(submit(blk, 0, &t[i], BLK_READ, (uint64_t)i * 65536, 0,
					&v[i], 1), 0);
	}
	blk_flush_queue(blk, 0);
	blk_drain(blk);
	for (int i = 0; i < N; i++) {
		assert_true(t[i].done);
		assert_int_equal(t[i].result, 65536);
		assert_int_equal(buf[i][65535], 0xaa);	/* the read landed before the return */
	}
	assert_int_equal(run1(blk, BLK_FLUSH, 0, 0, NULL, 0), 0);
	blk_detach(blk);
	object_cleanup_all();

	/* Throttled and marked by the device's reset: dropped at once. */
	assert_int_equal(create("driver=file,node-name=f1,filename=%s,"
				"throttling.bps-total=4096", img), 0);
	blk = attach("f1", 1, 4);
	assert_int_equal(run1(blk, BLK_READ, 0, 0, &bv, 1), 4096);	/* the budget spent */
	memset(back, 0x11, sizeof(back));
	assert_int_equal(submit(blk, 0, &w, BLK_READ, 4096, 0, &bv, 1), 0);
	blk_flush_queue(blk, 0);
	blk_drop_waiting(blk);
	blk_drain(blk);
	assert_true(w.done);
	assert_int_equal(w.result, -ECANCELED);
	assert_int_equal(back[0], 0x11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_drain, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_roundtrip, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_direct, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_cache_modes, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_discard, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_discard_ignored, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_write_zeroes, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_write_zeroes_fallback, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_read_only, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_read_only_raw, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_bounds, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_many_in_flight, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_short_read, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_detach_pending, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_locking, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_errors, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_direct_unsupported, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_throttle_options, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_throttle_bps, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_throttle_iops, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_throttle_rw, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_throttle_flush_order, setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(t_throttle_drop, setup_test, teardown_test),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
