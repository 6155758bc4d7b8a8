/*
 * qcow2: images made by qemu-img and qemu-io (qemu-utils; scripts/deps),
 * read and written by ember through -blockdev nodes, then checked by
 * qemu-img check and qemu-img compare; hostile headers are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "backends/block.h"
#include "backends/block_internal.h"
#include "backends/object.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"

static char dir[256];
static struct loop *loop;

static void on_done(struct blk_req *r, int result)
{
	*(int *)r->opaque = result;
	loop_stop(loop, 0);
}

/* One request through the node's ring, run to completion. */
static int io_unmap(struct blk *b, enum blk_op op, void *buf, uint64_t len, uint64_t off,
		    bool unmap)
{
	struct iovec v = { buf, len };
	struct blk_req r = { .op = op, .offset = off, .len = len, .iov = &v, .iovcnt = 1,
			     .done = on_done, .unmap = unmap };
	int result = -EINPROGRESS, ret;

	r.opaque = &result;
	ret = blk_submit(b, 0, &r);
	if (ret)
		return ret;
	blk_flush_queue(b, 0);
	assert_int_equal(loop_run(loop), 0);
	return result;
}

static int io(struct blk *b, enum blk_op op, void *buf, uint64_t len, uint64_t off)
{
	return io_unmap(b, op, buf, len, off, false);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ret = system(cmd);
	return WIFEXITED(ret) ? WEXITSTATUS(ret) : -1;
}

#define SH(...) assert_int_equal(sh(__VA_ARGS__), 0)

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

/* A qcow2 node "q" over the image @name of the test folder. */
static struct blk *open_q(const char *name, const char *extra)
{
	struct blk *b;

	assert_int_equal(create("driver=qcow2,node-name=q,file.driver=file,"
				"file.filename=%s/%s%s", dir, name, extra), 0);
	b = blk_find("q");
	assert_non_null(b);
	assert_int_equal(blk_attach(b, "test", 1, 8), 0);
	return b;
}

static void close_all(void)
{
	object_cleanup_all();
}

static void assert_bytes(const uint8_t *p, uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			fail_msg("byte %zu is 0x%02x, not 0x%02x", i, p[i], v);
}

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	log_set_quiet(1);
	snprintf(dir, sizeof(dir), "%s/ember-qcow2-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	loop = loop_new();
	assert_non_null(loop);
	/* Not skipped: without qemu-img the test cannot show anything. */
	if (sh("qemu-img --version >/dev/null && qemu-io --version >/dev/null"))
		fail_msg("qemu-img and qemu-io are needed (scripts/deps build)");
	return 0;
}

static int teardown(void **state)
{
	close_all();
	loop_free(loop);
	SH("rm -rf '%s'", dir);
	return 0;
}

/* Patterns written by qemu-io read back, version 2 and 3. */
static void read_back(const char *compat)
{
	static uint8_t buf[192 * 1024];
	struct blk *b;

	SH("cd %s && qemu-img create -q -f qcow2 -o compat=%s a.qcow2 4M && "
	   "qemu-io -f qcow2 -c 'write -P 0xab 0 64k' -c 'write -P 0xcd 1M 4k' "
	   "a.qcow2 >/dev/null", dir, compat);
	b = open_q("a.qcow2", "");
	assert_int_equal(blk_size(b), 4 * MiB);
	assert_int_equal(io(b, BLK_READ, buf, sizeof(buf), 0), sizeof(buf));
	assert_bytes(buf, 0xab, 64 * 1024);
	assert_bytes(buf + 64 * 1024, 0, sizeof(buf) - 64 * 1024);
	assert_int_equal(io(b, BLK_READ, buf, 8192, 1 * MiB - 2048), 8192);
	assert_bytes(buf, 0, 2048);
	assert_bytes(buf + 2048, 0xcd, 4096);
	assert_bytes(buf + 6144, 0, 2048);
	assert_int_equal(io(b, BLK_READ, buf, 512, 4 * MiB - 256), -EINVAL);
	close_all();
}

static void t_read_v2(void **state)
{
	read_back("0.10");
}

static void t_read_v3(void **state)
{
	read_back("1.1");
}

/*
 * ember's writes, the same ones applied to a raw copy: qemu-img check
 * finds the image clean and qemu-img compare finds it equal. 512-byte
 * clusters make ember add L2 tables, refcount blocks and a bigger
 * refcount table.
 */
static void write_and_compare(const char *opts, uint64_t size, unsigned rounds,
			      uint64_t rt_off)
{
	static uint8_t buf[256 * 1024];
	char raw[300];
	struct blk *b;
	int fd;

	SH("cd %s && qemu-img create -q -f qcow2 -o %s w.qcow2 %llu && "
	   "qemu-io -f qcow2 -c 'write -P 0xab 0 64k' w.qcow2 >/dev/null && "
	   "qemu-img create -q -f raw w.raw %llu && "
	   "qemu-io -f raw -c 'write -P 0xab 0 64k' w.raw >/dev/null",
	   dir, opts, (unsigned long long)size, (unsigned long long)size);
	snprintf(raw, sizeof(raw), "%s/w.raw", dir);
	fd = open(raw, O_RDWR);
	assert_true(fd >= 0);
	/* Many small clusters: no fdatasync per cluster (the others sync). */
	b = open_q("w.qcow2", rt_off ? ",cache.no-flush=on,discard=unmap" : ",discard=unmap");
	for (unsigned i = 0; i < rounds; i++) {
		/* unaligned, over allocated and unallocated clusters, and whole runs */
		uint64_t off = 128 * 1024 + (i * 7919 * 613ull) % (size - 128 * 1024 - sizeof(buf));
		uint64_t len = i % 3 ? 1000 + i * 37 % 5000 : sizeof(buf);

		memset(buf, 0x10 + i, len);
		assert_int_equal(io(b, BLK_WRITE, buf, len, off), len);
		assert_int_equal(pwrite(fd, buf, len, off), len);
	}
	memset(buf, 0x77, 3000);
	assert_int_equal(io(b, BLK_WRITE, buf, 3000, 30000), 3000);	/* in place */
	assert_int_equal(pwrite(fd, buf, 3000, 30000), 3000);
	assert_int_equal(io(b, BLK_WRITE_ZEROES, NULL, 5000, 60000), 0);
	assert_int_equal(pwrite(fd, (uint8_t[5000]){ 0 }, 5000, 60000), 5000);
	/* zero flags over many L2 tables (small clusters), freeing what they held */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(io_unmap(b, BLK_WRITE_ZEROES, NULL, 200000, 150001, true), 0);
	assert_int_equal(pwrite(fd, buf, 200000, 150001), 200000);
	assert_int_equal(io(b, BLK_FLUSH, NULL, 0, 0), 0);
	memset(buf, 0, 4096);
	assert_int_equal(io(b, BLK_READ, buf, 4096, 30000 - 1000), 4096);
	assert_bytes(buf, 0xab, 1000);
	assert_bytes(buf + 1000, 0x77, 3000);
	close(fd);
	close_all();
	SH("cd %s && qemu-img check -q w.qcow2 && qemu-img compare -q w.qcow2 w.raw", dir);
	/* Where the refcount table is now: moved if it had to grow. */
	if (rt_off)
		SH("cd %s && qemu-img info --output=json w.qcow2 >/dev/null && test "
		   "$(od -An -tx1 -j48 -N8 w.qcow2 | tr -d ' \n') != %016llx", dir,
		   (unsigned long long)rt_off);
}

static void t_write_v3(void **state)
{
	write_and_compare("compat=1.1", 8 * MiB, 40, 0);
}

static void t_write_v2(void **state)
{
	write_and_compare("compat=0.10", 8 * MiB, 40, 0);
}

static void t_write_small_clusters(void **state)
{
	/* 512-byte clusters: a refcount table of one cluster covers 8 MiB */
	write_and_compare("compat=1.1,cluster_size=512", 24 * MiB, 150, 512);
}

static void t_backing_chain(void **state)
{
	static uint8_t buf[320 * 1024];
	struct stat before, after;
	char path[300];
	struct blk *b;

	SH("cd %s && qemu-img create -q -f qcow2 base.qcow2 1M && "
	   "qemu-io -f qcow2 -c 'write -P 0x11 0 64k' -c 'write -P 0x12 192k 64k' "
	   "base.qcow2 >/dev/null && "
	   "qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2 && "
	   "qemu-io -f qcow2 -c 'write -P 0x22 64k 64k' mid.qcow2 >/dev/null && "
	   "qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 && "
	   "qemu-io -f qcow2 -c 'write -P 0x33 128k 64k' top.qcow2 >/dev/null && "
	   "md5sum base.qcow2 mid.qcow2 > sums", dir);
	snprintf(path, sizeof(path), "%s/base.qcow2", dir);
	assert_int_equal(stat(path, &before), 0);
	b = open_q("top.qcow2", "");
	assert_int_equal(io(b, BLK_READ, buf, sizeof(buf), 0), sizeof(buf));
	assert_bytes(buf, 0x11, 64 * 1024);
	assert_bytes(buf + 64 * 1024, 0x22, 64 * 1024);
	assert_bytes(buf + 128 * 1024, 0x33, 64 * 1024);
	assert_bytes(buf + 192 * 1024, 0x12, 64 * 1024);
	assert_bytes(buf + 256 * 1024, 0, 64 * 1024);
	/* A partial write over the backing keeps the rest of the cluster. */
	memset(buf, 0x44, 4096);
	assert_int_equal(io(b, BLK_WRITE, buf, 4096, 32 * 1024), 4096);
	assert_int_equal(io(b, BLK_READ, buf, 64 * 1024, 0), 64 * 1024);
	assert_bytes(buf, 0x11, 32 * 1024);
	assert_bytes(buf + 32 * 1024, 0x44, 4096);
	assert_bytes(buf + 36 * 1024, 0x11, 28 * 1024);
	close_all();
	SH("cd %s && md5sum -c --quiet sums && qemu-img check -q top.qcow2 && "
	   "qemu-io -f qcow2 -c 'read -P 0x44 32k 4k' -c 'read -P 0x11 36k 28k' "
	   "-c 'read -P 0x12 192k 64k' top.qcow2 | grep -q 'read 28672'", dir);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_mtime, after.st_mtime);

	/* backing=null: what the top lacks reads as zeroes */
	b = open_q("top.qcow2", ",backing=null");
	assert_int_equal(io(b, BLK_READ, buf, 4096, 64 * 1024), 4096);
	assert_bytes(buf, 0, 4096);
	close_all();

	/* backing=NODE: a raw node below */
	SH("cd %s && qemu-img create -q -f raw r.raw 1M && "
	   "qemu-io -f raw -c 'write -P 0x55 0 1M' r.raw >/dev/null", dir);
	assert_int_equal(create("driver=file,node-name=rf,read-only=on,filename=%s/r.raw",
				dir), 0);
	b = open_q("mid.qcow2", ",backing=rf");
	assert_int_equal(io(b, BLK_READ, buf, 192 * 1024, 0), 192 * 1024);
	assert_bytes(buf, 0x55, 64 * 1024);
	assert_bytes(buf + 64 * 1024, 0x22, 64 * 1024);
	assert_bytes(buf + 128 * 1024, 0x55, 64 * 1024);
	close_all();

	/* backing=NODE: a qcow2 node below */
	assert_int_equal(create("driver=qcow2,node-name=bq,read-only=on,file.driver=file,"
				"file.filename=%s/base.qcow2", dir), 0);
	b = open_q("mid.qcow2", ",backing=bq");
	assert_int_equal(io(b, BLK_READ, buf, 256 * 1024, 0), 256 * 1024);
	assert_bytes(buf, 0x11, 64 * 1024);
	assert_bytes(buf + 64 * 1024, 0x22, 64 * 1024);
	assert_bytes(buf + 128 * 1024, 0, 64 * 1024);
	assert_bytes(buf + 192 * 1024, 0x12, 64 * 1024);
	close_all();
	assert_int_not_equal(create("driver=qcow2,node-name=q,file.driver=file,"
				    "file.filename=%s/top.qcow2,backing=nope", dir), 0);
	assert_non_null(strstr(log_last(), "backing=nope"));
}

static void t_backing_loop(void **state)
{
	SH("cd %s && qemu-img create -q -f qcow2 a.qcow2 1M && "
	   "qemu-img create -q -f qcow2 -b a.qcow2 -F qcow2 b.qcow2 && "
	   "qemu-img rebase -q -u -b b.qcow2 -F qcow2 a.qcow2", dir);
	assert_int_equal(create("driver=qcow2,node-name=q,file.driver=file,"
				"file.filename=%s/b.qcow2", dir), -ELOOP);
	assert_non_null(strstr(log_last(), "loops back"));
}

/* 16 images in a chain are read; a 17th is refused. */
static void t_backing_depth(void **state)
{
	uint8_t buf[512];
	struct blk *b;

	SH("cd %s && qemu-img create -q -f qcow2 i0.qcow2 1M && "
	   "qemu-io -f qcow2 -c 'write -P 0x5a 0 512' i0.qcow2 >/dev/null && "
	   "for i in $(seq 1 16); do qemu-img create -q -f qcow2 -b i$((i - 1)).qcow2 "
	   "-F qcow2 i$i.qcow2 || exit 1; done", dir);
	b = open_q("i15.qcow2", "");
	assert_int_equal(io(b, BLK_READ, buf, sizeof(buf), 0), sizeof(buf));
	assert_bytes(buf, 0x5a, sizeof(buf));
	close_all();
	assert_int_equal(create("driver=qcow2,node-name=q,file.driver=file,"
				"file.filename=%s/i16.qcow2", dir), -ELOOP);
	assert_non_null(strstr(log_last(), "backing chain deeper than 16 images"));
}

static void t_compressed(void **state)
{
	static uint8_t buf[256 * 1024], want[256 * 1024];
	struct blk *b;
	int fd;
	char raw[300];

	SH("cd %s && qemu-img create -q -f raw c.raw 1M && "
	   "qemu-io -f raw -c 'write -P 0x61 0 100k' -c 'write -P 0x62 300k 10k' c.raw "
	   ">/dev/null && qemu-img convert -c -O qcow2 c.raw c.qcow2 && "
	   "qemu-img map --output=json c.qcow2 > map && grep -q '\"data\": true' map && "
	   "! grep -q offset map", dir);	/* compressed clusters have no offset */
	snprintf(raw, sizeof(raw), "%s/c.raw", dir);
	fd = open(raw, O_RDWR);
	assert_true(fd >= 0);
	b = open_q("c.qcow2", "");
	assert_int_equal(io(b, BLK_READ, buf, sizeof(buf), 0), sizeof(buf));
	assert_int_equal(pread(fd, want, sizeof(want), 0), sizeof(want));
	assert_memory_equal(buf, want, sizeof(buf));
	assert_int_equal(io(b, BLK_READ, buf, 20000, 295 * 1024), 20000);
	assert_int_equal(pread(fd, want, 20000, 295 * 1024), 20000);
	assert_memory_equal(buf, want, 20000);
	/* A write into a compressed cluster: a new cluster, the old one freed. */
	memset(buf, 0x63, 3000);
	assert_int_equal(io(b, BLK_WRITE, buf, 3000, 70000), 3000);
	assert_int_equal(pwrite(fd, buf, 3000, 70000), 3000);
	close(fd);
	close_all();
	SH("cd %s && qemu-img check -q c.qcow2 && qemu-img compare -q c.qcow2 c.raw", dir);
}

/* A v3 image with the header field at @off set to @v (@width bytes, big-endian). */
static void patched(const char *name, unsigned off, uint64_t v, unsigned width)
{
	char path[300];
	uint8_t b[8];
	int fd;

	SH("cd %s && rm -f %s && qemu-img create -q -f qcow2 %s 1M && "
	   "qemu-io -f qcow2 -c 'write -P 0xab 0 4k' %s >/dev/null", dir, name, name, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	for (unsigned i = 0; i < width; i++)
		b[i] = v >> (8 * (width - 1 - i));
	assert_int_equal(pwrite(fd, b, width, off), width);
	close(fd);
}

static void refused(const char *extra, int err, const char *msg)
{
	int ret = create("driver=qcow2,node-name=q,file.driver=file,file.filename=%s/h.qcow2%s",
			 dir, extra);

	if (ret != err || !strstr(log_last(), msg) || !strstr(log_last(), "h.qcow2"))
		fail_msg("got %d '%s', want %d '%s'", ret, log_last(), err, msg);
	assert_null(blk_find("q"));
}

static void t_refused(void **state)
{
	uint8_t buf[4096];
	struct blk *b;

	patched("h.qcow2", 32, 1, 4);
	refused("", -ENOTSUP, "is encrypted");
	patched("h.qcow2", 72, 1ull << 10, 8);
	refused("", -ENOTSUP, "unsupported incompatible feature unknown (bit 10)");
	patched("h.qcow2", 72, 1ull << 2, 8);
	refused("", -ENOTSUP, "external data file' (bit 2)");
	patched("h.qcow2", 72, 1ull << 4, 8);
	refused("", -ENOTSUP, "extended L2 entries");
	patched("h.qcow2", 20, 8, 4);
	refused("", -EINVAL, "cluster_bits 8 is out of range (9..21)");
	patched("h.qcow2", 20, 22, 4);
	refused("", -EINVAL, "cluster_bits 22 is out of range");
	patched("h.qcow2", 40, 0x10000000, 8);
	refused("", -EINVAL, "L1 table (offset 0x10000000, 8 bytes) is unaligned or past "
		"the end of the file");
	patched("h.qcow2", 40, 0, 8);	/* over the header */
	refused("", -EINVAL, "is unaligned or past the end");
	patched("h.qcow2", 48, 0x30000, 8);	/* the refcount table on the L1 table */
	refused("", -EINVAL, "overlap");
	patched("h.qcow2", 36, 0x20000000, 4);
	refused("", -EFBIG, "L1 table of 536870912 entries is too large");
	patched("h.qcow2", 24, 1ull << 62, 8);
	refused("", -EINVAL, "too small");
	patched("h.qcow2", 4, 4, 4);
	refused("", -ENOTSUP, "qcow2 version 4");
	patched("h.qcow2", 0, 0x12345678, 4);
	refused("", -EINVAL, "not a qcow2 image");
	/* zstd: the feature bit and the compression type byte */
	patched("h.qcow2", 72, 1ull << 3, 8);
	SH("printf '\\001' | dd of=%s/h.qcow2 bs=1 seek=104 conv=notrunc status=none", dir);
	refused("", -ENOTSUP, "compression type zstd is not supported");

	patched("h.qcow2", 72, 1ull << 1, 8);
	refused("", -EUCLEAN, "the image is marked corrupt");
	SH("cd %s && rm h.qcow2 && qemu-img create -q -f qcow2 h.qcow2 1M && "
	   "qemu-img snapshot -c s1 h.qcow2", dir);
	refused("", -ENOTSUP, "has 1 internal snapshots");
	SH("cd %s && rm h.qcow2 && qemu-img create -q -f qcow2 -o refcount_bits=4 h.qcow2 1M",
	   dir);
	refused("", -ENOTSUP, "refcount_order 2");
	/* Autoclear bits go on a writable open. */
	patched("h.qcow2", 88, 1ull << 5, 8);
	b = open_q("h.qcow2", "");
	close_all();
	SH("test $(od -An -tx1 -j88 -N8 %s/h.qcow2 | tr -d ' \n') = 0000000000000000", dir);

	/* The dirty bit: refused for writing, readable read-only. */
	patched("h.qcow2", 72, 1, 8);
	refused("", -EUCLEAN, "the dirty bit is set");
	assert_non_null(strstr(log_last(), "qemu-img check -r all"));
	b = open_q("h.qcow2", ",read-only=on");
	assert_int_equal(io(b, BLK_READ, buf, sizeof(buf), 0), sizeof(buf));
	assert_bytes(buf, 0xab, sizeof(buf));
	close_all();
}

/* Hostile tables found while reading: -EIO and a message, never a crash. */
static void t_hostile_tables(void **state)
{
	uint8_t buf[4096];
	struct blk *b;
	uint64_t l1;
	char path[300];
	int fd;

	patched("h.qcow2", 60, 0, 4);	/* a harmless field: a plain image */
	snprintf(path, sizeof(path), "%s/h.qcow2", dir);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	l1 = htobe64(0x8000000000000000ull | 0x7f0000000ull);	/* L2 past the end */
	assert_int_equal(pwrite(fd, &l1, 8, 0x30000), 8);
	close(fd);
	b = open_q("h.qcow2", "");
	assert_int_equal(io(b, BLK_READ, buf, sizeof(buf), 0), -EIO);
	assert_non_null(strstr(log_last(), "L2 table offset"));
	assert_int_equal(io(b, BLK_WRITE, buf, sizeof(buf), 0), -EIO);
	close_all();
}

/*
 * qemu-img map of @img over [@off, @off + @len): every extent there has
 * "data" @data and "zero" @zero (-1: either).
 */
static void assert_map(const char *img, uint64_t off, uint64_t len, int data, int zero)
{
	char cmd[600], line[512];
	unsigned seen = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "qemu-img map --output=json '%s/%s'", dir, img);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *ps = strstr(line, "\"start\":"), *pl = strstr(line, "\"length\":");
		uint64_t st, ln;

		if (!ps || !pl)
			continue;
		st = strtoull(ps + 8, NULL, 10);
		ln = strtoull(pl + 9, NULL, 10);
		if (st >= off + len || st + ln <= off)
			continue;
		seen++;
		if (data >= 0 && !strstr(line, data ? "\"data\": true" : "\"data\": false"))
			fail_msg("%s: not \"data\": %s: %s", img, data ? "true" : "false", line);
		if (zero >= 0 && !strstr(line, zero ? "\"zero\": true" : "\"zero\": false"))
			fail_msg("%s: not \"zero\": %s: %s", img, zero ? "true" : "false", line);
	}
	assert_int_equal(pclose(f), 0);
	assert_true(seen > 0);
}

/* The data clusters qemu-img check counts in @img, which it must find clean. */
static long allocated(const char *img)
{
	char cmd[600], line[512];
	bool checked = false;
	long n = 0;	/* qemu-img leaves out a count of 0 */
	FILE *f;

	snprintf(cmd, sizeof(cmd), "qemu-img check --output=json '%s/%s'", dir, img);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "\"allocated-clusters\":"))
			n = strtol(strchr(line, ':') + 1, NULL, 10);
		checked |= !!strstr(line, "\"check-errors\": 0");
	}
	assert_int_equal(pclose(f), 0);
	assert_true(checked);
	return n;
}

/* Bytes the file of @img takes on the disk. */
static uint64_t disk_bytes(const char *img)
{
	char path[300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, img);
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* qemu-io reads @pat over [@off, @off + @len) of @img. */
static void qemu_reads(const char *img, int pat, uint64_t off, uint64_t len)
{
	SH("cd %s && qemu-io -f qcow2 -c 'read -P %d %llu %llu' %s > io.out; "
	   "grep -q '^read %llu/' io.out && ! grep -q 'verification failed' io.out", dir, pat,
	   (unsigned long long)off, (unsigned long long)len, img, (unsigned long long)len);
}

/*
 * A discard on a discard=unmap node frees the whole clusters it covers:
 * the L2 entries get the zero flag (version 3, as QEMU), the refcounts
 * drop, the file gets holes; the parts of clusters at its ends are kept.
 */
static void t_discard(void **state)
{
	static uint8_t buf[1024 * 1024];
	uint64_t before;
	long n;
	struct blk *b;

	SH("cd %s && qemu-img create -q -f qcow2 d.qcow2 4M && "
	   "qemu-io -f qcow2 -c 'write -P 0xab 0 1M' d.qcow2 >/dev/null", dir);
	n = allocated("d.qcow2");
	assert_int_equal(n, 16);
	before = disk_bytes("d.qcow2");
	b = open_q("d.qcow2", ",discard=unmap");
	assert_true(blk_discard_supported(b));
	/* clusters 1..7 whole; 32k..64k and 512k..544k are parts */
	assert_int_equal(io(b, BLK_DISCARD, NULL, 512 * 1024, 32 * 1024), 0);
	assert_int_equal(io(b, BLK_READ, buf, sizeof(buf), 0), sizeof(buf));
	assert_bytes(buf, 0xab, 64 * 1024);
	assert_bytes(buf + 64 * 1024, 0, 448 * 1024);
	assert_bytes(buf + 512 * 1024, 0xab, 512 * 1024);
	/* unallocated clusters: nothing to do, no L2 table made */
	assert_int_equal(io(b, BLK_DISCARD, NULL, 3 * MiB, 1 * MiB), 0);
	close_all();
	assert_int_equal(allocated("d.qcow2"), n - 7);
	assert_true(disk_bytes("d.qcow2") <= before - 7 * 64 * 1024);
	assert_map("d.qcow2", 64 * 1024, 448 * 1024, 0, 1);
	assert_map("d.qcow2", 0, 64 * 1024, 1, 0);
	assert_map("d.qcow2", 512 * 1024, 512 * 1024, 1, 0);
	qemu_reads("d.qcow2", 0, 64 * 1024, 448 * 1024);
	qemu_reads("d.qcow2", 0xab, 512 * 1024, 512 * 1024);

	/* a write after it takes a new cluster */
	b = open_q("d.qcow2", ",discard=unmap");
	memset(buf, 0x5a, 4096);
	assert_int_equal(io(b, BLK_WRITE, buf, 4096, 100 * 1024), 4096);
	close_all();
	assert_int_equal(allocated("d.qcow2"), n - 6);
	qemu_reads("d.qcow2", 0x5a, 100 * 1024, 4096);
	qemu_reads("d.qcow2", 0, 64 * 1024, 36 * 1024);

	/* without discard=unmap a discard is ignored, as in QEMU */
	b = open_q("d.qcow2", "");
	assert_false(blk_discard_supported(b));
	assert_int_equal(io(b, BLK_DISCARD, NULL, 512 * 1024, 512 * 1024), 0);
	close_all();
	assert_int_equal(allocated("d.qcow2"), n - 6);
	qemu_reads("d.qcow2", 0xab, 512 * 1024, 512 * 1024);
}

/*
 * Over a backing image a discard makes version 3 read zeroes (zero
 * flags) and version 2 read the backing (no entries), as QEMU does.
 */
static void discard_backing(const char *compat, int pat)
{
	static uint8_t buf[256 * 1024];
	struct blk *b;

	SH("cd %s && qemu-img create -q -f qcow2 base.qcow2 1M && "
	   "qemu-io -f qcow2 -c 'write -P 0xcd 0 256k' base.qcow2 >/dev/null && "
	   "qemu-img create -q -f qcow2 -o compat=%s -b base.qcow2 -F qcow2 top.qcow2 && "
	   "qemu-io -f qcow2 -c 'write -P 0xab 0 128k' top.qcow2 >/dev/null", dir, compat);
	assert_int_equal(allocated("top.qcow2"), 2);
	b = open_q("top.qcow2", ",discard=unmap");
	assert_int_equal(io(b, BLK_DISCARD, NULL, sizeof(buf), 0), 0);
	assert_int_equal(io(b, BLK_READ, buf, sizeof(buf), 0), sizeof(buf));
	assert_bytes(buf, pat, sizeof(buf));
	close_all();
	assert_int_equal(allocated("top.qcow2"), 0);
	qemu_reads("top.qcow2", pat, 0, sizeof(buf));
}

static void t_discard_backing_v3(void **state)
{
	discard_backing("1.1", 0);
	assert_map("top.qcow2", 0, 256 * 1024, 0, 1);
}

static void t_discard_backing_v2(void **state)
{
	discard_backing("0.10", 0xcd);
}

/*
 * Write-zeroes on version 3: whole clusters get the zero flag, keeping
 * their data cluster, or freeing it when the request may unmap and the
 * node has discard=unmap; parts of clusters are written with zeroes.
 */
static void t_write_zeroes_v3(void **state)
{
	static uint8_t buf[1024 * 1024];
	struct blk *b;

	SH("cd %s && qemu-img create -q -f qcow2 z.qcow2 4M && "
	   "qemu-io -f qcow2 -c 'write -P 0xab 0 1M' z.qcow2 >/dev/null", dir);
	b = open_q("z.qcow2", "");
	assert_int_equal(io_unmap(b, BLK_WRITE_ZEROES, NULL, 256 * 1024, 32 * 1024, true), 0);
	/* the zero flag already: nothing written; unallocated parts: nothing */
	assert_int_equal(io(b, BLK_WRITE_ZEROES, NULL, 64 * 1024, 128 * 1024), 0);
	assert_int_equal(io(b, BLK_WRITE_ZEROES, NULL, 8192, 1 * MiB + 4096), 0);
	assert_int_equal(io(b, BLK_READ, buf, sizeof(buf), 0), sizeof(buf));
	assert_bytes(buf, 0xab, 32 * 1024);
	assert_bytes(buf + 32 * 1024, 0, 256 * 1024);
	assert_bytes(buf + 288 * 1024, 0xab, 736 * 1024);
	close_all();
	/* without discard=unmap the clusters stay, flagged zero */
	assert_int_equal(allocated("z.qcow2"), 16);
	assert_map("z.qcow2", 64 * 1024, 192 * 1024, 0, 1);
	assert_map("z.qcow2", 0, 64 * 1024, 1, 0);
	assert_map("z.qcow2", 256 * 1024, 64 * 1024, 1, 0);
	assert_map("z.qcow2", 1 * MiB, 3 * MiB, 0, 1);
	qemu_reads("z.qcow2", 0, 32 * 1024, 256 * 1024);
	qemu_reads("z.qcow2", 0xab, 288 * 1024, 736 * 1024);

	b = open_q("z.qcow2", ",discard=unmap");
	/* may unmap: freed, including the flagged ones */
	assert_int_equal(io_unmap(b, BLK_WRITE_ZEROES, NULL, 512 * 1024, 64 * 1024, true), 0);
	/* may not: kept */
	assert_int_equal(io(b, BLK_WRITE_ZEROES, NULL, 64 * 1024, 768 * 1024), 0);
	close_all();
	assert_int_equal(allocated("z.qcow2"), 16 - 8);
	assert_map("z.qcow2", 64 * 1024, 512 * 1024, 0, 1);
	assert_map("z.qcow2", 768 * 1024, 64 * 1024, 0, 1);
	qemu_reads("z.qcow2", 0, 32 * 1024, 544 * 1024);
	qemu_reads("z.qcow2", 0xab, 576 * 1024, 192 * 1024);
	qemu_reads("z.qcow2", 0, 768 * 1024, 64 * 1024);
	qemu_reads("z.qcow2", 0xab, 832 * 1024, 192 * 1024);

	/* a write over a flagged cluster that kept its data cluster */
	b = open_q("z.qcow2", "");
	memset(buf, 0x5a, 512);
	assert_int_equal(io(b, BLK_WRITE, buf, 512, 768 * 1024 + 512), 512);
	close_all();
	assert_int_equal(allocated("z.qcow2"), 16 - 8);
	qemu_reads("z.qcow2", 0, 768 * 1024, 512);
	qemu_reads("z.qcow2", 0x5a, 768 * 1024 + 512, 512);
	qemu_reads("z.qcow2", 0, 768 * 1024 + 1024, 63 * 1024);
}

/* Version 2 has no zero flag: zeroes are written, as QEMU does. */
static void t_write_zeroes_v2(void **state)
{
	struct blk *b;

	SH("cd %s && qemu-img create -q -f qcow2 -o compat=0.10 z.qcow2 4M && "
	   "qemu-io -f qcow2 -c 'write -P 0xab 0 1M' z.qcow2 >/dev/null", dir);
	b = open_q("z.qcow2", ",discard=unmap");
	assert_int_equal(io_unmap(b, BLK_WRITE_ZEROES, NULL, 256 * 1024, 32 * 1024, true), 0);
	close_all();
	assert_int_equal(allocated("z.qcow2"), 16);
	assert_map("z.qcow2", 0, 1 * MiB, 1, 0);
	qemu_reads("z.qcow2", 0xab, 0, 32 * 1024);
	qemu_reads("z.qcow2", 0, 32 * 1024, 256 * 1024);
	qemu_reads("z.qcow2", 0xab, 288 * 1024, 736 * 1024);
}

/* An L2 entry pointing at the L1 table: a discard fails, nothing is punched. */
static void t_discard_hostile(void **state)
{
	uint64_t l1_off, l2_off, e;
	char path[300];
	struct blk *b;
	int fd;

	SH("cd %s && qemu-img create -q -f qcow2 h.qcow2 4M && "
	   "qemu-io -f qcow2 -c 'write -P 0xab 0 128k' h.qcow2 >/dev/null", dir);
	snprintf(path, sizeof(path), "%s/h.qcow2", dir);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &l1_off, 8, 40), 8);
	l1_off = be64toh(l1_off);
	assert_int_equal(pread(fd, &l2_off, 8, l1_off), 8);
	l2_off = be64toh(l2_off) & 0x00fffffffffffe00ull;
	e = htobe64(0x8000000000000000ull | l1_off);
	assert_int_equal(pwrite(fd, &e, 8, l2_off + 8), 8);
	b = open_q("h.qcow2", ",discard=unmap");
	assert_int_equal(io(b, BLK_DISCARD, NULL, 128 * 1024, 0), -EIO);
	assert_non_null(strstr(log_last(), "overlaps metadata"));
	close_all();
	assert_int_equal(pread(fd, &e, 8, l1_off), 8);
	assert_int_equal(be64toh(e) & 0x00fffffffffffe00ull, l2_off);
	close(fd);
}

static int fault(void)
{
	return -EIO;
}

/*
 * A crash between the L2 entries and the refcounts of a discard: the
 * entries are on the disk, the clusters only leak (qemu-img check exits 3,
 * "leaked clusters", no errors), and -r leaks repairs it.
 */
static void t_discard_crash(void **state)
{
	struct blk *b;

	SH("cd %s && qemu-img create -q -f qcow2 c.qcow2 4M && "
	   "qemu-io -f qcow2 -c 'write -P 0xab 0 1M' c.qcow2 >/dev/null", dir);
	b = open_q("c.qcow2", ",discard=unmap");
	qcow2_test_fault = fault;
	assert_int_equal(io(b, BLK_DISCARD, NULL, 1 * MiB, 0), -EIO);
	qcow2_test_fault = NULL;
	close_all();
	assert_int_equal(sh("cd %s && qemu-img check c.qcow2 > check.out", dir), 3);
	SH("cd %s && grep -q '16 leaked clusters' check.out && ! grep -qi error check.out", dir);
	qemu_reads("c.qcow2", 0, 0, 1 * MiB);
	SH("cd %s && qemu-img check -q -r leaks c.qcow2 && qemu-img check -q c.qcow2", dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_read_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(t_read_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(t_write_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(t_write_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(t_write_small_clusters, setup, teardown),
		cmocka_unit_test_setup_teardown(t_backing_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(t_backing_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(t_backing_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(t_compressed, setup, teardown),
		cmocka_unit_test_setup_teardown(t_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hostile_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(t_discard, setup, teardown),
		cmocka_unit_test_setup_teardown(t_discard_backing_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(t_discard_backing_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(t_write_zeroes_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(t_write_zeroes_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(t_discard_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(t_discard_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
