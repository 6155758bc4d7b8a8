/*
 * net_hostile: a hostile guest driver for a virtio-net device on
 * virtio-mmio (tests/e2e/cases/net-hostile.sh).
 *
 *   net_hostile MAC [no-small-rx]
 *
 * Takes the NIC with MAC away from the guest kernel (unbinds virtio_net,
 * then virtio-mmio), maps its registers through /dev/mem and drives the
 * device itself (split rings of 8 entries: receiveq 0, transmitq 1 and the
 * control queue) with malformed chains: buffers outside RAM, wrapping
 * lengths, loops, zero-length and too-short buffers, write-only transmit
 * buffers, oversized frames and bad GSO headers; control commands of an
 * unknown class or command, too short, without an ack byte, with MAC tables
 * that claim more entries than they hold, VQ_PAIRS_SET out of range; random
 * ring bytes. The receive attacks need frames: L1 sends pings to the NIC.
 * Each attack starts from a freshly reset device and prints one line:
 *
 *   ATTACK <name> status=0x.. used=N ack=0x.. ok|UNEXPECTED(...)
 *
 * status: the status register afterwards (0x40 = DEVICE_NEEDS_RESET); used:
 * chains the device returned on the attacked queue; ack: the control
 * command's ack byte (0xee: never written). Then "HOSTILE-SUMMARY ..." and
 * "HOSTILE-DONE". Boot with iomem=relaxed (see virtio_hostile.h).
 *
 * no-small-rx leaves out receive buffers shorter than a frame: QEMU 7.2
 * aborts on them (iov_from_buf_full assertion), which ends a check of this
 * program against QEMU early.
 *
 * Exit status: 0 when every attack did what was expected, 1 otherwise,
 * 2 when the device could not be taken over.
 */
#include <libgen.h>
#include <limits.h>
#include <dirent.h>

#include "virtio_hostile.h"

#define F_MAC			(1ull << 5)
#define F_CTRL_VQ		(1ull << 17)
#define F_CTRL_RX		(1ull << 18)
#define F_MQ			(1ull << 22)
#define F_CTRL_MAC_ADDR		(1ull << 23)

#define CTRL_RX			0
#define CTRL_RX_PROMISC		0
#define CTRL_MAC		1
#define CTRL_MAC_TABLE_SET	0
#define CTRL_MAC_ADDR_SET	1
#define CTRL_ANNOUNCE		3
#define CTRL_MQ			4
#define CTRL_MQ_VQ_PAIRS_SET	0

#define NET_OK			0
#define NET_ERR			1

#define QSIZE			8
#define HDR_LEN			12	/* virtio_net_hdr with num_buffers (VERSION_1) */
#define SENTINEL		0xee
#define CANARY			0xa5

/* Pages: a ring page per queue, then buffers. */
enum { P_RXQ, P_TXQ, P_CTLQ, P_CMD, P_RX, P_TX, P_BIG, NPAGES = P_BIG + 4 };
enum { Q_RX, Q_TX, Q_CTL, NQ };
#define OFF_DESC		0x000
#define OFF_AVAIL		0x400
#define OFF_USED		0x800
/* In P_CMD: command header, data, ack. */
#define OFF_CLASS		0x000
#define OFF_DATA		0x100
#define OFF_ACK			0xf00

static uint64_t ram_end;
static uint64_t features;	/* what we accept of the device's offer */
static unsigned qidx[NQ];	/* device queue numbers: rx0, tx0, control */
static uint16_t max_pairs;
static uint8_t mac[6];
static uint16_t avail_idx[NQ], used_base[NQ];
static unsigned n_attacks, n_unexpected;

static struct desc *desc(unsigned q, unsigned i)
{
	return (struct desc *)(mem + q * PAGE + OFF_DESC) + i;
}
static volatile uint16_t *avail(unsigned q) { return (volatile uint16_t *)(mem + q * PAGE + OFF_AVAIL); }
static volatile uint16_t *used(unsigned q) { return (volatile uint16_t *)(mem + q * PAGE + OFF_USED); }
static uint8_t *cmd(void) { return mem + P_CMD * PAGE; }
static volatile uint8_t *ack(void) { return mem + P_CMD * PAGE + OFF_ACK; }

static uint16_t used_idx(unsigned q)
{
	return __atomic_load_n(&used(q)[1], __ATOMIC_ACQUIRE);
}

/* Length the device wrote into used element @n of queue @q. */
static uint32_t used_len(unsigned q, unsigned n)
{
	return *(volatile uint32_t *)(mem + q * PAGE + OFF_USED + 4 + 8 * (n % QSIZE) + 4);
}

static void set_desc(unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	*desc(q, i) = (struct desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static void add_head(unsigned q, uint16_t head)
{
	avail(q)[2 + avail_idx[q] % QSIZE] = head;
	avail_idx[q]++;
	__atomic_store_n(&avail(q)[1], avail_idx[q], __ATOMIC_RELEASE);
}

static void kick(unsigned q)
{
	wr(R_QUEUE_NOTIFY, qidx[q]);
}

/* ---- taking the device from the guest kernel ---- */

static uint64_t take_device(const char *want)
{
	char path[PATH_MAX], link[PATH_MAX], buf[64], vdev[64], pdev[64], ifname[256] = "";
	struct dirent *e;
	DIR *d = opendir("/sys/class/net");
	char *copy;
	uint64_t base;

	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", e->d_name);
		if (e->d_name[0] != '.' && !read_file(path, buf, sizeof(buf)) && !strcmp(buf, want))
			snprintf(ifname, sizeof(ifname), "%s", e->d_name);
	}
	if (d)
		closedir(d);
	if (!ifname[0])
		die(2, "no network interface with MAC %s", want);
	snprintf(link, sizeof(link), "/sys/class/net/%s/device", ifname);
	if (!realpath(link, path))
		die(2, "no %s: %s", link, strerror(errno));
	snprintf(vdev, sizeof(vdev), "%s", basename(path));	/* virtioN */
	copy = strdup(path);
	snprintf(pdev, sizeof(pdev), "%s", basename(dirname(copy)));	/* LNRO0005:NN */
	free(copy);
	base = iomem_start(pdev);
	if (!base)
		die(2, "no /proc/iomem entry for %s (is %s on virtio-mmio?)", pdev, ifname);
	printf("HOSTILE victim=%s mac=%s virtio=%s platform=%s base=%#" PRIx64 "\n", ifname, want,
	       vdev, pdev, base);
	if (write_file("/sys/bus/virtio/drivers/virtio_net/unbind", vdev))
		die(2, "unbinding %s from virtio_net: %s", vdev, strerror(errno));
	if (write_file("/sys/bus/platform/drivers/virtio-mmio/unbind", pdev))
		die(2, "unbinding %s from virtio-mmio: %s", pdev, strerror(errno));
	snprintf(path, sizeof(path), "/sys/class/net/%s", ifname);
	if (access(path, F_OK) == 0)
		die(2, "%s is still there after unbinding", path);
	return base;
}

/* ---- driving the device ---- */

/* Reset, negotiate, set up the three queues, DRIVER_OK; the status after. */
static uint32_t setup_device(void)
{
	uint32_t st;

	for (unsigned q = 0; q < NQ; q++) {
		memset(mem + q * PAGE, 0, PAGE);
		avail_idx[q] = used_base[q] = 0;
	}
	memset(cmd(), 0, PAGE);
	*ack() = SENTINEL;
	if (!reset_device())
		return rd(R_STATUS) | 0x100;
	st = negotiate(features, false);
	if (!(st & S_FEATURES_OK))
		return st;
	for (unsigned q = 0; q < NQ; q++)
		if (setup_queue(qidx[q], QSIZE, pa[q] + OFF_DESC, pa[q] + OFF_AVAIL, pa[q] + OFF_USED))
			return rd(R_STATUS) | 0x200;
	wr(R_STATUS, st | S_DRIVER_OK);
	return rd(R_STATUS);
}

static void wait_device(unsigned q, double secs, bool full)
{
	double t0 = now();

	while (now() - t0 < secs) {
		if (!full && (used_idx(q) != used_base[q] || (rd(R_STATUS) & S_NEEDS_RESET)))
			break;
		usleep(500);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

enum expect {
	EXPECT_RESET,		/* NEEDS_RESET, nothing used */
	EXPECT_ACK,		/* control: one chain used, ack = want, device running */
	EXPECT_ACK_ANY,		/* control: one chain used, ack OK or ERR, device running */
	EXPECT_ERR_OR_RESET,	/* control: ack ERR and running, or NEEDS_RESET */
	EXPECT_USED,		/* one chain used, device running */
	EXPECT_USED_OR_RESET,	/* dropped (used, running) or NEEDS_RESET */
	EXPECT_NOTHING,		/* nothing used, device running */
	EXPECT_ANY,		/* anything but a dead device (the next set-up checks) */
};

struct result {
	uint32_t status;
	uint16_t used;
	uint8_t ack;
};

static void report(const char *name, const struct result *r, enum expect ex, int want,
		   const char *extra)
{
	bool reset = r->status & S_NEEDS_RESET;
	bool running = (r->status & (S_RUNNING | S_NEEDS_RESET | S_FAILED)) == S_RUNNING;
	const char *why = NULL;

	switch (ex) {
	case EXPECT_RESET:
		if (!reset || r->used)
			why = "expected NEEDS_RESET and nothing used";
		break;
	case EXPECT_ACK:
		if (!running || r->used != 1 || r->ack != want)
			why = want ? "expected ack ERR, device running" : "expected ack OK, device running";
		break;
	case EXPECT_ACK_ANY:
		if (!running || r->used != 1 || (r->ack != NET_OK && r->ack != NET_ERR))
			why = "expected ack OK or ERR, device running";
		break;
	case EXPECT_ERR_OR_RESET:
		if (!reset && (!running || r->used != 1 || r->ack != NET_ERR))
			why = "expected ack ERR or NEEDS_RESET";
		break;
	case EXPECT_USED:
		if (!running || r->used != 1)
			why = "expected one used chain, device running";
		break;
	case EXPECT_USED_OR_RESET:
		if (!reset && (!running || r->used != 1))
			why = "expected the chain used (dropped) or NEEDS_RESET";
		break;
	case EXPECT_NOTHING:
		if (!running || r->used)
			why = "expected the device running and nothing used";
		break;
	case EXPECT_ANY:
		break;
	}
	n_attacks++;
	if (why)
		n_unexpected++;
	printf("ATTACK %s status=0x%02x used=%u ack=0x%02x%s%s %s%s%s\n", name, r->status, r->used,
	       r->ack, extra ? " " : "", extra ? extra : "", why ? "UNEXPECTED(" : "ok",
	       why ? why : "", why ? ")" : "");
	drain();
}

/*
 * One attack on queue @q: set the device up, let @prep write the rings and
 * kick, wait (@secs: the receive attacks wait for a frame from L1), report.
 */
static void attack(const char *name, unsigned q, void (*prep)(void), enum expect ex, int want,
		   double secs)
{
	struct result r = { 0 };
	uint32_t st = setup_device();

	if (st != S_RUNNING) {
		n_attacks++;
		n_unexpected++;
		printf("ATTACK %s status=0x%02x UNEXPECTED(setup failed)\n", name, st);
		drain();
		return;
	}
	prep();
	wait_device(q, secs, ex == EXPECT_NOTHING);
	r.status = rd(R_STATUS);
	r.used = used_idx(q) - used_base[q];
	r.ack = *ack();
	if (rd(R_INTERRUPT_STATUS))
		wr(R_INTERRUPT_ACK, rd(R_INTERRUPT_STATUS));
	report(name, &r, ex, want, NULL);
}

/* ---- control queue ---- */

/*
 * A command: class/command header (2 bytes), @len bytes of data from
 * OFF_DATA (none if 0), the ack byte. Descriptors 0, 1, 2.
 */
static void command(uint8_t class, uint8_t cmdno, uint32_t len)
{
	unsigned i = 0;

	cmd()[OFF_CLASS] = class;
	cmd()[OFF_CLASS + 1] = cmdno;
	set_desc(Q_CTL, i, pa[P_CMD] + OFF_CLASS, 2, D_NEXT, i + 1);
	i++;
	if (len) {
		set_desc(Q_CTL, i, pa[P_CMD] + OFF_DATA, len, D_NEXT, i + 1);
		i++;
	}
	set_desc(Q_CTL, i, pa[P_CMD] + OFF_ACK, 1, D_WRITE, 0);
}

static void send_command(void)
{
	add_head(Q_CTL, 0);
	kick(Q_CTL);
}

static void c_promisc(void)
{
	command(CTRL_RX, CTRL_RX_PROMISC, 1);
	cmd()[OFF_DATA] = 1;
	send_command();
}

static void c_bad_class(void)
{
	command(0x77, 0, 1);
	send_command();
}

static void c_bad_command(void)
{
	command(CTRL_RX, 0x55, 1);
	send_command();
}

static void c_short_header(void)
{
	command(CTRL_RX, CTRL_RX_PROMISC, 0);
	desc(Q_CTL, 0)->len = 1;
	send_command();
}

static void c_no_data(void)
{
	command(CTRL_RX, CTRL_RX_PROMISC, 0);
	send_command();
}

static void c_no_ack(void)
{
	command(CTRL_RX, CTRL_RX_PROMISC, 1);
	desc(Q_CTL, 1)->flags = 0;
	send_command();
}

static void c_ack_readonly(void)
{
	command(CTRL_RX, CTRL_RX_PROMISC, 1);
	desc(Q_CTL, 2)->flags = 0;
	send_command();
}

static void c_ack_zero_len(void)
{
	command(CTRL_RX, CTRL_RX_PROMISC, 1);
	desc(Q_CTL, 2)->len = 0;
	send_command();
}

static void put32(unsigned off, uint32_t v)
{
	memcpy(cmd() + off, &v, 4);
}

/* MAC_TABLE_SET: unicast table claiming 2^32-1 entries in 10 bytes. */
static void c_mac_table_huge_count(void)
{
	command(CTRL_MAC, CTRL_MAC_TABLE_SET, 10);
	put32(OFF_DATA, 0xffffffff);
	send_command();
}

/* Two entries claimed, one there, no multicast table. */
static void c_mac_table_truncated(void)
{
	command(CTRL_MAC, CTRL_MAC_TABLE_SET, 10);
	put32(OFF_DATA, 2);
	send_command();
}

/* A real table of 600 unicast entries (3.5 KiB) and an empty multicast one. */
static void c_mac_table_big(void)
{
	unsigned n = 600;

	command(CTRL_MAC, CTRL_MAC_TABLE_SET, 4 + 6 * n + 4);
	/* The data would overrun OFF_ACK: the table lives in its own page. */
	desc(Q_CTL, 1)->addr = pa[P_BIG];
	memcpy(mem + P_BIG * PAGE, &n, 4);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *m = mem + P_BIG * PAGE + 4 + 6 * i;

		m[0] = 0x52, m[1] = 0x54, m[2] = 0, m[3] = 0xee, m[4] = i >> 8, m[5] = i;
	}
	memset(mem + P_BIG * PAGE + 4 + 6 * n, 0, 4);
	send_command();
}

static void c_mac_addr_short(void)
{
	command(CTRL_MAC, CTRL_MAC_ADDR_SET, 3);
	send_command();
}

static uint16_t pairs_arg;

static void c_vq_pairs(void)
{
	command(CTRL_MQ, CTRL_MQ_VQ_PAIRS_SET, 2);
	memcpy(cmd() + OFF_DATA, &pairs_arg, 2);
	send_command();
}

static void c_announce(void)
{
	command(CTRL_ANNOUNCE, 0, 0);
	send_command();
}

static void c_outside_ram(void)
{
	command(CTRL_RX, CTRL_RX_PROMISC, 1);
	desc(Q_CTL, 1)->addr = 0xfffffffff000ull;
	send_command();
}

static void c_loop(void)
{
	command(CTRL_RX, CTRL_RX_PROMISC, 1);
	desc(Q_CTL, 1)->next = 0;
	send_command();
}

static void c_len_wrap(void)
{
	command(CTRL_RX, CTRL_RX_PROMISC, 1);
	desc(Q_CTL, 1)->addr = 0xfffffffffffff000ull;
	desc(Q_CTL, 1)->len = 0x2000;
	send_command();
}

/* ---- transmit queue ---- */

/* A 60-byte broadcast frame (EtherType 0x88b5, local experimental) after a zero header. */
static void tx_frame(void)
{
	uint8_t *p = mem + P_TX * PAGE;

	memset(p, 0, HDR_LEN + 60);
	memset(p + HDR_LEN, 0xff, 6);
	memcpy(p + HDR_LEN + 6, mac, 6);
	p[HDR_LEN + 12] = 0x88, p[HDR_LEN + 13] = 0xb5;
	memcpy(p + HDR_LEN + 14, "EMBER-HOSTILE-TX", 16);
	set_desc(Q_TX, 0, pa[P_TX], HDR_LEN, D_NEXT, 1);
	set_desc(Q_TX, 1, pa[P_TX] + HDR_LEN, 60, 0, 0);
}

static void send_tx(void)
{
	add_head(Q_TX, 0);
	kick(Q_TX);
}

static void t_good(void)
{
	tx_frame();
	send_tx();
}

static void t_outside_ram(void)
{
	tx_frame();
	desc(Q_TX, 1)->addr = 0xfffffffff000ull;
	send_tx();
}

static void t_straddles_ram_end(void)
{
	tx_frame();
	desc(Q_TX, 1)->addr = ram_end - 30;
	send_tx();
}

static void t_len_wrap(void)
{
	tx_frame();
	desc(Q_TX, 1)->addr = 0xfffffffffffff000ull;
	desc(Q_TX, 1)->len = 0x2000;
	send_tx();
}

static void t_loop(void)
{
	tx_frame();
	desc(Q_TX, 1)->flags = D_NEXT;
	desc(Q_TX, 1)->next = 0;
	send_tx();
}

static void t_next_oob(void)
{
	tx_frame();
	desc(Q_TX, 0)->next = QSIZE;
	send_tx();
}

static void t_head_oob(void)
{
	tx_frame();
	add_head(Q_TX, QSIZE + 3);
	kick(Q_TX);
}

static void t_zero_len(void)
{
	set_desc(Q_TX, 0, pa[P_TX], 0, 0, 0);
	send_tx();
}

static void t_short_header(void)
{
	tx_frame();
	set_desc(Q_TX, 0, pa[P_TX], 5, 0, 0);
	send_tx();
}

static void t_header_only(void)
{
	tx_frame();
	desc(Q_TX, 0)->flags = 0;
	send_tx();
}

static void t_write_only(void)
{
	tx_frame();
	desc(Q_TX, 0)->flags = D_WRITE | D_NEXT;
	desc(Q_TX, 1)->flags = D_WRITE;
	send_tx();
}

/* 128 KiB of frame (guest RAM after our pages; the device only reads it). */
static void t_oversized(void)
{
	tx_frame();
	desc(Q_TX, 1)->flags = D_NEXT;
	desc(Q_TX, 1)->next = 2;
	set_desc(Q_TX, 2, pa[P_BIG], 65535, D_NEXT, 3);
	set_desc(Q_TX, 3, pa[P_BIG], 65535, 0, 0);
	send_tx();
}

/* GSO and checksum requests that were not negotiated, with absurd offsets. */
static void t_bad_gso(void)
{
	uint8_t *h = mem + P_TX * PAGE;

	tx_frame();
	h[0] = 1;			/* NEEDS_CSUM */
	h[1] = 1;			/* GSO_TCPV4 */
	h[2] = 0xff, h[3] = 0xff;	/* hdr_len */
	h[4] = 0, h[5] = 0;		/* gso_size 0 */
	h[6] = 0xf0, h[7] = 0xff;	/* csum_start beyond the frame */
	h[8] = 0xfe, h[9] = 0xff;	/* csum_offset */
	send_tx();
}

static void t_notify_bad_queue(void)
{
	tx_frame();
	add_head(Q_TX, 0);
	wr(R_QUEUE_NOTIFY, 0x77);
	wr(R_QUEUE_NOTIFY, 0xffff);
	wr(R_QUEUE_NOTIFY, 0xffffffff);
}

/* ---- receive queue (frames come from L1's pings) ---- */

/* One writable buffer of @len at the start of P_RX, canary bytes after it. */
static void rx_buffer(uint32_t len)
{
	memset(mem + P_RX * PAGE, CANARY, PAGE);
	set_desc(Q_RX, 0, pa[P_RX], len, D_WRITE, 0);
	add_head(Q_RX, 0);
	kick(Q_RX);
}

static uint32_t rx_len;

static void r_buffer(void)
{
	rx_buffer(rx_len);
}

static void r_outside_ram(void)
{
	set_desc(Q_RX, 0, 0xfffffffff000ull, 2048, D_WRITE, 0);
	add_head(Q_RX, 0);
	kick(Q_RX);
}

static void r_straddles_ram_end(void)
{
	set_desc(Q_RX, 0, ram_end - 64, 2048, D_WRITE, 0);
	add_head(Q_RX, 0);
	kick(Q_RX);
}

static void r_readonly(void)
{
	memset(mem + P_RX * PAGE, CANARY, PAGE);
	set_desc(Q_RX, 0, pa[P_RX], 2048, 0, 0);
	add_head(Q_RX, 0);
	kick(Q_RX);
}

static void r_loop(void)
{
	memset(mem + P_RX * PAGE, CANARY, PAGE);
	set_desc(Q_RX, 0, pa[P_RX], 1024, D_WRITE | D_NEXT, 1);
	set_desc(Q_RX, 1, pa[P_RX] + 1024, 1024, D_WRITE | D_NEXT, 0);
	add_head(Q_RX, 0);
	kick(Q_RX);
}

static void r_huge_len(void)
{
	set_desc(Q_RX, 0, pa[P_RX], 0xffffffff, D_WRITE, 0);
	add_head(Q_RX, 0);
	kick(Q_RX);
}

/*
 * A well-formed receive buffer of @len: when a frame fits it must come back
 * addressed to us or to a group; in any case nothing may be written past
 * the buffer.
 */
static void rx_checked(const char *name, uint32_t len, enum expect ex)
{
	struct result r = { 0 };
	char extra[96];
	uint8_t *p = mem + P_RX * PAGE;
	bool canary = true, addressed;
	uint32_t got = 0;

	if (setup_device() != S_RUNNING) {
		n_attacks++;
		n_unexpected++;
		printf("ATTACK %s UNEXPECTED(setup failed)\n", name);
		drain();
		return;
	}
	rx_len = len;
	r_buffer();
	wait_device(Q_RX, 3.0, false);
	r.status = rd(R_STATUS);
	r.used = used_idx(Q_RX);
	r.ack = SENTINEL;
	if (r.used)
		got = used_len(Q_RX, 0);
	for (unsigned i = len; i < PAGE; i++)
		canary &= p[i] == CANARY;
	/* Ours, or group-addressed (L1 sends IPv6 multicast too). */
	addressed = !memcmp(p + HDR_LEN, mac, 6) || (p[HDR_LEN] & 1);
	snprintf(extra, sizeof(extra), "len=%u frame=%s canary=%s", got,
		 r.used && got > HDR_LEN + 14 && addressed ? "ours" : "none",
		 canary ? "intact" : "OVERWRITTEN");
	if (rd(R_INTERRUPT_STATUS))
		wr(R_INTERRUPT_ACK, rd(R_INTERRUPT_STATUS));
	report(name, &r, ex, 0, extra);
	if (!canary || got > len || (ex == EXPECT_USED && (got <= HDR_LEN + 14 || !addressed))) {
		n_unexpected++;
		printf("ATTACK %s UNEXPECTED(bad frame or write past the buffer)\n", name);
		drain();
	}
}

/* ---- random rings ---- */

static unsigned garbage_q;

static void g_garbage(void)
{
	garbage_ring(mem + garbage_q * PAGE, OFF_AVAIL, QSIZE, rnd() % 2);
	used_base[garbage_q] = used_idx(garbage_q);
	kick(garbage_q);
}

/* Random chains over the command and transmit pages, random commands. */
static void g_fuzz(void)
{
	unsigned q = garbage_q, n = 1 + rnd() % QSIZE;

	for (unsigned i = 0; i < QSIZE; i++) {
		unsigned pg = rnd() % 2 ? P_CMD : P_TX;
		uint32_t off = rnd() % PAGE, len = rnd() % (PAGE - off + 1);

		set_desc(q, i, pa[pg] + off, len, rnd() & (D_NEXT | D_WRITE), rnd() % (QSIZE + 2));
	}
	for (unsigned i = 0; i < 0x200; i++)
		cmd()[i] = rnd() % 4 ? rnd() % 6 : rnd();
	for (unsigned i = 0; i < n; i++)
		add_head(q, rnd() % (QSIZE + 1));
	kick(q);
}

int main(int argc, char **argv)
{
	uint64_t base, offer;
	char name[40];

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "no-small-rx")))
		die(2, "usage: net_hostile MAC [no-small-rx]");
	setvbuf(stdout, NULL, _IOLBF, 0);
	ram_end = find_ram_end();
	base = take_device(argv[1]);
	map_device(base, 1);
	alloc_pages(NPAGES);
	offer = device_features();
	features = offer & (F_VERSION_1 | F_MAC | F_CTRL_VQ | F_CTRL_RX | F_MQ | F_CTRL_MAC_ADDR);
	for (unsigned i = 0; i < 6; i++)
		mac[i] = ((volatile uint8_t *)regs)[R_CONFIG + i];
	max_pairs = features & F_MQ ? ((volatile uint16_t *)regs)[(R_CONFIG + 8) / 2] : 1;
	qidx[Q_RX] = 0;
	qidx[Q_TX] = 1;
	qidx[Q_CTL] = 2 * max_pairs;
	printf("HOSTILE offer=%#" PRIx64 " accept=%#" PRIx64 " max_pairs=%u ctrl=%u ram_end=%#" PRIx64
	       "\n", offer, features, max_pairs, qidx[Q_CTL], ram_end);
	if (!(features & F_VERSION_1) || !(features & F_CTRL_VQ))
		die(2, "the device offers no VERSION_1 or no control queue");

	/* The control queue. */
	attack("ctl-promisc-on", Q_CTL, c_promisc, EXPECT_ACK, NET_OK, 1.0);
	attack("ctl-bad-class", Q_CTL, c_bad_class, EXPECT_ACK, NET_ERR, 1.0);
	attack("ctl-bad-command", Q_CTL, c_bad_command, EXPECT_ACK, NET_ERR, 1.0);
	attack("ctl-short-header", Q_CTL, c_short_header, EXPECT_ERR_OR_RESET, 0, 1.0);
	attack("ctl-no-data", Q_CTL, c_no_data, EXPECT_ERR_OR_RESET, 0, 1.0);
	attack("ctl-no-ack", Q_CTL, c_no_ack, EXPECT_USED_OR_RESET, 0, 1.0);
	attack("ctl-ack-readonly", Q_CTL, c_ack_readonly, EXPECT_USED_OR_RESET, 0, 1.0);
	attack("ctl-ack-zero-len", Q_CTL, c_ack_zero_len, EXPECT_USED_OR_RESET, 0, 1.0);
	attack("ctl-mac-table-huge-count", Q_CTL, c_mac_table_huge_count, EXPECT_ACK, NET_ERR, 1.0);
	attack("ctl-mac-table-truncated", Q_CTL, c_mac_table_truncated, EXPECT_ACK, NET_ERR, 1.0);
	attack("ctl-mac-table-600", Q_CTL, c_mac_table_big, EXPECT_ACK_ANY, 0, 1.0);
	attack("ctl-mac-addr-short", Q_CTL, c_mac_addr_short, EXPECT_ACK, NET_ERR, 1.0);
	pairs_arg = 0;
	attack("ctl-vq-pairs-zero", Q_CTL, c_vq_pairs, EXPECT_ACK, NET_ERR, 1.0);
	pairs_arg = max_pairs + 1;
	attack("ctl-vq-pairs-over-max", Q_CTL, c_vq_pairs, EXPECT_ACK, NET_ERR, 1.0);
	pairs_arg = 0x8001;
	attack("ctl-vq-pairs-0x8001", Q_CTL, c_vq_pairs, EXPECT_ACK, NET_ERR, 1.0);
	pairs_arg = 0xffff;
	attack("ctl-vq-pairs-0xffff", Q_CTL, c_vq_pairs, EXPECT_ACK, NET_ERR, 1.0);
	pairs_arg = 1;
	attack("ctl-vq-pairs-one", Q_CTL, c_vq_pairs, EXPECT_ACK, features & F_MQ ? NET_OK : NET_ERR,
	       1.0);
	attack("ctl-announce-not-negotiated", Q_CTL, c_announce, EXPECT_ACK, NET_ERR, 1.0);
	attack("ctl-outside-ram", Q_CTL, c_outside_ram, EXPECT_RESET, 0, 1.0);
	attack("ctl-addr-len-wrap", Q_CTL, c_len_wrap, EXPECT_RESET, 0, 1.0);
	attack("ctl-chain-loop", Q_CTL, c_loop, EXPECT_RESET, 0, 1.0);

	/* The transmit queue. */
	attack("tx-good", Q_TX, t_good, EXPECT_USED, 0, 1.0);
	attack("tx-outside-ram", Q_TX, t_outside_ram, EXPECT_RESET, 0, 1.0);
	attack("tx-straddles-ram-end", Q_TX, t_straddles_ram_end, EXPECT_RESET, 0, 1.0);
	attack("tx-addr-len-wrap", Q_TX, t_len_wrap, EXPECT_RESET, 0, 1.0);
	attack("tx-chain-loop", Q_TX, t_loop, EXPECT_RESET, 0, 1.0);
	attack("tx-next-out-of-range", Q_TX, t_next_oob, EXPECT_RESET, 0, 1.0);
	attack("tx-head-out-of-range", Q_TX, t_head_oob, EXPECT_RESET, 0, 1.0);
	attack("tx-zero-len", Q_TX, t_zero_len, EXPECT_USED_OR_RESET, 0, 1.0);
	attack("tx-short-header", Q_TX, t_short_header, EXPECT_USED_OR_RESET, 0, 1.0);
	attack("tx-header-only", Q_TX, t_header_only, EXPECT_USED_OR_RESET, 0, 1.0);
	attack("tx-write-only", Q_TX, t_write_only, EXPECT_USED_OR_RESET, 0, 1.0);
	attack("tx-oversized-128k", Q_TX, t_oversized, EXPECT_USED_OR_RESET, 0, 1.0);
	attack("tx-bad-gso", Q_TX, t_bad_gso, EXPECT_USED_OR_RESET, 0, 1.0);
	/* A device may take chains without a kick; it must just survive. */
	attack("tx-notify-bad-queue", Q_TX, t_notify_bad_queue, EXPECT_ANY, 0, 0.5);

	/* The receive queue: each waits for one of L1's frames. */
	rx_checked("rx-good", 2048, EXPECT_USED);
	if (argc == 2) {
		rx_checked("rx-too-small-8", 8, EXPECT_ANY);
		rx_checked("rx-too-small-64", 64, EXPECT_ANY);
	}
	attack("rx-outside-ram", Q_RX, r_outside_ram, EXPECT_RESET, 0, 3.0);
	attack("rx-straddles-ram-end", Q_RX, r_straddles_ram_end, EXPECT_RESET, 0, 3.0);
	attack("rx-huge-len", Q_RX, r_huge_len, EXPECT_RESET, 0, 3.0);
	attack("rx-chain-loop", Q_RX, r_loop, EXPECT_RESET, 0, 3.0);
	attack("rx-readonly", Q_RX, r_readonly, EXPECT_ANY, 0, 3.0);

	/* Random rings and chains on the transmit and control queues. */
	printf("HOSTILE garbage seed=%#" PRIx64 "\n", rng);
	for (unsigned i = 0; i < 16; i++) {
		garbage_q = i % 2 ? Q_CTL : Q_TX;
		snprintf(name, sizeof(name), "g-garbage-%02u", i);
		attack(name, garbage_q, g_garbage, EXPECT_ANY, 0, 0.3);
		snprintf(name, sizeof(name), "g-fuzz-%02u", i);
		attack(name, garbage_q, g_fuzz, EXPECT_ANY, 0, 0.3);
	}

	/* The device still works after all that. */
	attack("control-after-ctl", Q_CTL, c_promisc, EXPECT_ACK, NET_OK, 1.0);
	attack("control-after-tx", Q_TX, t_good, EXPECT_USED, 0, 1.0);
	rx_checked("control-after-rx", 2048, EXPECT_USED);
	reset_device();
	printf("HOSTILE-SUMMARY attacks=%u unexpected=%u\n", n_attacks, n_unexpected);
	printf("HOSTILE-DONE\n");
	return n_unexpected ? 1 : 0;
}
