/*
 * Shared by the hostile guest drivers (virtio_hostile.c for virtio-blk,
 * net_hostile.c for virtio-net): virtio-mmio registers through /dev/mem,
 * locked pages with their physical addresses, split-ring descriptors, and
 * the small helpers. Each program is one static binary, so the state here
 * (regs, mem, pa) is each program's own.
 */
#ifndef VIRTIO_HOSTILE_H
#define VIRTIO_HOSTILE_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <termios.h>

/* virtio-mmio registers (virtio 1.2, 4.2.2). */
#define R_MAGIC			0x000
#define R_VERSION		0x004
#define R_DEVICE_ID		0x008
#define R_VENDOR_ID		0x00c
#define R_DEVICE_FEATURES	0x010
#define R_DEVICE_FEATURES_SEL	0x014
#define R_DRIVER_FEATURES	0x020
#define R_DRIVER_FEATURES_SEL	0x024
#define R_QUEUE_SEL		0x030
#define R_QUEUE_NUM_MAX		0x034
#define R_QUEUE_NUM		0x038
#define R_QUEUE_READY		0x044
#define R_QUEUE_NOTIFY		0x050
#define R_INTERRUPT_STATUS	0x060
#define R_INTERRUPT_ACK		0x064
#define R_STATUS		0x070
#define R_QUEUE_DESC_LOW	0x080
#define R_QUEUE_DESC_HIGH	0x084
#define R_QUEUE_DRIVER_LOW	0x090
#define R_QUEUE_DRIVER_HIGH	0x094
#define R_QUEUE_DEVICE_LOW	0x0a0
#define R_QUEUE_DEVICE_HIGH	0x0a4
#define R_CONFIG		0x100

#define S_ACKNOWLEDGE		0x01
#define S_DRIVER		0x02
#define S_DRIVER_OK		0x04
#define S_FEATURES_OK		0x08
#define S_NEEDS_RESET		0x40
#define S_FAILED		0x80
#define S_RUNNING		(S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

#define F_INDIRECT_DESC		(1ull << 28)
#define F_VERSION_1		(1ull << 32)

#define D_NEXT			1
#define D_WRITE			2
#define D_INDIRECT		4

#define PAGE			4096ul

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static volatile uint32_t *regs;
static uint8_t *mem;
static uint64_t *pa;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static inline void die(int code, const char *fmt, ...)
{
	va_list ap;

	printf("HOSTILE-FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(code);
}

/*
 * The console's bytes are out before the next attack makes ember log
 * something, so that ember's lines do not land inside ours.
 */
static inline void drain(void)
{
	fflush(stdout);
	tcdrain(STDOUT_FILENO);
}

static inline uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline uint32_t rd(unsigned off)
{
	return regs[off / 4];
}

static inline void wr(unsigned off, uint32_t v)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	regs[off / 4] = v;
}

static inline int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static inline int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* The start of the /proc/iomem entry named @name, 0 if none. */
static inline uint64_t iomem_start(const char *name)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];
	uint64_t found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		char n[128];

		if (sscanf(line, " %llx-%llx : %127[^\n]", &s, &e, n) == 3 && !strcmp(n, name))
			found = s;
	}
	fclose(f);
	return found;
}

/* The end of the highest "System RAM" entry below 4 GiB. */
static inline uint64_t find_ram_end(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];
	uint64_t end = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		char n[128];

		if (line[0] != ' ' && sscanf(line, "%llx-%llx : %127[^\n]", &s, &e, n) == 3 &&
		    !strcmp(n, "System RAM") && e < (1ull << 32) && e + 1 > end)
			end = e + 1;
	}
	fclose(f);
	return end;
}

/*
 * Maps the virtio-mmio registers at @base (a device the guest kernel let
 * go) and checks they are a virtio-mmio v2 device of type @device_id.
 */
static inline void map_device(uint64_t base, uint32_t device_id)
{
	uint64_t page = base & ~(PAGE - 1);
	int fd = open("/dev/mem", O_RDWR | O_SYNC);
	void *p;

	if (fd < 0)
		die(2, "open /dev/mem: %s", strerror(errno));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, page);
	if (p == MAP_FAILED)
		die(2, "mmap /dev/mem at %#" PRIx64 ": %s (CONFIG_IO_STRICT_DEVMEM refuses a "
		    "page a driver holds: boot with iomem=relaxed)", page, strerror(errno));
	close(fd);
	regs = (volatile uint32_t *)((uint8_t *)p + (base - page));
	if (rd(R_MAGIC) != 0x74726976 || rd(R_VERSION) != 2 || rd(R_DEVICE_ID) != device_id)
		die(2, "no virtio-mmio v2 device of type %u at %#" PRIx64 " (magic %#x version %u id %u)",
		    device_id, base, rd(R_MAGIC), rd(R_VERSION), rd(R_DEVICE_ID));
}

/* @n locked, zeroed pages in mem, their physical addresses in pa[]. */
static inline void alloc_pages(unsigned n)
{
	int fd;

	pa = calloc(n, sizeof(*pa));
	if (!pa || posix_memalign((void **)&mem, PAGE, n * PAGE))
		die(2, "out of memory");
	memset(mem, 0, n * PAGE);
	if (mlock(mem, n * PAGE))
		die(2, "mlock: %s", strerror(errno));
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		die(2, "open /proc/self/pagemap: %s", strerror(errno));
	for (unsigned i = 0; i < n; i++) {
		uint64_t e, va = (uintptr_t)(mem + i * PAGE);

		if (pread(fd, &e, sizeof(e), va / PAGE * 8) != sizeof(e))
			die(2, "read /proc/self/pagemap: %s", strerror(errno));
		if (!(e >> 63) || !(e & ((1ull << 55) - 1)))
			die(2, "page %u has no physical address in pagemap (%#" PRIx64 ")", i, e);
		pa[i] = (e & ((1ull << 55) - 1)) * PAGE;
	}
	close(fd);
}

/* Writes 0 to the status register and waits (1 s at most) until it reads 0. */
static inline bool reset_device(void)
{
	double t0 = now();

	wr(R_STATUS, 0);
	while (rd(R_STATUS) != 0) {
		if (now() - t0 > 1.0)
			return false;
		usleep(1000);
	}
	return true;
}

/* Sets up queue @q (size @num) with its three areas; 0, or the status | 0x200 if it was live. */
static inline uint32_t setup_queue(unsigned q, uint32_t num, uint64_t desc, uint64_t driver,
				   uint64_t device)
{
	wr(R_QUEUE_SEL, q);
	if (rd(R_QUEUE_READY))
		return rd(R_STATUS) | 0x200;
	wr(R_QUEUE_NUM, num);
	wr(R_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(R_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(R_QUEUE_DRIVER_LOW, (uint32_t)driver);
	wr(R_QUEUE_DRIVER_HIGH, (uint32_t)(driver >> 32));
	wr(R_QUEUE_DEVICE_LOW, (uint32_t)device);
	wr(R_QUEUE_DEVICE_HIGH, (uint32_t)(device >> 32));
	wr(R_QUEUE_READY, 1);
	return 0;
}

/* ACKNOWLEDGE, DRIVER, @features, FEATURES_OK (unless @skip_features_ok): the status reached. */
static inline uint32_t negotiate(uint64_t features, bool skip_features_ok)
{
	uint32_t st;

	wr(R_STATUS, S_ACKNOWLEDGE);
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	wr(R_DEVICE_FEATURES_SEL, 0);
	(void)rd(R_DEVICE_FEATURES);
	wr(R_DEVICE_FEATURES_SEL, 1);
	(void)rd(R_DEVICE_FEATURES);
	wr(R_DRIVER_FEATURES_SEL, 0);
	wr(R_DRIVER_FEATURES, (uint32_t)features);
	wr(R_DRIVER_FEATURES_SEL, 1);
	wr(R_DRIVER_FEATURES, (uint32_t)(features >> 32));
	st = S_ACKNOWLEDGE | S_DRIVER;
	if (skip_features_ok)
		return st;
	wr(R_STATUS, st | S_FEATURES_OK);
	return rd(R_STATUS);
}

static inline uint64_t device_features(void)
{
	uint64_t f;

	wr(R_DEVICE_FEATURES_SEL, 0);
	f = rd(R_DEVICE_FEATURES);
	wr(R_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd(R_DEVICE_FEATURES) << 32;
}

/*
 * Random bytes over a whole ring page; with @follow, an avail index and
 * heads below @qsize that the device will follow, so that the random
 * descriptors are read too.
 */
static inline void garbage_ring(uint8_t *page, unsigned avail_off, unsigned qsize, bool follow)
{
	uint64_t *p = (uint64_t *)page;
	volatile uint16_t *avail = (volatile uint16_t *)(page + avail_off);

	for (unsigned i = 0; i < PAGE / 8; i++)
		p[i] = rnd();
	if (follow) {
		avail[1] = 1 + rnd() % qsize;
		for (unsigned i = 0; i < qsize; i++)
			avail[2 + i] %= qsize;
	}
}

#endif
