/*
 * virtio_hostile: a hostile guest driver for ember's e2e tests
 * (tests/e2e/cases/blk-hostile-mmio.sh).
 *
 * Runs as root inside an L2 guest. It takes the first virtio-blk disk
 * (vda) away from the guest kernel (unbinds virtio_blk, then virtio-mmio),
 * maps its virtio-mmio registers through /dev/mem, and drives the device
 * itself (virtio 1.2, 4.2.2, split ring, queue 0 of 8 entries) with
 * malformed rings: addresses outside RAM, lengths that wrap, loops,
 * indices out of range, indirect tables, requests past the disk's end,
 * random bytes. Each attack starts from a freshly reset and set-up device
 * and prints one line:
 *
 *   ATTACK <name> status=0x.. used=N blk=0x.. isr=0x.. ok|UNEXPECTED(...)
 *
 * status: the device status register afterwards (0x40 = DEVICE_NEEDS_RESET);
 * used: how many chains the device returned; blk: the request's status byte
 * (0xee: never written); isr: InterruptStatus. Then "HOSTILE-SUMMARY ..."
 * and "HOSTILE-DONE". Every wait is bounded (about 1 s).
 *
 * /dev/mem: CONFIG_IO_STRICT_DEVMEM refuses a page that a driver holds, and
 * the virtio-mmio slots are 0x200 apart, so vdb's registers share vda's
 * page: boot the guest with iomem=relaxed.
 *
 * Ring memory: 16 locked pages from posix_memalign; every ring area and
 * buffer stays inside one page, whose physical address comes from
 * /proc/self/pagemap. Buffers that the device may write point into these
 * pages or outside guest RAM, so a device that took a chain it should have
 * refused would still not touch the rest of the guest.
 *
 * Exit status: 0 when every attack did what was expected, 1 otherwise,
 * 2 when the device could not be taken over.
 */
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>

#include "virtio_hostile.h"

#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_S_OK		0
#define BLK_S_IOERR		1
#define BLK_S_UNSUPP		2

#define QSIZE			8
#define NPAGES			16
#define SENTINEL		0xee

/* Pages of the ring memory. */
enum { P_RING, P_HDR, P_DATA, P_TABLE, P_DATA2 };
/* In P_RING: the three areas of a split ring of QSIZE entries. */
#define OFF_DESC		0x000
#define OFF_AVAIL		0x400
#define OFF_USED		0x800
/* In P_HDR. */
#define OFF_HDR			0x000
#define OFF_HDR2		0x040
#define OFF_STATUS		0x100

#define VICTIM_MARK		"EMBER-VICTIM-SECTOR0"

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static uint64_t capacity;	/* sectors */
static uint64_t ram_end;	/* end of the highest System RAM below 4 GiB */
static uint16_t avail_idx;	/* the driver's next avail index */
static uint16_t used_base;	/* used idx before the attack (garbage sets it) */
static unsigned n_attacks, n_unexpected;

/* ---- taking the device from the guest kernel ---- */

static uint64_t take_device(void)
{
	char path[PATH_MAX], vdev[64], pdev[64], buf[64];
	char *copy;
	uint64_t base;

	if (!realpath("/sys/block/vda/device", path))
		die(2, "no /sys/block/vda/device: %s", strerror(errno));
	/* .../LNRO0005:00/virtio0 */
	snprintf(vdev, sizeof(vdev), "%s", basename(path));
	copy = strdup(path);
	snprintf(pdev, sizeof(pdev), "%s", basename(dirname(copy)));
	free(copy);
	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device", vdev);
	if (read_file(path, buf, sizeof(buf)) || strtoul(buf, NULL, 0) != 2)
		die(2, "%s is not a virtio block device (%s)", vdev, buf);
	base = iomem_start(pdev);
	if (!base)
		die(2, "no /proc/iomem entry for %s", pdev);
	if (read_file("/sys/block/vda/serial", buf, sizeof(buf)))
		buf[0] = 0;
	printf("HOSTILE victim=vda serial=%s virtio=%s platform=%s base=%#" PRIx64 "\n",
	       buf, vdev, pdev, base);

	if (write_file("/sys/bus/virtio/drivers/virtio_blk/unbind", vdev))
		die(2, "unbinding %s from virtio_blk: %s", vdev, strerror(errno));
	if (write_file("/sys/bus/platform/drivers/virtio-mmio/unbind", pdev))
		die(2, "unbinding %s from virtio-mmio: %s", pdev, strerror(errno));
	if (access("/sys/block/vda", F_OK) == 0)
		die(2, "/sys/block/vda is still there after unbinding");
	return base;
}

static void map_blk(uint64_t base)
{
	map_device(base, 2);
	capacity = rd(R_CONFIG) | (uint64_t)rd(R_CONFIG + 4) << 32;
	printf("HOSTILE mapped vendor=%#x capacity=%" PRIu64 " queue_num_max=%u\n",
	       rd(R_VENDOR_ID), capacity, (wr(R_QUEUE_SEL, 0), rd(R_QUEUE_NUM_MAX)));
}

/* ---- driving the device ---- */

static struct desc *desc(unsigned i) { return (struct desc *)(mem + OFF_DESC) + i; }
static volatile uint16_t *avail(void) { return (volatile uint16_t *)(mem + OFF_AVAIL); }
static volatile uint16_t *used(void) { return (volatile uint16_t *)(mem + OFF_USED); }
static struct blk_hdr *hdr(void) { return (struct blk_hdr *)(mem + P_HDR * PAGE + OFF_HDR); }
static volatile uint8_t *status_byte(void) { return mem + P_HDR * PAGE + OFF_STATUS; }
static uint8_t *data(void) { return mem + P_DATA * PAGE; }

static uint16_t used_idx(void)
{
	return __atomic_load_n(&used()[1], __ATOMIC_ACQUIRE);
}

struct setup {
	uint64_t features;
	uint32_t qnum;
	uint64_t desc, driver, device;
	bool skip_features_ok;
};

static struct setup default_setup(void)
{
	return (struct setup){
		.features = F_VERSION_1, .qnum = QSIZE,
		.desc = pa[P_RING] + OFF_DESC, .driver = pa[P_RING] + OFF_AVAIL,
		.device = pa[P_RING] + OFF_USED,
	};
}

/* Reset and set up queue 0; returns the status read back after DRIVER_OK. */
static uint32_t setup_device(const struct setup *s)
{
	uint32_t st;

	memset(mem + P_RING * PAGE, 0, PAGE);
	memset(mem + P_HDR * PAGE, 0, PAGE);
	memset(mem + P_TABLE * PAGE, 0, PAGE);
	avail_idx = used_base = 0;
	if (!reset_device())
		return rd(R_STATUS) | 0x100;
	st = negotiate(s->features, s->skip_features_ok);
	if (!s->skip_features_ok && !(st & S_FEATURES_OK))
		return st;
	if (setup_queue(0, s->qnum, s->desc, s->driver, s->device))
		return rd(R_STATUS) | 0x200;
	wr(R_STATUS, st | S_DRIVER_OK);
	return rd(R_STATUS);
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static void set_hdr(uint32_t type, uint64_t sector)
{
	*hdr() = (struct blk_hdr){ .type = type, .sector = sector };
}

/* A well-formed read of @sector into the data page: descriptors 0, 1, 2. */
static void read_request(uint64_t sector, uint32_t len)
{
	set_hdr(BLK_T_IN, sector);
	set_desc(0, pa[P_HDR] + OFF_HDR, sizeof(struct blk_hdr), D_NEXT, 1);
	set_desc(1, pa[P_DATA], len, D_WRITE | D_NEXT, 2);
	set_desc(2, pa[P_HDR] + OFF_STATUS, 1, D_WRITE, 0);
}

/* Puts @head in the avail ring and publishes it. */
static void add_head(uint16_t head)
{
	avail()[2 + avail_idx % QSIZE] = head;
	avail_idx++;
	__atomic_store_n(&avail()[1], avail_idx, __ATOMIC_RELEASE);
}

static void kick(void)
{
	wr(R_QUEUE_NOTIFY, 0);
}

/*
 * Waits until the device used a chain (used idx != @old) or asked for a
 * reset, at most @secs; with @full, waits the whole time (nothing is
 * supposed to happen).
 */
static void wait_device(uint16_t old, double secs, bool full)
{
	double t0 = now();

	while (now() - t0 < secs) {
		if (!full && (used_idx() != old || (rd(R_STATUS) & S_NEEDS_RESET)))
			break;
		usleep(500);
	}
	/* A used entry's status byte is written before the index. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- attacks ---- */

enum expect {
	EXPECT_RESET,		/* NEEDS_RESET, nothing used */
	EXPECT_SETUP_RESET,	/* NEEDS_RESET already at DRIVER_OK */
	EXPECT_BLK,		/* one chain used, status byte = want, no NEEDS_RESET */
	EXPECT_NOTHING,		/* nothing used, no NEEDS_RESET */
	EXPECT_REFUSED,		/* FEATURES_OK not accepted */
	EXPECT_ANY,		/* anything but a dead device */
};

struct result {
	uint32_t status;
	uint16_t used;
	uint8_t blk;
	uint32_t isr;
};

static void report(const char *name, const struct result *r, enum expect ex, int want,
		   const char *extra)
{
	char why[96] = "";
	bool reset = r->status & S_NEEDS_RESET;

	switch (ex) {
	case EXPECT_RESET:
	case EXPECT_SETUP_RESET:
		if (!reset || r->used)
			snprintf(why, sizeof(why), "expected NEEDS_RESET and nothing used");
		break;
	case EXPECT_BLK:
		if (reset || r->used != 1 || r->blk != want || (r->status & S_RUNNING) != S_RUNNING)
			snprintf(why, sizeof(why), "expected one used chain with status byte %d, "
				 "device running", want);
		break;
	case EXPECT_NOTHING:
		if (r->status != S_RUNNING || r->used)
			snprintf(why, sizeof(why), "expected the device running and nothing used");
		break;
	case EXPECT_REFUSED:
		if (r->status & (S_FEATURES_OK | S_NEEDS_RESET))
			snprintf(why, sizeof(why), "expected FEATURES_OK to be refused");
		break;
	case EXPECT_ANY:
		break;
	}
	n_attacks++;
	if (why[0])
		n_unexpected++;
	printf("ATTACK %s status=0x%02x used=%u blk=0x%02x isr=0x%x%s%s %s%s%s\n", name,
	       r->status, r->used, r->blk, r->isr, extra ? " " : "", extra ? extra : "",
	       why[0] ? "UNEXPECTED(" : "ok", why, why[0] ? ")" : "");
	drain();
}

static void collect(struct result *r)
{
	r->status = rd(R_STATUS);
	r->used = used_idx();
	r->blk = *status_byte();
	r->isr = rd(R_INTERRUPT_STATUS);
	if (r->isr)
		wr(R_INTERRUPT_ACK, r->isr);
}

/*
 * One attack: set the device up (@s, default if NULL), let @prep write the
 * rings and kick, wait, report.
 */
static void attack(const char *name, const struct setup *s, void (*prep)(void),
		   enum expect ex, int want)
{
	struct setup def = default_setup();
	struct result r = { 0 };
	uint32_t st = setup_device(s ? s : &def);

	if (ex == EXPECT_SETUP_RESET || ex == EXPECT_REFUSED) {
		collect(&r);
		r.status = st;
		report(name, &r, ex, want, NULL);
		return;
	}
	if (st != S_RUNNING) {
		r.status = st;
		n_attacks++;
		n_unexpected++;
		printf("ATTACK %s status=0x%02x UNEXPECTED(setup failed)\n", name, st);
		drain();
		return;
	}
	*status_byte() = SENTINEL;
	prep();
	wait_device(used_base, 1.0, ex == EXPECT_NOTHING);
	collect(&r);
	r.used -= used_base;
	report(name, &r, ex, want, NULL);
}

/* A well-formed read of sector 0: proves the rings and addresses are right. */
static void control(const char *name)
{
	struct setup s = default_setup();
	struct result r = { 0 };
	uint32_t st = setup_device(&s);
	bool same;

	memset(data(), 0, PAGE);
	*status_byte() = SENTINEL;
	read_request(0, 512);
	add_head(0);
	kick();
	wait_device(0, 1.0, false);
	collect(&r);
	if (st != S_RUNNING)
		r.status = st;
	same = !memcmp(data(), VICTIM_MARK, strlen(VICTIM_MARK));
	report(name, &r, EXPECT_BLK, BLK_S_OK, same ? "data=ok" : "data=WRONG");
	if (!same)
		n_unexpected++;
}

/* (a) buffers outside guest RAM */
static void p_addr_outside_ram(void)
{
	read_request(1, 512);
	desc(1)->addr = 0xfffffffff000ull;
	add_head(0);
	kick();
}

/* The readable header, so that a device that took it would not write there. */
static void p_addr_straddles_ram_end(void)
{
	read_request(1, 512);
	desc(0)->addr = ram_end - 256;
	desc(0)->len = 512;
	add_head(0);
	kick();
}

static void p_addr_in_mmio(void)
{
	read_request(1, 512);
	desc(1)->addr = 0xd0000000ull;
	add_head(0);
	kick();
}

static void p_header_outside_ram(void)
{
	read_request(1, 512);
	desc(0)->addr = 0x8000000000000000ull;
	add_head(0);
	kick();
}

/* (b) address + length wrapping 2^64 */
static void p_addr_len_wrap(void)
{
	read_request(1, 512);
	desc(1)->addr = 0xfffffffffffff000ull;
	desc(1)->len = 0x2000;
	add_head(0);
	kick();
}

/* (c) loops */
static void p_chain_loop(void)
{
	set_hdr(BLK_T_IN, 0);
	set_desc(0, pa[P_HDR] + OFF_HDR, sizeof(struct blk_hdr), D_NEXT, 1);
	set_desc(1, pa[P_HDR] + OFF_HDR2, 16, D_NEXT, 0);
	add_head(0);
	kick();
}

static void p_self_loop(void)
{
	set_hdr(BLK_T_IN, 0);
	set_desc(0, pa[P_HDR] + OFF_HDR, sizeof(struct blk_hdr), D_NEXT, 0);
	add_head(0);
	kick();
}

static void p_writable_loop(void)
{
	read_request(0, 512);
	desc(2)->flags = D_WRITE | D_NEXT;
	desc(2)->next = 1;
	add_head(0);
	kick();
}

/* (d) huge length on a valid address */
static void p_huge_len(void)
{
	read_request(0, 512);
	desc(1)->len = 0xffffffff;
	add_head(0);
	kick();
}

/* (e) descriptor indices out of range */
static void p_head_out_of_range(void)
{
	read_request(0, 512);
	add_head(QSIZE);
	kick();
}

static void p_head_ffff(void)
{
	read_request(0, 512);
	add_head(0xffff);
	kick();
}

static void p_next_out_of_range(void)
{
	read_request(0, 512);
	desc(1)->next = QSIZE;
	add_head(0);
	kick();
}

/* (f) avail->idx jumping by more than the queue size */
static void p_avail_jump(void)
{
	read_request(0, 512);
	avail()[2] = 0;
	avail_idx = QSIZE + 1;
	__atomic_store_n(&avail()[1], avail_idx, __ATOMIC_RELEASE);
	kick();
}

static void p_avail_jump_max(void)
{
	read_request(0, 512);
	avail()[2] = 0;
	avail_idx = 0x8000;
	__atomic_store_n(&avail()[1], avail_idx, __ATOMIC_RELEASE);
	kick();
}

/* (g) indirect descriptors; the table is P_TABLE */
static struct desc *table(unsigned i) { return (struct desc *)(mem + P_TABLE * PAGE) + i; }

static void valid_table(void)
{
	set_hdr(BLK_T_IN, 0);
	*table(0) = (struct desc){ pa[P_HDR] + OFF_HDR, sizeof(struct blk_hdr), D_NEXT, 1 };
	*table(1) = (struct desc){ pa[P_DATA], 512, D_WRITE | D_NEXT, 2 };
	*table(2) = (struct desc){ pa[P_HDR] + OFF_STATUS, 1, D_WRITE, 0 };
	set_desc(0, pa[P_TABLE], 3 * sizeof(struct desc), D_INDIRECT, 0);
}

static void p_indirect(void)
{
	valid_table();
	add_head(0);
	kick();
}

static void p_indirect_outside_ram(void)
{
	valid_table();
	desc(0)->addr = 0xfffffffff000ull;
	add_head(0);
	kick();
}

static void p_indirect_bad_len(void)
{
	valid_table();
	desc(0)->len = 40;
	add_head(0);
	kick();
}

static void p_indirect_zero_len(void)
{
	valid_table();
	desc(0)->len = 0;
	add_head(0);
	kick();
}

static void p_indirect_huge_len(void)
{
	valid_table();
	desc(0)->len = 0xfffffff0;
	add_head(0);
	kick();
}

static void p_indirect_nested(void)
{
	valid_table();
	*table(0) = (struct desc){ pa[P_TABLE] + 0x100, 48, D_INDIRECT, 0 };
	add_head(0);
	kick();
}

static void p_indirect_loop(void)
{
	valid_table();
	table(1)->next = 0;
	add_head(0);
	kick();
}

static void p_indirect_next_oob(void)
{
	valid_table();
	table(1)->next = 3;
	add_head(0);
	kick();
}

static void p_indirect_with_next(void)
{
	valid_table();
	desc(0)->flags = D_INDIRECT | D_NEXT;
	desc(0)->next = 1;
	set_desc(1, pa[P_HDR] + OFF_STATUS, 1, D_WRITE, 0);
	add_head(0);
	kick();
}

/* (h) a device-readable descriptor after a writable one */
static void p_read_after_write(void)
{
	read_request(0, 512);
	desc(2)->flags = D_WRITE | D_NEXT;
	desc(2)->next = 3;
	set_desc(3, pa[P_HDR] + OFF_HDR2, 16, 0, 0);
	add_head(0);
	kick();
}

/* (i) well-formed requests the disk cannot do: IOERR, the device stays */
static void p_sector_beyond(void)
{
	read_request(1ull << 40, 512);
	add_head(0);
	kick();
}

static void p_sector_max(void)
{
	read_request(UINT64_MAX, 512);
	add_head(0);
	kick();
}

static void p_sector_wraps(void)
{
	/* sector * 512 wraps to 0 */
	read_request(1ull << 55, 512);
	add_head(0);
	kick();
}

static void p_read_at_capacity(void)
{
	read_request(capacity, 512);
	add_head(0);
	kick();
}

static void p_write_across_end(void)
{
	set_hdr(BLK_T_OUT, capacity - 1);
	set_desc(0, pa[P_HDR] + OFF_HDR, sizeof(struct blk_hdr), D_NEXT, 1);
	set_desc(1, pa[P_DATA2], 4096, D_NEXT, 2);
	set_desc(2, pa[P_HDR] + OFF_STATUS, 1, D_WRITE, 0);
	add_head(0);
	kick();
}

static void p_short_header(void)
{
	read_request(0, 512);
	desc(0)->len = 8;
	add_head(0);
	kick();
}

static void p_bad_type(void)
{
	read_request(0, 512);
	hdr()->type = 0xdead;
	add_head(0);
	kick();
}

static void p_odd_len(void)
{
	read_request(0, 511);
	add_head(0);
	kick();
}

/* Requests without a status byte: the device cannot even say IOERR. */
static void p_no_status(void)
{
	set_hdr(BLK_T_IN, 0);
	set_desc(0, pa[P_HDR] + OFF_HDR, sizeof(struct blk_hdr), 0, 0);
	add_head(0);
	kick();
}

static void p_zero_len_status(void)
{
	set_hdr(BLK_T_IN, 0);
	set_desc(0, pa[P_HDR] + OFF_HDR, sizeof(struct blk_hdr), D_NEXT, 1);
	set_desc(1, pa[P_HDR] + OFF_STATUS, 0, D_WRITE, 0);
	add_head(0);
	kick();
}

/* Notify for queues that do not exist: ignored. */
static void p_notify_bad_queue(void)
{
	read_request(0, 512);
	add_head(0);
	wr(R_QUEUE_NOTIFY, 5);
	wr(R_QUEUE_NOTIFY, 0xffff);
	wr(R_QUEUE_NOTIFY, 0xffffffff);
}

/* (i) continued: after an IOERR, the same queue serves a good request. */
static void sector_beyond_then_good(void)
{
	struct setup s = default_setup();
	struct result r = { 0 };
	uint32_t st = setup_device(&s);
	char extra[64];
	uint8_t first;
	uint16_t u1;

	*status_byte() = SENTINEL;
	read_request(1ull << 40, 512);
	add_head(0);
	kick();
	wait_device(0, 1.0, false);
	first = *status_byte();
	u1 = used_idx();
	/* No reset: the same ring goes on. */
	*status_byte() = SENTINEL;
	memset(data(), 0, PAGE);
	read_request(0, 512);
	add_head(0);
	kick();
	wait_device(u1, 1.0, false);
	collect(&r);
	if (st != S_RUNNING)
		r.status = st;
	snprintf(extra, sizeof(extra), "first-blk=0x%02x first-used=%u then-data=%s", first, u1,
		 memcmp(data(), VICTIM_MARK, strlen(VICTIM_MARK)) ? "WRONG" : "ok");
	r.used -= u1;	/* the second chain */
	report("i-ioerr-then-good", &r, EXPECT_BLK, BLK_S_OK, extra);
	if (first != BLK_S_IOERR || u1 != 1) {
		n_unexpected++;
		printf("ATTACK i-ioerr-then-good UNEXPECTED(first request: blk=0x%02x used=%u)\n",
		       first, u1);
		drain();
	}
}

/*
 * (j) random bytes in the whole ring page (descriptors, avail and used
 * rings); every other round with an avail index and heads that the device
 * will follow, so that the random descriptors are read too.
 */
static unsigned garbage_round;

static void p_garbage(void)
{
	garbage_ring(mem + P_RING * PAGE, OFF_AVAIL, QSIZE, garbage_round++ % 2);
	used_base = used_idx();	/* random too */
	kick();
}

/*
 * (k) random chains whose buffers all lie in the data pages (so whatever
 * the device writes stays in our memory): random lengths, flags, next
 * indices, heads, avail index and request headers.
 */
static void p_fuzz(void)
{
	uint8_t *hp = (uint8_t *)hdr();
	unsigned n = 1 + rnd() % QSIZE;

	for (unsigned i = 0; i < QSIZE; i++) {
		unsigned pg = rnd() % 2 ? P_DATA : P_HDR;
		uint32_t off = rnd() % PAGE, len = rnd() % (PAGE - off + 1);
		uint16_t flags = rnd() & (D_NEXT | D_WRITE | (rnd() % 8 ? 0 : D_INDIRECT));

		if (pg == P_HDR && off < 0x200) {	/* keep the header, scribble elsewhere */
			off += 0x200;
			if (len > PAGE - off)
				len = PAGE - off;
		}
		set_desc(i, pa[pg] + off, len, flags, rnd() % (QSIZE + 2));
	}
	for (unsigned i = 0; i < 0x40; i++)
		hp[i] = rnd();
	hdr()->type = rnd() % 4 == 0 ? (uint32_t)rnd() : rnd() % 2;
	hdr()->sector = rnd() % 2 ? rnd() % (capacity + 8) : rnd();
	for (unsigned i = 0; i < n; i++)
		add_head(rnd() % (QSIZE + 1));
	if (rnd() % 4 == 0) {
		avail_idx += rnd() % (2 * QSIZE);
		__atomic_store_n(&avail()[1], avail_idx, __ATOMIC_RELEASE);
	}
	kick();
}

int main(void)
{
	struct setup s;
	char name[32];
	uint64_t base;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ram_end = find_ram_end();
	base = take_device();
	map_blk(base);
	alloc_pages(NPAGES);
	printf("HOSTILE ram_end=%#" PRIx64 " ring=%#" PRIx64 " data=%#" PRIx64 "\n", ram_end,
	       pa[P_RING], pa[P_DATA]);

	control("control-before");

	attack("a-addr-outside-ram", NULL, p_addr_outside_ram, EXPECT_RESET, 0);
	attack("a-addr-straddles-ram-end", NULL, p_addr_straddles_ram_end, EXPECT_RESET, 0);
	attack("a-addr-in-mmio-hole", NULL, p_addr_in_mmio, EXPECT_RESET, 0);
	attack("a-header-outside-ram", NULL, p_header_outside_ram, EXPECT_RESET, 0);
	attack("b-addr-len-wrap", NULL, p_addr_len_wrap, EXPECT_RESET, 0);
	attack("c-chain-loop", NULL, p_chain_loop, EXPECT_RESET, 0);
	attack("c-self-loop", NULL, p_self_loop, EXPECT_RESET, 0);
	attack("c-writable-loop", NULL, p_writable_loop, EXPECT_RESET, 0);
	attack("d-huge-len", NULL, p_huge_len, EXPECT_RESET, 0);
	attack("e-head-out-of-range", NULL, p_head_out_of_range, EXPECT_RESET, 0);
	attack("e-head-ffff", NULL, p_head_ffff, EXPECT_RESET, 0);
	attack("e-next-out-of-range", NULL, p_next_out_of_range, EXPECT_RESET, 0);
	attack("f-avail-idx-jump", NULL, p_avail_jump, EXPECT_RESET, 0);
	attack("f-avail-idx-jump-max", NULL, p_avail_jump_max, EXPECT_RESET, 0);

	attack("g-indirect-not-negotiated", NULL, p_indirect, EXPECT_RESET, 0);
	s = default_setup();
	s.features |= F_INDIRECT_DESC;
	attack("g-indirect-valid", &s, p_indirect, EXPECT_BLK, BLK_S_OK);
	attack("g-indirect-outside-ram", &s, p_indirect_outside_ram, EXPECT_RESET, 0);
	attack("g-indirect-bad-len", &s, p_indirect_bad_len, EXPECT_RESET, 0);
	attack("g-indirect-zero-len", &s, p_indirect_zero_len, EXPECT_RESET, 0);
	attack("g-indirect-huge-len", &s, p_indirect_huge_len, EXPECT_RESET, 0);
	attack("g-indirect-nested", &s, p_indirect_nested, EXPECT_RESET, 0);
	attack("g-indirect-loop", &s, p_indirect_loop, EXPECT_RESET, 0);
	attack("g-indirect-next-oob", &s, p_indirect_next_oob, EXPECT_RESET, 0);
	attack("g-indirect-with-next", &s, p_indirect_with_next, EXPECT_RESET, 0);

	attack("h-read-after-write", NULL, p_read_after_write, EXPECT_RESET, 0);

	attack("i-sector-beyond-capacity", NULL, p_sector_beyond, EXPECT_BLK, BLK_S_IOERR);
	attack("i-sector-max", NULL, p_sector_max, EXPECT_BLK, BLK_S_IOERR);
	attack("i-sector-times-512-wraps", NULL, p_sector_wraps, EXPECT_BLK, BLK_S_IOERR);
	attack("i-read-at-capacity", NULL, p_read_at_capacity, EXPECT_BLK, BLK_S_IOERR);
	attack("i-write-across-end", NULL, p_write_across_end, EXPECT_BLK, BLK_S_IOERR);
	attack("i-odd-length", NULL, p_odd_len, EXPECT_BLK, BLK_S_IOERR);
	attack("i-short-header", NULL, p_short_header, EXPECT_BLK, BLK_S_IOERR);
	attack("i-bad-type", NULL, p_bad_type, EXPECT_BLK, BLK_S_UNSUPP);
	sector_beyond_then_good();
	attack("n-no-status-byte", NULL, p_no_status, EXPECT_RESET, 0);
	attack("n-zero-len-status", NULL, p_zero_len_status, EXPECT_RESET, 0);
	attack("q-notify-bad-queue", NULL, p_notify_bad_queue, EXPECT_NOTHING, 0);

	/* Set-up errors: DRIVER_OK with a queue the device cannot use. */
	s = default_setup();
	s.qnum = 7;
	attack("r-queue-size-not-pow2", &s, NULL, EXPECT_SETUP_RESET, 0);
	s.qnum = 32768;
	attack("r-queue-size-too-big", &s, NULL, EXPECT_SETUP_RESET, 0);
	s.qnum = 0;
	attack("r-queue-size-zero", &s, NULL, EXPECT_SETUP_RESET, 0);
	s = default_setup();
	s.desc = 0xfffffffff000ull;
	attack("r-ring-outside-ram", &s, NULL, EXPECT_SETUP_RESET, 0);
	s = default_setup();
	s.device = ram_end - 8;
	attack("r-used-ring-straddles-ram-end", &s, NULL, EXPECT_SETUP_RESET, 0);
	s = default_setup();
	s.desc += 8;
	attack("r-ring-misaligned", &s, NULL, EXPECT_SETUP_RESET, 0);
	s = default_setup();
	s.skip_features_ok = true;
	attack("r-driver-ok-without-features-ok", &s, NULL, EXPECT_SETUP_RESET, 0);
	s = default_setup();
	s.features = 1ull << 63 | F_VERSION_1;
	attack("r-feature-not-offered", &s, NULL, EXPECT_REFUSED, 0);
	s.features = 0;
	attack("r-no-version-1", &s, NULL, EXPECT_REFUSED, 0);

	printf("HOSTILE garbage seed=%#" PRIx64 "\n", rng);
	for (unsigned i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "j-garbage-%02u", i);
		attack(name, NULL, p_garbage, EXPECT_ANY, 0);
	}
	for (unsigned i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "k-fuzz-%02u", i);
		attack(name, NULL, p_fuzz, EXPECT_ANY, 0);
	}

	control("control-after");
	reset_device();
	printf("HOSTILE-SUMMARY attacks=%u unexpected=%u\n", n_attacks, n_unexpected);
	printf("HOSTILE-DONE\n");
	return n_unexpected ? 1 : 0;
}
