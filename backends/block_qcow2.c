/*
 * driver=qcow2: QEMU's image format (versions 2 and 3) over a file node:
 * header checks, L1/L2 lookup with a small L2 cache, zlib-compressed
 * clusters, backing chains, and writes that allocate clusters in the order
 * data, refcounts, L2, L1, so that a crash leaks clusters at worst.
 * Each read, write and flush goes through the image's own io_uring, but
 * the loop thread waits for it (docs/cli.md says so); block_io.c then
 * completes the request through the front end's ring.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <liburing.h>
#include <zlib.h>

#include "backends/block_internal.h"
#include "lib/log.h"
#include "lib/util.h"

#define QCOW2_MAGIC		0x514649fbu
#define OFFSET_MASK		0x00fffffffffffe00ull	/* L1 and L2 entries */
#define RT_OFFSET_MASK		0xfffffffffffffe00ull
#define FLAG_COPIED		(1ull << 63)
#define FLAG_COMPRESSED		(1ull << 62)
#define FLAG_ZERO		1ull
#define MIN_CLUSTER_BITS	9
#define MAX_CLUSTER_BITS	21
#define MAX_L1_BYTES		(32 * MiB)	/* QEMU's limits */
#define MAX_RT_BYTES		(8 * MiB)
#define MAX_BACKING_NAME	1023

/* Incompatible feature bits. */
#define INC_DIRTY		(1ull << 0)
#define INC_CORRUPT		(1ull << 1)
#define INC_DATA_FILE		(1ull << 2)
#define INC_COMPRESSION		(1ull << 3)
#define INC_EXTL2		(1ull << 4)

#define EXT_BACKING_FORMAT	0xe2792acau
#define EXT_FEATURE_NAMES	0x6803f857u

#define NL2			8	/* L2 tables cached */
#define NRB			4	/* refcount blocks cached */

struct cslot {
	uint64_t off;		/* 0: empty (no table lives in the header cluster) */
	uint64_t used;
	uint8_t *buf;
};

struct qcow2 {
	char *name;		/* the image, for messages */
	int fd;
	bool own_fd;		/* a backing file we opened */
	bool ro, no_flush;
	bool discard;		/* discard=unmap: free clusters, punch the file */
	uint64_t rc_left;	/* the refcount rc_update left */
	unsigned version, cluster_bits, l2_bits, refcount_order;
	uint64_t cs;		/* cluster size */
	uint64_t size;		/* virtual */
	uint64_t end;		/* of the host file, growing as clusters are added */
	uint64_t l1_off;
	uint32_t l1_size;
	uint64_t *l1;		/* host order */
	uint64_t rt_off;
	uint32_t rt_clusters;
	uint64_t rt_n;
	uint64_t *rt;		/* host order */
	bool rt_moving;		/* growing the refcount table: entries in memory only */
	bool said;		/* corrupt() spoke */
	struct cslot l2c[NL2], rbc[NRB];
	uint64_t tick;
	uint8_t *dbuf, *cbuf, *zbuf, *zero;
	uint64_t zoff;		/* host offset of the compressed cluster in zbuf, or 0 */
	z_stream z;
	bool z_ok;
	struct io_uring ring;
	bool ring_ok;
	/* The backing image: a qcow2 one, or raw through bfd, or none. */
	struct qcow2 *bq;
	bool own_bq;
	int bfd;
	bool own_bfd;
	uint64_t bsize;
};

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

/* A metadata problem met during I/O: said once per image, then -EIO. */
static int corrupt(struct qcow2 *q, const char *what, uint64_t off)
{
	if (!q->said) {
		q->said = true;
		err_msg("qcow2 image %s is corrupt: %s (offset 0x%" PRIx64 "); run "
			"'qemu-img check' on it", q->name, what, off);
	}
	return -EIO;
}

/* One step on the image's ring, waited for: bytes or -errno. */
static int ring_io(struct qcow2 *q, int op, int fd, void *buf, uint64_t len, uint64_t off)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	if (op == IORING_OP_READ)
		io_uring_prep_read(sqe, fd, buf, MIN(len, (uint64_t)1 << 30), off);
	else if (op == IORING_OP_WRITE)
		io_uring_prep_write(sqe, fd, buf, MIN(len, (uint64_t)1 << 30), off);
	else if (op == IORING_OP_FALLOCATE)
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					off, len);
	else
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	do
		ret = io_uring_submit_and_wait(&q->ring, 1);
	while (ret == -EINTR);
	if (ret < 0)
		return ret;
	do
		ret = io_uring_wait_cqe(&q->ring, &cqe);
	while (ret == -EINTR);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(&q->ring, cqe);
	return ret;
}

static int pread_all(struct qcow2 *q, int fd, void *buf, uint64_t len, uint64_t off,
		     uint64_t *got)
{
	uint64_t done = 0;

	while (done < len) {
		int n = ring_io(q, IORING_OP_READ, fd, (uint8_t *)buf + done, len - done,
				off + done);

		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += n;
	}
	if (got)
		*got = done;
	return 0;
}

/* Reads @len bytes; what lies past the end of the file reads as zeroes. */
static int pread_zero(struct qcow2 *q, int fd, void *buf, uint64_t len, uint64_t off)
{
	uint64_t got = 0;
	int ret = pread_all(q, fd, buf, len, off, &got);

	if (!ret && got < len)
		memset((uint8_t *)buf + got, 0, len - got);
	return ret;
}

static int pwrite_all(struct qcow2 *q, const void *buf, uint64_t len, uint64_t off)
{
	uint64_t done = 0;

	while (done < len) {
		int n = ring_io(q, IORING_OP_WRITE, q->fd, (uint8_t *)buf + done, len - done,
				off + done);

		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n <= 0)
			return n < 0 ? n : -EIO;
		done += n;
	}
	if (off + len > q->end)
		q->end = off + len;
	return 0;
}

static int put_be64(struct qcow2 *q, uint64_t v, uint64_t off)
{
	v = htobe64(v);
	return pwrite_all(q, &v, 8, off);
}

static int sync_file(struct qcow2 *q)
{
	if (q->no_flush)
		return 0;
	int ret = ring_io(q, IORING_OP_FSYNC, q->fd, NULL, 0, 0);

	return ret < 0 ? ret : 0;
}

/* A table of one cluster at @off must be aligned and inside the file. */
static bool table_ok(const struct qcow2 *q, uint64_t off)
{
	return off && !(off & (q->cs - 1)) && off <= q->end && q->cs <= q->end - off;
}

/* The cached cluster at @off, read in if missing (@fill: else zeroed). */
static uint8_t *cache_get(struct qcow2 *q, struct cslot *c, unsigned n, uint64_t off,
			  bool fill, int *err)
{
	struct cslot *victim = &c[0];

	for (unsigned i = 0; i < n; i++) {
		if (c[i].off == off) {
			c[i].used = ++q->tick;
			return c[i].buf;
		}
		if (c[i].used < victim->used)
			victim = &c[i];
	}
	victim->off = 0;
	if (fill) {
		*err = pread_zero(q, q->fd, victim->buf, q->cs, off);
		if (*err)
			return NULL;
	} else {
		memset(victim->buf, 0, q->cs);
	}
	victim->off = off;
	victim->used = ++q->tick;
	return victim->buf;
}

/* Entry @l2i of the L2 table at @l2off, in the cache. */
static uint8_t *l2_entry(struct qcow2 *q, uint64_t l2off, uint64_t l2i, int *err)
{
	uint8_t *t = cache_get(q, q->l2c, NL2, l2off, true, err);

	return t ? t + l2i * 8 : NULL;
}

/* ---- reads ---- */

static int backing_read(struct qcow2 *q, uint8_t *buf, uint64_t len, uint64_t off);

static int read_compressed(struct qcow2 *q, uint64_t e, uint8_t *out, uint64_t in,
			   uint64_t len)
{
	unsigned x = 62 - (q->cluster_bits - 8);
	uint64_t coff = e & ((1ull << x) - 1);
	uint64_t sectors = ((e >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
	uint64_t csize = sectors * 512 - (coff & 511);
	int ret;

	if (q->zoff != coff || !coff) {
		q->zoff = 0;
		if (!coff || coff >= q->end)
			return corrupt(q, "compressed cluster past the end of the file", coff);
		ret = pread_zero(q, q->fd, q->cbuf, MIN(csize, 2 * q->cs), coff);
		if (ret)
			return ret;
		if (!q->z_ok) {
			if (inflateInit2(&q->z, -12) != Z_OK)
				return -ENOMEM;
			q->z_ok = true;
		}
		inflateReset(&q->z);
		q->z.next_in = q->cbuf;
		q->z.avail_in = MIN(csize, 2 * q->cs);
		q->z.next_out = q->zbuf;
		q->z.avail_out = q->cs;
		ret = inflate(&q->z, Z_FINISH);
		if ((ret != Z_STREAM_END && ret != Z_BUF_ERROR) || q->z.avail_out)
			return corrupt(q, "compressed cluster does not inflate", coff);
		q->zoff = coff;
	}
	memcpy(out, q->zbuf + in, len);
	return 0;
}

/* The L2 entry of the cluster holding @off; 0 where there is no L2 table. */
static int entry_of(struct qcow2 *q, uint64_t off, uint64_t *e)
{
	uint64_t l1i = off >> (q->cluster_bits + q->l2_bits);
	uint64_t l2i = (off >> q->cluster_bits) & ((1ull << q->l2_bits) - 1);
	uint64_t l2off = l1i < q->l1_size ? q->l1[l1i] & OFFSET_MASK : 0;
	uint8_t *t;
	int ret = 0;

	*e = 0;
	if (!l2off)
		return 0;
	if (!table_ok(q, l2off))
		return corrupt(q, "L2 table offset unaligned or past the end", l2off);
	t = l2_entry(q, l2off, l2i, &ret);
	if (!t)
		return ret;
	*e = be64_at(t);
	return 0;
}

/* @len bytes at @off, inside one cluster. */
static int read_chunk(struct qcow2 *q, uint8_t *buf, uint64_t len, uint64_t off)
{
	uint64_t in = off & (q->cs - 1), e, host;
	int ret = entry_of(q, off, &e);

	if (ret)
		return ret;
	if (e & FLAG_COMPRESSED)
		return read_compressed(q, e, buf, in, len);
	if (q->version >= 3 && e & FLAG_ZERO) {
		memset(buf, 0, len);
		return 0;
	}
	host = e & OFFSET_MASK;
	if (!host)
		return backing_read(q, buf, len, off);
	if (host & (q->cs - 1))
		return corrupt(q, "data cluster offset unaligned", host);
	return pread_zero(q, q->fd, buf, len, host + in);
}

int qcow2_read(struct qcow2 *q, void *buf, uint64_t len, uint64_t off)
{
	uint8_t *p = buf;

	if (off > q->size || len > q->size - off)
		return -EINVAL;
	while (len) {
		uint64_t n = MIN(len, q->cs - (off & (q->cs - 1)));
		int ret = read_chunk(q, p, n, off);

		if (ret)
			return ret;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* The backing image's bytes; zeroes past its end, or with none. */
static int backing_read(struct qcow2 *q, uint8_t *buf, uint64_t len, uint64_t off)
{
	uint64_t have = off < q->bsize ? MIN(len, q->bsize - off) : 0;
	int ret = 0;

	if (have && q->bq)
		ret = qcow2_read(q->bq, buf, have, off);
	else if (have)
		ret = pread_zero(q, q->bfd, buf, have, off);
	memset(buf + have, 0, len - have);
	return ret;
}

/* ---- refcounts ---- */

static int grow_rt(struct qcow2 *q, uint64_t need);

static int rc_update(struct qcow2 *q, uint64_t host, int delta, unsigned depth);

/* A new refcount block for table index @ti, at the end of the file. */
static int alloc_refblock(struct qcow2 *q, uint64_t ti, unsigned depth)
{
	unsigned bytes = 1u << (q->refcount_order - 3);
	uint64_t epb = q->cs / bytes, b = q->end = ALIGN_UP(q->end, q->cs);
	uint8_t *blk;
	int ret = 0;

	blk = cache_get(q, q->rbc, NRB, b, false, &ret);
	if ((b >> q->cluster_bits) / epb == ti)	/* it counts itself */
		blk[((b >> q->cluster_bits) % epb) * bytes + bytes - 1] = 1;
	ret = pwrite_all(q, blk, q->cs, b);
	if (!ret)
		ret = sync_file(q);
	if (ret)
		return ret;
	q->rt[ti] = b;
	if (!q->rt_moving)
		ret = put_be64(q, b, q->rt_off + ti * 8);
	if (!ret && (b >> q->cluster_bits) / epb != ti)
		ret = rc_update(q, b, 1, depth + 1);
	return ret;
}

/* Adds @delta to the refcount of the cluster at @host; written, not synced. */
static int rc_update(struct qcow2 *q, uint64_t host, int delta, unsigned depth)
{
	unsigned bytes = 1u << (q->refcount_order - 3);
	uint64_t epb = q->cs / bytes, c = host >> q->cluster_bits;
	uint64_t ti = c / epb, bi = c % epb, v = 0, max;
	uint8_t *blk, *p;
	int ret = 0;

	if (depth > 4)
		return corrupt(q, "refcount blocks do not settle", host);
	if (ti >= q->rt_n) {
		if (delta < 0)
			return corrupt(q, "freeing a cluster no refcount block covers", host);
		ret = grow_rt(q, ti);
		if (ret)
			return ret;
	}
	if (!(q->rt[ti] & RT_OFFSET_MASK)) {
		if (delta < 0)
			return corrupt(q, "freeing a cluster no refcount block covers", host);
		ret = alloc_refblock(q, ti, depth);
		if (ret)
			return ret;
	}
	if (!table_ok(q, q->rt[ti] & RT_OFFSET_MASK))
		return corrupt(q, "refcount block offset unaligned or past the end",
			       q->rt[ti]);
	blk = cache_get(q, q->rbc, NRB, q->rt[ti] & RT_OFFSET_MASK, true, &ret);
	if (!blk)
		return ret;
	p = blk + bi * bytes;
	for (unsigned i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	max = bytes == 8 ? UINT64_MAX : (1ull << (bytes * 8)) - 1;
	if ((delta < 0 && !v) || (delta > 0 && v == max))
		return corrupt(q, delta < 0 ? "refcount below zero" : "refcount overflow",
			       host);
	v += delta;
	q->rc_left = v;
	for (unsigned i = bytes; i-- > 0; v >>= 8)
		p[i] = v & 0xff;
	return pwrite_all(q, p, bytes, (q->rt[ti] & RT_OFFSET_MASK) + bi * bytes);
}

/*
 * A bigger refcount table at the end of the file, covering index @need:
 * written whole, synced, then the header points at it, then the old one
 * is freed.
 */
static int grow_rt(struct qcow2 *q, uint64_t need)
{
	unsigned bytes = 1u << (q->refcount_order - 3);
	uint64_t epb = q->cs / bytes, per = q->cs / 8, n = MAX(q->rt_n * 2, need + 1);
	uint64_t old_off = q->rt_off, old_clusters = q->rt_clusters, t, clusters, *rt, *be;
	uint8_t hdr[12];
	int ret = 0;

	if (q->rt_moving)
		return corrupt(q, "refcount table grows while growing", need);
	for (int i = 0; i < 2; i++) {	/* room for the table's own refcount blocks */
		uint64_t last = ALIGN_UP(q->end, q->cs) + (n / per + 4) * q->cs;

		n = MAX(n, (last >> q->cluster_bits) / epb + 1);
	}
	n = ALIGN_UP(n, per);
	clusters = n / per;
	if (n * 8 > MAX_RT_BYTES) {
		err_msg("qcow2 image %s: the refcount table would pass %llu MiB", q->name,
			MAX_RT_BYTES / MiB);
		return -ENOSPC;
	}
	rt = realloc(q->rt, n * 8);
	if (!rt)
		return -ENOMEM;
	memset(rt + q->rt_n, 0, (n - q->rt_n) * 8);
	q->rt = rt;
	q->rt_n = n;
	t = q->end = ALIGN_UP(q->end, q->cs);
	q->end += clusters * q->cs;
	q->rt_moving = true;
	for (uint64_t i = 0; i < clusters && !ret; i++)
		ret = rc_update(q, t + i * q->cs, 1, 0);
	q->rt_moving = false;
	be = ret ? NULL : malloc(n * 8);
	if (!ret && !be)
		ret = -ENOMEM;
	for (uint64_t i = 0; !ret && i < n; i++)
		be[i] = htobe64(q->rt[i]);
	if (!ret)
		ret = pwrite_all(q, be, n * 8, t);
	free(be);
	if (!ret)
		ret = sync_file(q);
	if (ret)
		return ret;
	q->rt_off = t;
	q->rt_clusters = clusters;
	t = htobe64(t);
	memcpy(hdr, &t, 8);
	clusters = htobe32((uint32_t)clusters);
	memcpy(hdr + 8, &clusters, 4);
	ret = pwrite_all(q, hdr, 12, 48);
	if (!ret)
		ret = sync_file(q);
	for (uint64_t i = 0; i < old_clusters && !ret; i++)
		ret = rc_update(q, old_off + i * q->cs, -1, 0);
	return ret;
}

/* ---- writes ---- */

/* A cluster at the end of the file; its refcount comes once it is written. */
static uint64_t alloc_cluster(struct qcow2 *q)
{
	uint64_t c = ALIGN_UP(q->end, q->cs);

	q->end = c + q->cs;
	return c;
}

/* Host ranges we hold in memory must never be written as data. */
static bool overlaps_meta(const struct qcow2 *q, uint64_t host)
{
	uint64_t e = host + q->cs;

	return host < q->cs ||
	       (host < q->l1_off + (uint64_t)q->l1_size * 8 && q->l1_off < e) ||
	       (host < q->rt_off + (uint64_t)q->rt_clusters * q->cs && q->rt_off < e);
}

/* The L2 table of L1 index @l1i, allocated (and synced) if missing. */
static int ensure_l2(struct qcow2 *q, uint64_t l1i, uint64_t *l2off)
{
	uint64_t e = q->l1[l1i], off = e & OFFSET_MASK;
	int ret = 0;

	if (off) {
		if (!(e & FLAG_COPIED))
			return corrupt(q, "L2 table shared with a snapshot", off);
		if (!table_ok(q, off) || overlaps_meta(q, off))
			return corrupt(q, "L2 table offset unaligned or past the end", off);
		*l2off = off;
		return 0;
	}
	off = alloc_cluster(q);
	cache_get(q, q->l2c, NL2, off, false, &ret);
	ret = pwrite_all(q, q->zero, q->cs, off);
	if (!ret)
		ret = rc_update(q, off, 1, 0);
	if (!ret)
		ret = sync_file(q);
	if (!ret)
		ret = put_be64(q, off | FLAG_COPIED, q->l1_off + l1i * 8);
	if (!ret) {
		q->l1[l1i] = off | FLAG_COPIED;
		*l2off = off;
	}
	return ret;
}

/*
 * Drops the host clusters an L2 entry we replaced pointed at; @punch (a
 * discard on a discard=unmap node): a data cluster no longer counted
 * becomes a hole in the file, as QEMU's pass-discard-request does.
 */
static int free_old(struct qcow2 *q, uint64_t e, bool punch)
{
	uint64_t host = e & OFFSET_MASK;
	int ret;

	if (e & FLAG_COMPRESSED) {
		unsigned x = 62 - (q->cluster_bits - 8);
		uint64_t coff = e & ((1ull << x) - 1);
		uint64_t sectors = ((e >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
		uint64_t last = coff + sectors * 512 - (coff & 511) - 1;

		ret = 0;
		if (q->zoff == coff)
			q->zoff = 0;
		for (uint64_t c = coff & ~(q->cs - 1); c <= last && !ret; c += q->cs)
			ret = rc_update(q, c, -1, 0);
		return ret;
	}
	if (!host)
		return 0;
	ret = rc_update(q, host, -1, 0);
	/* A hint: a file system without holes keeps the bytes. */
	if (!ret && punch && q->discard && !q->rc_left)
		ring_io(q, IORING_OP_FALLOCATE, q->fd, NULL, q->cs, host);
	return ret;
}

static int write_chunk(struct qcow2 *q, const uint8_t *buf, uint64_t len, uint64_t off)
{
	uint64_t l1i = off >> (q->cluster_bits + q->l2_bits);
	uint64_t l2i = (off >> q->cluster_bits) & ((1ull << q->l2_bits) - 1);
	uint64_t in = off & (q->cs - 1), start = off - in, l2off, e, host;
	const uint8_t *data = buf;
	uint8_t *t;
	int ret = 0;

	if (l1i >= q->l1_size)
		return -EINVAL;
	ret = ensure_l2(q, l1i, &l2off);
	if (ret)
		return ret;
	t = l2_entry(q, l2off, l2i, &ret);
	if (!t)
		return ret;
	e = be64_at(t);
	host = e & OFFSET_MASK;
	if ((e & FLAG_COPIED) && !(e & FLAG_COMPRESSED) && host &&
	    !(q->version >= 3 && e & FLAG_ZERO)) {
		if (host & (q->cs - 1) || overlaps_meta(q, host))
			return corrupt(q, "data cluster overlaps metadata or is unaligned",
				       host);
		return pwrite_all(q, buf, len, host + in);
	}
	/* A new cluster: what it held before, with the new bytes over it. */
	if (len < q->cs) {
		uint64_t have = MIN(q->cs, q->size - start);

		ret = qcow2_read(q, q->dbuf, have, start);
		if (ret)
			return ret;
		memset(q->dbuf + have, 0, q->cs - have);
		memcpy(q->dbuf + in, buf, len);
		data = q->dbuf;
	}
	host = alloc_cluster(q);
	ret = pwrite_all(q, data, q->cs, host);
	if (!ret)
		ret = rc_update(q, host, 1, 0);
	if (!ret)
		ret = sync_file(q);
	if (ret)
		return ret;
	/* The table may have left the cache while refcounts were read. */
	t = l2_entry(q, l2off, l2i, &ret);
	if (!t)
		return ret;
	e = be64_at(t);
	ret = put_be64(q, host | FLAG_COPIED, l2off + l2i * 8);
	if (ret)
		return ret;
	host = htobe64(host | FLAG_COPIED);
	memcpy(t, &host, 8);
	return free_old(q, e, false);
}

int qcow2_write(struct qcow2 *q, const void *buf, uint64_t len, uint64_t off)
{
	const uint8_t *p = buf;

	if (q->ro)
		return -EROFS;
	if (off > q->size || len > q->size - off)
		return -EINVAL;
	while (len) {
		uint64_t n = MIN(len, q->cs - (off & (q->cs - 1)));
		int ret = write_chunk(q, p ? p : q->zero, n, off);

		if (ret)
			return ret;
		if (p)
			p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* ---- discards and zero clusters ---- */

int (*qcow2_test_fault)(void);

/* Forgets a cached table whose writing failed: it is read again. */
static void cache_drop(struct cslot *c, unsigned n, uint64_t off)
{
	for (unsigned i = 0; i < n; i++)
		if (c[i].off == off)
			c[i].off = 0;
}

static bool has_backing(const struct qcow2 *q)
{
	return q->bq || q->bfd >= 0;
}

/* Whether the cluster holding @off reads as zeroes without holding data. */
static int reads_zero(struct qcow2 *q, uint64_t off, bool *zero)
{
	uint64_t e;
	int ret = entry_of(q, off, &e);

	*zero = false;
	if (ret || e & FLAG_COMPRESSED)
		return ret;
	if (e & FLAG_ZERO)
		*zero = true;
	else if (!(e & OFFSET_MASK))
		*zero = (off & ~(q->cs - 1)) >= q->bsize;
	return 0;
}

#define ZBATCH	64	/* entries changed between two syncs */

/*
 * The L2 entries of clusters [@c, @c + @n), all in one table, as QEMU's
 * discard_in_l2_slice (@discard) or zero_in_l2_slice set them: a discard
 * makes what the image held read as zeroes on version 3 (the zero flag)
 * and as the backing on version 2 (no entry); write-zeroes sets the zero
 * flag, dropping the data cluster if @unmap (a compressed one always).
 * The entries are written and synced before the clusters they pointed at
 * lose their refcounts, so a crash leaks clusters at worst.
 */
static int zero_clusters(struct qcow2 *q, uint64_t c, uint64_t n, bool discard, bool unmap)
{
	uint64_t l1i = c >> q->l2_bits, first = c & ((1ull << q->l2_bits) - 1);
	uint64_t l2off = l1i < q->l1_size ? q->l1[l1i] & OFFSET_MASK : 0;
	uint64_t old[ZBATCH], lo = UINT64_MAX, hi = 0;
	unsigned nold = 0;
	uint8_t *t;
	int ret = 0;

	if (l1i >= q->l1_size)
		return -EINVAL;
	if (discard && !l2off && (q->version < 3 || !has_backing(q)))
		return 0;	/* nothing held, nothing shows through */
	ret = ensure_l2(q, l1i, &l2off);
	for (uint64_t i = first; !ret && i < first + n; i++) {
		uint64_t e, ne, v;
		bool alloc, drop;

		t = cache_get(q, q->l2c, NL2, l2off, true, &ret);
		if (!t)
			break;
		e = be64_at(t + i * 8);
		alloc = (e & FLAG_COMPRESSED) || (e & OFFSET_MASK);
		if (discard) {
			ne = e;
			if (alloc || has_backing(q))
				ne = q->version >= 3 ? FLAG_ZERO : 0;
			drop = alloc;
		} else {
			drop = (e & FLAG_COMPRESSED) || (unmap && alloc);
			ne = (drop ? 0 : e) | FLAG_ZERO;
		}
		/* never free (and punch) what is not a data cluster */
		if (drop && !(e & FLAG_COMPRESSED) &&
		    ((e & OFFSET_MASK & (q->cs - 1)) || overlaps_meta(q, e & OFFSET_MASK))) {
			ret = corrupt(q, "data cluster overlaps metadata or is unaligned",
				      e & OFFSET_MASK);
			break;
		}
		if (ne != e) {
			v = htobe64(ne);
			memcpy(t + i * 8, &v, 8);
			lo = MIN(lo, i);
			hi = i;
			if (drop)
				old[nold++] = e;
		}
		if (lo > hi || (nold < ZBATCH && i + 1 < first + n))
			continue;
		ret = pwrite_all(q, t + lo * 8, (hi - lo + 1) * 8, l2off + lo * 8);
		if (!ret)
			ret = sync_file(q);
		if (!ret && qcow2_test_fault)
			ret = qcow2_test_fault();
		for (unsigned k = 0; k < nold && !ret; k++)
			ret = free_old(q, old[k], true);
		nold = 0;
		lo = UINT64_MAX;
		hi = 0;
	}
	/* The table is read again: the cache may hold entries never written. */
	if (ret && l2off)
		cache_drop(q->l2c, NL2, l2off);
	return ret;
}

/*
 * DISCARD (@discard) or WRITE_ZEROES of @len bytes at @off. As in QEMU, a
 * discard leaves the parts of clusters it does not cover, and write-zeroes
 * writes zeroes there (unless they read as zeroes already), and everywhere
 * on version 2, which has no zero flag.
 */
static int zero_range(struct qcow2 *q, uint64_t len, uint64_t off, bool discard, bool unmap)
{
	uint64_t per = 1ull << q->l2_bits;

	if (q->ro)
		return -EROFS;
	if (off > q->size || len > q->size - off)
		return -EINVAL;
	if (!discard && q->version < 3)
		return qcow2_write(q, NULL, len, off);
	while (len) {
		uint64_t in = off & (q->cs - 1), n = MIN(len, q->cs - in);
		uint64_t c = off >> q->cluster_bits, k;
		bool zero = false;
		int ret = 0;

		if (!in && (n == q->cs || off + n == q->size)) {
			/* whole clusters, the last one of the disk also when short */
			k = len >> q->cluster_bits;
			if (off + len == q->size && len & (q->cs - 1))
				k++;
			k = MIN(k, per - (c & (per - 1)));
			n = MIN(k << q->cluster_bits, len);
			ret = zero_clusters(q, c, k, discard, unmap);
		} else if (!discard) {
			ret = reads_zero(q, off, &zero);
			if (!ret && !zero)
				ret = write_chunk(q, q->zero, n, off);
		}
		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

int qcow2_discard(struct qcow2 *q, uint64_t len, uint64_t off)
{
	return q->discard ? zero_range(q, len, off, true, false) : 0;
}

int qcow2_write_zeroes(struct qcow2 *q, uint64_t len, uint64_t off, bool unmap)
{
	return zero_range(q, len, off, false, unmap && q->discard);
}

void qcow2_set_discard(struct qcow2 *q, bool unmap)
{
	q->discard = unmap;
}

/* One request of block.h, done in place: bytes, or -errno. */
int qcow2_request(struct qcow2 *q, const struct blk_req *r, bool write_through)
{
	uint64_t off = r->offset, total = 0;
	int ret = 0;

	switch (r->op) {
	case BLK_READ:
	case BLK_WRITE:
		for (unsigned i = 0; i < r->iovcnt && !ret; i++) {
			const struct iovec *v = &r->iov[i];

			ret = r->op == BLK_READ ? qcow2_read(q, v->iov_base, v->iov_len, off)
						: qcow2_write(q, v->iov_base, v->iov_len, off);
			off += v->iov_len;
			total += v->iov_len;
		}
		break;
	case BLK_WRITE_ZEROES:
		ret = qcow2_write_zeroes(q, r->len, r->offset, r->unmap);
		break;
	case BLK_DISCARD:
		if (!q->discard)
			return 0;
		ret = qcow2_discard(q, r->len, r->offset);
		break;
	default:
		return 0;
	}
	if (!ret && write_through && r->op != BLK_READ)
		ret = sync_file(q);
	return ret ? ret : (int)MIN(total, (uint64_t)INT32_MAX);
}

uint64_t qcow2_size(const struct qcow2 *q)
{
	return q->size;
}

/* ---- opening ---- */

struct hdr {
	uint32_t version, backing_size, cluster_bits, crypt, l1_size, rt_clusters;
	uint32_t nb_snapshots, refcount_order, hdr_len;
	uint64_t backing_off, size, l1_off, rt_off, incompat, autoclear;
	uint8_t compression;
};

/* The name of an incompatible feature bit, from the image's own table if it has one. */
static const char *feature_name(const uint8_t *names, uint32_t len, unsigned bit, char *buf,
				size_t size)
{
	static const char *const known[] = { "dirty bit", "corrupt bit", "external data file",
					     "compression type", "extended L2 entries" };

	for (uint32_t i = 0; names && i + 48 <= len; i += 48)
		if (names[i] == 0 && names[i + 1] == bit) {
			snprintf(buf, size, "'%.46s' (bit %u)", (const char *)names + i + 2, bit);
			return buf;
		}
	snprintf(buf, size, "%s (bit %u)", bit < ARRAY_SIZE(known) ? known[bit] : "unknown", bit);
	return buf;
}

static void parse_hdr(const uint8_t *p, struct hdr *h)
{
	h->version = be32_at(p + 4);
	h->backing_off = be64_at(p + 8);
	h->backing_size = be32_at(p + 16);
	h->cluster_bits = be32_at(p + 20);
	h->size = be64_at(p + 24);
	h->crypt = be32_at(p + 32);
	h->l1_size = be32_at(p + 36);
	h->l1_off = be64_at(p + 40);
	h->rt_off = be64_at(p + 48);
	h->rt_clusters = be32_at(p + 56);
	h->nb_snapshots = be32_at(p + 60);
	h->incompat = h->autoclear = 0;
	h->refcount_order = 4;
	h->hdr_len = 72;
	h->compression = 0;
	if (h->version >= 3) {
		h->incompat = be64_at(p + 72);
		h->autoclear = be64_at(p + 88);
		h->refcount_order = be32_at(p + 96);
		h->hdr_len = be32_at(p + 100);
	}
}

static bool ranges_meet(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* The geometry: cluster size, tables inside the file and apart. */
static int check_geometry(struct qcow2 *q, const struct hdr *h, const char *owner)
{
	unsigned shift;
	uint64_t l1_need, l1_bytes = (uint64_t)h->l1_size * 8, rt_bytes;

	if (h->cluster_bits < MIN_CLUSTER_BITS || h->cluster_bits > MAX_CLUSTER_BITS) {
		err_msg("%s: %s: cluster_bits %u is out of range (%u..%u)", owner, q->name,
			h->cluster_bits, MIN_CLUSTER_BITS, MAX_CLUSTER_BITS);
		return -EINVAL;
	}
	q->cluster_bits = h->cluster_bits;
	q->cs = 1ull << h->cluster_bits;
	q->l2_bits = h->cluster_bits - 3;
	shift = q->cluster_bits + q->l2_bits;
	rt_bytes = (uint64_t)h->rt_clusters << h->cluster_bits;
	if (h->version >= 3 && (h->hdr_len < 104 || h->hdr_len > q->cs || h->hdr_len & 7)) {
		err_msg("%s: %s: header length %u is invalid", owner, q->name, h->hdr_len);
		return -EINVAL;
	}
	if (h->refcount_order > 6) {
		err_msg("%s: %s: refcount_order %u is out of range (0..6)", owner, q->name,
			h->refcount_order);
		return -EINVAL;
	}
	if (l1_bytes > MAX_L1_BYTES) {
		err_msg("%s: %s: L1 table of %u entries is too large", owner, q->name,
			h->l1_size);
		return -EFBIG;
	}
	l1_need = (h->size >> shift) + !!(h->size & ((1ull << shift) - 1));
	if (h->l1_size < l1_need) {
		err_msg("%s: %s: L1 table of %u entries is too small for a %" PRIu64
			"-byte disk", owner, q->name, h->l1_size, h->size);
		return -EINVAL;
	}
	if ((h->l1_off & (q->cs - 1)) || (l1_bytes && !h->l1_off) ||
	    h->l1_off > q->end || l1_bytes > q->end - h->l1_off) {
		err_msg("%s: %s: L1 table (offset 0x%" PRIx64 ", %" PRIu64 " bytes) is "
			"unaligned or past the end of the file (%" PRIu64 " bytes)", owner,
			q->name, h->l1_off, l1_bytes, q->end);
		return -EINVAL;
	}
	if (!h->rt_clusters || rt_bytes > MAX_RT_BYTES || !h->rt_off ||
	    (h->rt_off & (q->cs - 1)) || h->rt_off > q->end || rt_bytes > q->end - h->rt_off) {
		err_msg("%s: %s: refcount table (offset 0x%" PRIx64 ", %u clusters) is "
			"empty, too large, unaligned or past the end of the file", owner,
			q->name, h->rt_off, h->rt_clusters);
		return -EINVAL;
	}
	if (ranges_meet(0, q->cs, h->l1_off, l1_bytes) ||
	    ranges_meet(0, q->cs, h->rt_off, rt_bytes) ||
	    ranges_meet(h->l1_off, l1_bytes, h->rt_off, rt_bytes)) {
		err_msg("%s: %s: the header, L1 table and refcount table overlap", owner,
			q->name);
		return -EINVAL;
	}
	return 0;
}

/* Features: refused unless ember can honour them. */
static int check_features(struct qcow2 *q, const struct hdr *h, const uint8_t *names,
			  uint32_t names_len, const char *owner)
{
	uint64_t unknown = h->incompat & ~(INC_DIRTY | INC_CORRUPT | INC_COMPRESSION);
	char buf[80];

	if (h->crypt) {
		err_msg("%s: %s: the image is encrypted (crypt_method %u): ember does not "
			"support encrypted qcow2", owner, q->name, h->crypt);
		return -ENOTSUP;
	}
	if (unknown) {
		err_msg("%s: %s: unsupported incompatible feature %s", owner, q->name,
			feature_name(names, names_len, __builtin_ctzll(unknown), buf,
				     sizeof(buf)));
		return -ENOTSUP;
	}
	if (h->compression) {
		err_msg("%s: %s: compression type %s is not supported (only zlib)", owner,
			q->name, h->compression == 1 ? "zstd" : "unknown");
		return -ENOTSUP;
	}
	if (h->incompat & INC_DIRTY && !q->ro) {
		err_msg("%s: %s: the dirty bit is set (lazy refcounts, not closed cleanly): "
			"repair it with 'qemu-img check -r all %s', or open it read-only",
			owner, q->name, q->name);
		return -EUCLEAN;
	}
	if (h->incompat & INC_CORRUPT && !q->ro) {
		err_msg("%s: %s: the image is marked corrupt: repair it with 'qemu-img check "
			"-r all %s', or open it read-only", owner, q->name, q->name);
		return -EUCLEAN;
	}
	if (!q->ro && h->nb_snapshots) {
		err_msg("%s: %s: the image has %u internal snapshots: ember writes only "
			"images without them; open it read-only", owner, q->name,
			h->nb_snapshots);
		return -ENOTSUP;
	}
	if (!q->ro && h->refcount_order < 3) {
		err_msg("%s: %s: refcount_order %u (refcounts narrower than a byte): ember "
			"writes only 8- to 64-bit refcounts; open it read-only", owner,
			q->name, h->refcount_order);
		return -ENOTSUP;
	}
	return 0;
}

struct chain {
	dev_t dev[QCOW2_MAX_CHAIN + 1];
	ino_t ino[QCOW2_MAX_CHAIN + 1];
	unsigned depth;
};

static int open_fd(struct qcow2 **out, int fd, const char *name, bool ro, bool no_flush,
		   const struct qcow2_backing_src *bs, struct chain *ch, const char *owner);

/* The backing file named in the header, relative to the image's folder. */
static int open_backing_file(struct qcow2 *q, const char *bname, const char *fmt,
			     struct chain *ch, const char *owner)
{
	const char *slash = strrchr(q->name, '/');
	char *path;
	uint8_t magic[4] = { 0 };
	struct stat st;
	int fd, ret;

	if (bname[0] == '/' || !slash)
		path = strdup(bname);
	else if (asprintf(&path, "%.*s/%s", (int)(slash - q->name), q->name, bname) < 0)
		path = NULL;
	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		err_msg("%s: %s: cannot open its backing file %s: %s", owner, q->name, path,
			strerror(-ret));
		goto out;
	}
	ret = fstat(fd, &st) ? -errno : 0;
	for (unsigned i = 0; !ret && i <= ch->depth; i++) {
		if (ch->dev[i] == st.st_dev && ch->ino[i] == st.st_ino) {
			err_msg("%s: %s: backing file %s loops back into its own chain",
				owner, q->name, path);
			ret = -ELOOP;
		}
	}
	if (!ret && ch->depth + 1 >= QCOW2_MAX_CHAIN) {
		err_msg("%s: %s: backing chain deeper than %u images", owner, q->name,
			QCOW2_MAX_CHAIN);
		ret = -ELOOP;
	}
	if (ret)
		goto out;
	if (!fmt[0]) {	/* no backing format extension: look */
		pread_zero(q, fd, magic, 4, 0);
		fmt = be32_at(magic) == QCOW2_MAGIC ? "qcow2" : "raw";
	}
	if (!strcmp(fmt, "qcow2")) {
		ch->depth++;
		ch->dev[ch->depth] = st.st_dev;
		ch->ino[ch->depth] = st.st_ino;
		struct qcow2_backing_src hdr = { .mode = QCOW2_BACKING_HEADER };

		ret = open_fd(&q->bq, fd, path, true, true, &hdr, ch, owner);
		ch->depth--;
		if (!ret) {
			q->bq->own_fd = true;
			q->own_bq = true;
			q->bsize = q->bq->size;
			fd = -1;
		}
	} else if (!strcmp(fmt, "raw")) {
		off_t end = lseek(fd, 0, SEEK_END);

		q->bfd = fd;
		q->own_bfd = true;
		q->bsize = end > 0 ? (uint64_t)end : 0;
		fd = -1;
	} else {
		err_msg("%s: %s: backing format '%s' of %s: ember reads raw and qcow2", owner,
			q->name, fmt, path);
		ret = -ENOTSUP;
	}
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return ret;
}

/* Header extensions: the backing format, and the feature names for messages. */
static int parse_extensions(struct qcow2 *q, const uint8_t *p, uint64_t len,
			    uint32_t start, char *fmt, const uint8_t **names,
			    uint32_t *names_len, const char *owner)
{
	for (uint64_t off = start; off + 8 <= len;) {
		uint32_t type = be32_at(p + off), elen = be32_at(p + off + 4);

		if (!type)
			break;
		if (elen > len - off - 8) {
			err_msg("%s: %s: header extension 0x%x runs past the first cluster",
				owner, q->name, type);
			return -EINVAL;
		}
		if (type == EXT_BACKING_FORMAT) {
			snprintf(fmt, 16, "%.*s", (int)MIN(elen, 15u), (const char *)p + off + 8);
		} else if (type == EXT_FEATURE_NAMES) {
			*names = p + off + 8;
			*names_len = elen;
		}
		off += 8 + ALIGN_UP((uint64_t)elen, 8);
	}
	return 0;
}

static int open_fd(struct qcow2 **out, int fd, const char *name, bool ro, bool no_flush,
		   const struct qcow2_backing_src *bs, struct chain *ch, const char *owner)
{
	struct qcow2 *q = calloc(1, sizeof(*q));
	const uint8_t *names = NULL;
	uint32_t names_len = 0;
	char fmt[16] = "", *bname = NULL;
	uint8_t *first = NULL;
	uint64_t got;
	struct hdr h;
	struct stat st;
	int ret;

	*out = NULL;
	if (!q || !(q->name = strdup(name))) {
		free(q);
		return -ENOMEM;
	}
	q->fd = fd;
	q->bfd = -1;
	q->ro = ro;
	q->no_flush = no_flush;
	if (fstat(fd, &st)) {
		ret = -errno;
		err_msg("%s: %s: %s", owner, q->name, strerror(-ret));
		goto fail;
	}
	q->end = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	if (!S_ISREG(st.st_mode)) {
		err_msg("%s: %s: qcow2 needs a regular file", owner, q->name);
		ret = -EINVAL;
		goto fail;
	}
	/* The first cluster holds the header, its extensions and the backing name. */
	first = malloc(1u << MAX_CLUSTER_BITS);
	ret = io_uring_queue_init(4, &q->ring, 0);
	if (ret) {
		err_msg("%s: %s: cannot set up io_uring: %s", owner, q->name, strerror(-ret));
		goto fail;
	}
	q->ring_ok = true;
	ret = first ? pread_all(q, fd, first, 1u << MAX_CLUSTER_BITS, 0, &got) : -ENOMEM;
	if (ret) {
		if (ret != -ENOMEM)
			err_msg("%s: %s: %s", owner, q->name, strerror(-ret));
		goto fail;
	}
	if (got < 72 || be32_at(first) != QCOW2_MAGIC) {
		err_msg("%s: %s: not a qcow2 image", owner, q->name);
		ret = -EINVAL;
		goto fail;
	}
	memset(first + got, 0, (1u << MAX_CLUSTER_BITS) - got);
	parse_hdr(first, &h);
	if (h.version != 2 && h.version != 3) {
		err_msg("%s: %s: qcow2 version %u is not supported (2 or 3)", owner, q->name,
			h.version);
		ret = -ENOTSUP;
		goto fail;
	}
	q->version = h.version;
	ret = check_geometry(q, &h, owner);
	if (ret)
		goto fail;
	if (h.version >= 3 && h.hdr_len > 104)
		h.compression = first[104];
	ret = parse_extensions(q, first, q->cs, h.hdr_len, fmt, &names, &names_len, owner);
	if (!ret)
		ret = check_features(q, &h, names, names_len, owner);
	if (ret)
		goto fail;
	q->size = h.size;
	q->refcount_order = h.refcount_order;
	q->l1_off = h.l1_off;
	q->l1_size = h.l1_size;
	q->rt_off = h.rt_off;
	q->rt_clusters = h.rt_clusters;
	q->rt_n = ((uint64_t)h.rt_clusters << q->cluster_bits) / 8;
	q->l1 = malloc((uint64_t)h.l1_size * 8 + 8);
	q->rt = malloc(q->rt_n * 8);
	q->dbuf = malloc(q->cs);
	q->zbuf = malloc(q->cs);
	q->cbuf = malloc(2 * q->cs);
	q->zero = calloc(1, q->cs);
	ret = q->l1 && q->rt && q->dbuf && q->zbuf && q->cbuf && q->zero ? 0 : -ENOMEM;
	for (unsigned i = 0; !ret && i < NL2; i++)
		ret = (q->l2c[i].buf = malloc(q->cs)) ? 0 : -ENOMEM;
	for (unsigned i = 0; !ret && i < NRB; i++)
		ret = (q->rbc[i].buf = malloc(q->cs)) ? 0 : -ENOMEM;
	if (ret)
		goto fail;
	ret = pread_zero(q, fd, q->l1, (uint64_t)h.l1_size * 8, h.l1_off);
	if (!ret)
		ret = pread_zero(q, fd, q->rt, q->rt_n * 8, h.rt_off);
	if (ret) {
		err_msg("%s: %s: cannot read its tables: %s", owner, q->name, strerror(-ret));
		goto fail;
	}
	for (uint32_t i = 0; i < h.l1_size; i++)
		q->l1[i] = be64toh(q->l1[i]);
	for (uint64_t i = 0; i < q->rt_n; i++)
		q->rt[i] = be64toh(q->rt[i]);
	/* The backing: a node given, none, or what the header names. */
	if (bs->mode == QCOW2_BACKING_NODE) {
		q->bq = bs->q;
		q->bfd = bs->fd;
		q->bsize = bs->size;
	} else if (bs->mode == QCOW2_BACKING_HEADER && h.backing_off) {
		if (h.backing_size > MAX_BACKING_NAME || h.backing_off > q->cs ||
		    h.backing_size > q->cs - h.backing_off || !h.backing_size) {
			err_msg("%s: %s: backing file name (offset %" PRIu64 ", %u bytes) is "
				"invalid", owner, q->name, h.backing_off, h.backing_size);
			ret = -EINVAL;
			goto fail;
		}
		bname = strndup((const char *)first + h.backing_off, h.backing_size);
		ret = bname ? open_backing_file(q, bname, fmt, ch, owner) : -ENOMEM;
		if (ret)
			goto fail;
	}
	/* Bits for what ember does not keep up to date (bitmaps) go, as in QEMU. */
	if (!ro && h.autoclear) {
		ret = put_be64(q, 0, 88);
		if (!ret)
			ret = sync_file(q);
		if (ret) {
			err_msg("%s: %s: cannot clear the autoclear bits: %s", owner, q->name,
				strerror(-ret));
			goto fail;
		}
	}
	free(first);
	free(bname);
	*out = q;
	return 0;
fail:
	if (ret == -ENOMEM)
		err_msg("%s: %s: out of memory", owner, name);
	q->fd = -1;
	qcow2_close(q);
	free(first);
	free(bname);
	return ret;
}

int qcow2_open(struct qcow2 **out, int fd, const char *name, bool ro, bool no_flush,
	       const struct qcow2_backing_src *backing, const char *owner)
{
	struct chain ch = { .depth = 0 };
	struct stat st;

	if (fstat(fd, &st) == 0) {
		ch.dev[0] = st.st_dev;
		ch.ino[0] = st.st_ino;
	}
	return open_fd(out, fd, name, ro, no_flush, backing, &ch, owner);
}

void qcow2_close(struct qcow2 *q)
{
	if (!q)
		return;
	if (q->own_bq)
		qcow2_close(q->bq);
	if (q->own_bfd)
		close(q->bfd);
	if (q->own_fd && q->fd >= 0)
		close(q->fd);
	if (q->z_ok)
		inflateEnd(&q->z);
	if (q->ring_ok)
		io_uring_queue_exit(&q->ring);
	for (unsigned i = 0; i < NL2; i++)
		free(q->l2c[i].buf);
	for (unsigned i = 0; i < NRB; i++)
		free(q->rbc[i].buf);
	free(q->l1);
	free(q->rt);
	free(q->dbuf);
	free(q->zbuf);
	free(q->cbuf);
	free(q->zero);
	free(q->name);
	free(q);
}
