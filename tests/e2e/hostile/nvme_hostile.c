/*
 * A hostile NVMe driver, run inside the guest (built static by
 * tests/e2e/run) on a controller the guest's nvme driver was unbound from:
 *   nvme_hostile DEVDIR
 * It maps BAR 0 through sysfs, builds its own admin and I/O queues in
 * locked pages (guest-physical addresses from /proc/self/pagemap) and
 * sends malformed commands, PRPs and doorbells. Each attack prints
 * "ATTACK NAME status=0xSSS ok" when the controller answered as it should,
 * "ATTACK NAME ... UNEXPECTED ..." when not; "HOSTILE-FAIL why" ends it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#define PG		4096
#define QD		8
#define NO_CQE		0xffff
#define ANY		0xfffe

struct sqe {
	uint8_t opcode, flags;
	uint16_t cid;
	uint32_t nsid, cdw2, cdw3;
	uint64_t mptr, prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct cqe {
	uint32_t dw0, dw1;
	uint16_t sq_head, sq_id, cid, status;
};

static volatile uint32_t *bar;
static uint8_t *mem;			/* 32 locked pages */
static uint64_t pa[32];
static unsigned sq_tail[2], cq_head[2];
static int phase[2];
static uint16_t cid;

enum { P_ASQ, P_ACQ, P_IOSQ, P_IOCQ, P_BUF, P_BUF2, P_LIST, P_LIST2 };

static void die(const char *why)
{
	printf("HOSTILE-FAIL %s\n", why);
	exit(1);
}

#include "pci_user.h"

static uint32_t rd(unsigned off) { return bar[off / 4]; }
static void wr(unsigned off, uint32_t v) { bar[off / 4] = v; }
static void wr64(unsigned off, uint64_t v) { wr(off, (uint32_t)v); wr(off + 4, (uint32_t)(v >> 32)); }

static void *page(int i) { return mem + (size_t)i * PG; }

static int wait_csts(uint32_t mask, uint32_t want)
{
	for (int i = 0; i < 5000; i++) {
		if ((rd(0x1c) & mask) == want)
			return 0;
		usleep(1000);
	}
	return -1;
}

static void ctrl_enable(void)
{
	wr(0x14, 0);
	if (wait_csts(1, 0))
		die("controller did not reset");
	memset(page(P_ASQ), 0, 4 * PG);
	wr(0x24, (QD - 1) << 16 | (QD - 1));
	wr64(0x28, pa[P_ASQ]);
	wr64(0x30, pa[P_ACQ]);
	wr(0x14, 1 | 6 << 16 | 4 << 20);
	if (wait_csts(3, 1))
		die("controller did not become ready");
	sq_tail[0] = sq_tail[1] = cq_head[0] = cq_head[1] = 0;
	phase[0] = phase[1] = 1;
}

/* Submits on queue @q (0 admin, 1 I/O); the status of its completion, or NO_CQE. */
static unsigned submit(int q, struct sqe c)
{
	struct sqe *sq = page(q ? P_IOSQ : P_ASQ);
	volatile struct cqe *cq = page(q ? P_IOCQ : P_ACQ);

	c.cid = ++cid;
	sq[sq_tail[q]] = c;
	sq_tail[q] = (sq_tail[q] + 1) % QD;
	__sync_synchronize();
	wr(0x1000 + 8 * q, sq_tail[q]);
	for (int i = 0; i < 500; i++) {
		if ((cq[cq_head[q]].status & 1) == phase[q]) {
			unsigned st = cq[cq_head[q]].status >> 1 & 0x7ff;

			if (cq[cq_head[q]].cid != c.cid)
				return 0xbad;
			if (++cq_head[q] == QD) {
				cq_head[q] = 0;
				phase[q] ^= 1;
			}
			wr(0x1004 + 8 * q, cq_head[q]);
			return st;
		}
		usleep(2000);
	}
	return NO_CQE;
}

static int failures;

static void check(const char *name, unsigned st, unsigned want)
{
	if (want == ANY ? st != NO_CQE && st != 0xbad : st == want)
		printf("ATTACK %s status=%#x ok\n", name, st);
	else {
		printf("ATTACK %s status=%#x UNEXPECTED (want %#x)\n", name, st, want);
		failures++;
	}
}

static struct sqe identify(uint64_t prp1, uint64_t prp2)
{
	return (struct sqe){ .opcode = 6, .prp1 = prp1, .prp2 = prp2, .cdw10 = 1 };
}

static struct sqe rw(uint8_t op, uint32_t nsid, uint64_t slba, uint16_t nlb0, uint64_t prp1,
		     uint64_t prp2)
{
	return (struct sqe){ .opcode = op, .nsid = nsid, .prp1 = prp1, .prp2 = prp2,
			     .cdw10 = (uint32_t)slba, .cdw11 = slba >> 32, .cdw12 = nlb0 };
}

static void io_queues(void)
{
	check("create-cq", submit(0, (struct sqe){ .opcode = 5, .prp1 = pa[P_IOCQ],
			.cdw10 = (QD - 1) << 16 | 1, .cdw11 = 1 }), 0);
	check("create-sq", submit(0, (struct sqe){ .opcode = 1, .prp1 = pa[P_IOSQ],
			.cdw10 = (QD - 1) << 16 | 1, .cdw11 = 1 << 16 | 1 }), 0);
}

int main(int argc, char **argv)
{
	uint64_t *list = NULL, far = 0x7f00000000ull;
	if (argc != 2)
		die("usage: nvme_hostile DEVDIR");
	bar = map_bar0(argv[1], 0x4000);
	mem = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED,
		   -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	for (int i = 0; i < 32; i++)
		pa[i] = phys(page(i));
	srand(42);

	ctrl_enable();
	check("control-before", submit(0, identify(pa[P_BUF], 0)), 0);
	check("identify-outside-ram", submit(0, identify(far, 0)), 0x004);
	check("identify-misaligned", submit(0, identify(pa[P_BUF] + 2, 0)), 0x013);
	check("identify-prp2-offset", submit(0, identify(pa[P_BUF] + 0x800, pa[P_BUF2] + 8)), 0x013);
	check("identify-sgl", submit(0, (struct sqe){ .opcode = 6, .flags = 0x40, .cdw10 = 1 }), 0x002);
	check("identify-bad-cns", submit(0, (struct sqe){ .opcode = 6, .prp1 = pa[P_BUF],
			.cdw10 = 0xee }), 0x002);
	check("bad-admin-opcode", submit(0, (struct sqe){ .opcode = 0xfe }), 0x001);
	check("create-cq-qid-0", submit(0, (struct sqe){ .opcode = 5, .prp1 = pa[P_IOCQ],
			.cdw10 = 7 << 16, .cdw11 = 1 }), 0x101);
	check("create-cq-qid-huge", submit(0, (struct sqe){ .opcode = 5, .prp1 = pa[P_IOCQ],
			.cdw10 = 7 << 16 | 0xffff, .cdw11 = 1 }), 0x101);
	check("create-cq-size-huge", submit(0, (struct sqe){ .opcode = 5, .prp1 = pa[P_IOCQ],
			.cdw10 = 0xffffu << 16 | 1, .cdw11 = 1 }), 0x102);
	check("create-cq-outside-ram", submit(0, (struct sqe){ .opcode = 5, .prp1 = far,
			.cdw10 = 7 << 16 | 1, .cdw11 = 1 }), 0x004);
	check("create-cq-vector-huge", submit(0, (struct sqe){ .opcode = 5, .prp1 = pa[P_IOCQ],
			.cdw10 = 7 << 16 | 1, .cdw11 = 0xffffu << 16 | 3 }), 0x108);
	check("create-sq-no-cq", submit(0, (struct sqe){ .opcode = 1, .prp1 = pa[P_IOSQ],
			.cdw10 = 7 << 16 | 1, .cdw11 = 9 << 16 | 1 }), 0x100);
	check("delete-sq-none", submit(0, (struct sqe){ .opcode = 0, .cdw10 = 1 }), 0x101);
	check("log-huge", submit(0, (struct sqe){ .opcode = 2, .prp1 = pa[P_BUF],
			.cdw10 = 0xffffu << 16 | 2, .cdw11 = 0xffff }), 0x002);
	check("dbbuf-outside-ram", submit(0, (struct sqe){ .opcode = 0x7c, .prp1 = far,
			.prp2 = far }), 0x002);
	io_queues();

	list = page(P_LIST);
	check("read-ok", submit(1, rw(2, 1, 0, 7, pa[P_BUF], 0)), 0);
	check("read-prp1-outside-ram", submit(1, rw(2, 1, 0, 7, far, 0)), 0x004);
	check("read-list-outside-ram", submit(1, rw(2, 1, 0, 31, pa[P_BUF], far)), 0x004);
	list[0] = pa[P_BUF2] + 0x10;
	list[1] = pa[P_BUF2];
	list[2] = pa[P_BUF2];
	check("read-list-entry-offset", submit(1, rw(2, 1, 0, 31, pa[P_BUF], pa[P_LIST])), 0x013);
	list[0] = far;
	check("read-list-entry-outside-ram", submit(1, rw(2, 1, 0, 31, pa[P_BUF], pa[P_LIST])), 0x004);
	/* A list page whose last entry chains to itself. */
	((uint64_t *)page(P_LIST2))[510] = pa[P_BUF2];
	((uint64_t *)page(P_LIST2))[511] = pa[P_LIST2] + 510 * 8;
	check("read-list-self-chain", submit(1, rw(2, 1, 0, 255, pa[P_BUF], pa[P_LIST2] + 510 * 8)),
	      0x013);
	check("read-list-misaligned", submit(1, rw(2, 1, 0, 31, pa[P_BUF], pa[P_LIST] + 4)), 0x013);
	check("read-past-mdts", submit(1, rw(2, 1, 0, 0xffff, pa[P_BUF], pa[P_LIST])), 0x002);
	check("read-lba-range", submit(1, rw(2, 1, ~0ull, 0, pa[P_BUF], 0)), 0x080);
	check("read-lba-wrap", submit(1, rw(2, 1, ~0ull - 2, 7, pa[P_BUF], 0)), 0x080);
	check("read-bad-nsid", submit(1, rw(2, 7, 0, 0, pa[P_BUF], 0)), 0x00b);
	check("read-nsid-broadcast", submit(1, rw(2, 0xffffffff, 0, 0, pa[P_BUF], 0)), 0x00b);
	check("write-sgl-empty", submit(1, (struct sqe){ .opcode = 1, .flags = 0x40, .nsid = 1 }),
	      0x00f);
	/* SGL1 in PRP1/PRP2: address, then length and type (high byte). */
	check("read-sgl-segment-outside-ram", submit(1, (struct sqe){ .opcode = 2, .flags = 0x40,
			.nsid = 1, .prp1 = far, .prp2 = 0x30ull << 56 | 16 }), 0x004);
	check("read-sgl-bit-bucket", submit(1, (struct sqe){ .opcode = 2, .flags = 0x40, .nsid = 1,
			.prp1 = pa[P_BUF], .prp2 = 0x10ull << 56 | 512 }), 0x011);
	check("read-sgl-ok", submit(1, (struct sqe){ .opcode = 2, .flags = 0x40, .nsid = 1,
			.prp1 = pa[P_BUF] + 7, .prp2 = 512 }), 0);
	check("write-psdt-3", submit(1, (struct sqe){ .opcode = 1, .flags = 0xc0, .nsid = 1 }), 0x002);
	check("zeroes-lba-range", submit(1, rw(8, 1, ~0ull - 100, 0xffff, 0, 0)), 0x080);
	((uint32_t *)page(P_BUF2))[1] = 0xffffffff;		/* NLB */
	((uint64_t *)page(P_BUF2))[1] = 5;			/* SLBA */
	check("dsm-range-huge", submit(1, (struct sqe){ .opcode = 9, .nsid = 1, .prp1 = pa[P_BUF2],
			.cdw11 = 4 }), 0x080);
	check("dsm-outside-ram", submit(1, (struct sqe){ .opcode = 9, .nsid = 1, .prp1 = far,
			.cdw10 = 255, .cdw11 = 4 }), 0x004);
	check("bad-io-opcode", submit(1, (struct sqe){ .opcode = 0x7e, .nsid = 1 }), 0x001);
	for (int i = 0; i < 20; i++) {
		struct sqe c;
		char name[32];

		for (unsigned k = 0; k < sizeof(c); k++)
			((uint8_t *)&c)[k] = rand();
		if (i & 1) {
			/* Data pages only: a read over its own queues would only confuse us. */
			c.prp1 = pa[8 + rand() % 24] + (rand() % 2 ? 0 : rand() % PG);
			c.prp2 = pa[8 + rand() % 24];
			c.nsid = 1;
			c.flags = 0;	/* PRPs: past the SGL check, into the decoders */
			c.opcode = (uint8_t[]){ 0, 1, 2, 8, 9 }[rand() % 5];
		}
		snprintf(name, sizeof(name), "garbage-io-%02d", i);
		check(name, submit(1, c), ANY);
	}
	check("control-io", submit(1, rw(2, 1, 0, 7, pa[P_BUF], 0)), 0);

	/* Doorbells: past the queue, for queues that are not there, all over. */
	wr(0x1008, 0xffff);
	wr(0x100c, 0xffff);
	for (unsigned i = 0; i < 200; i++)
		wr(0x1000 + 4 * (rand() % 1024), rand());
	printf("ATTACK doorbell-garbage status=0 ok\n");
	/* The queues' state is the guest's mess now: start over from a reset. */
	wr(0x14, 0);
	wait_csts(1, 0);
	wr64(0x28, far);
	wr(0x14, 1 | 6 << 16 | 4 << 20);
	check("enable-asq-outside-ram", wait_csts(3, 2) ? 0xbad : 0, 0);
	ctrl_enable();
	check("control-after-reset", submit(0, identify(pa[P_BUF], 0)), 0);
	io_queues();
	check("control-after", submit(1, rw(2, 1, 0, 7, pa[P_BUF], 0)), 0);
	wr(0x14, 0);
	wait_csts(1, 0);
	printf("HOSTILE-DONE failures=%d\n", failures);
	return failures != 0;
}
