/*
 * Drives QEMU's edu PCI function from inside a guest (built static by
 * tests/e2e/run), through the guest kernel's sysfs files of the device:
 *   pci_edu DEVDIR read OFF          prints "READ OFF VALUE" (32-bit, hex) of BAR 0
 *   pci_edu DEVDIR write OFF VALUE   writes a 32-bit value into BAR 0
 *   pci_edu DEVDIR fact N            edu's factorial unit: prints "FACT N RESULT"
 *   pci_edu DEVDIR dma               edu's DMA engine: a page of guest RAM into
 *                                    the device and back into another page;
 *                                    prints "DMA-OK" or "DMA-FAIL reason"
 *   pci_edu DEVDIR msi VECTOR|off    programs the MSI capability by hand (no
 *                                    driver owns edu): CPU 0's APIC, data VECTOR
 *   pci_edu DEVDIR fact-irq N        factorial with edu's completion interrupt:
 *                                    "FACT-IRQ N RESULT status=S" once edu's
 *                                    interrupt status shows it; then acks it
 *   pci_edu DEVDIR garbage OFF LEN   (any function) LEN bytes of pseudo-random
 *                                    32-bit writes into BAR 0 at OFF: "GARBAGE n"
 *   pci_edu DEVDIR dma-irq           dma, the second transfer raising the DMA
 *                                    interrupt: "DMA-IRQ status=S"
 * It turns on memory decode and bus mastering in the command register first.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define EDU_STATUS	0x20
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_BUF	0x40000
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_ACK	0x64
#define EDU_STATUS_IRQFACT	0x80
#define EDU_DMA_IRQ	4
#define DMA_LEN		1024

static volatile uint32_t *bar;

static void die(const char *why)
{
	printf("PCI-EDU-FAIL %s\n", why);
	exit(1);
}

#include "pci_user.h"

static uint32_t rd(unsigned off) { return bar[off / 4]; }
static void wr(unsigned off, uint32_t v) { bar[off / 4] = v; }
static void wr64(unsigned off, uint64_t v) { wr(off, (uint32_t)v); wr(off + 4, (uint32_t)(v >> 32)); }

/* Waits up to 5 s for (reg & mask) == 0. */
static int idle(unsigned off, uint32_t mask)
{
	for (int i = 0; i < 5000; i++) {
		if (!(rd(off) & mask))
			return 0;
		usleep(1000);
	}
	return -1;
}

/* Waits for edu's interrupt status @bit, prints it with @what, acks it. */
static void irq_wait(const char *what, uint32_t bit)
{
	uint32_t st = 0;

	for (int i = 0; i < 5000 && !((st = rd(EDU_IRQ_STATUS)) & bit); i++)
		usleep(1000);
	if (!(st & bit))
		die("no interrupt status from edu");
	printf("%s status=%#x\n", what, st);
	wr(EDU_IRQ_ACK, st);
}

static void msi(int fd, const char *arg)
{
	uint8_t cfg[256];
	unsigned off, vec = strtoul(arg, NULL, 0);
	uint16_t ctl;
	uint32_t addr = 0xfee00000;	/* fixed delivery to APIC 0 */

	if (pread(fd, cfg, sizeof(cfg), 0) != sizeof(cfg))
		die("config read");
	for (off = cfg[0x34] & ~3u; off && cfg[off] != 0x05; off = cfg[off + 1] & ~3u)
		;
	if (!off) {
		printf("MSI-NONE\n");
		exit(1);
	}
	ctl = cfg[off + 2] | cfg[off + 3] << 8;
	if (!strcmp(arg, "off")) {
		ctl &= ~1;
		if (pwrite(fd, &ctl, 2, off + 2) != 2)
			die("config write");
		printf("MSI-OFF\n");
		return;
	}
	if (pwrite(fd, &addr, 4, off + 4) != 4)
		die("config write");
	if (ctl & 0x80) {
		uint32_t hi = 0;
		uint16_t data = vec;

		if (pwrite(fd, &hi, 4, off + 8) != 4 || pwrite(fd, &data, 2, off + 12) != 2)
			die("config write");
	} else {
		uint16_t data = vec;

		if (pwrite(fd, &data, 2, off + 8) != 2)
			die("config write");
	}
	ctl = (ctl & ~0x70) | 1;
	if (pwrite(fd, &ctl, 2, off + 2) != 2 || pread(fd, &ctl, 2, off + 2) != 2)
		die("config write");
	printf("MSI-ON cap=%#x vector=%u control=%#x\n", off, vec, ctl);
}

static void dma(bool irq)
{
	uint8_t *a = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED,
			  -1, 0), *b = a + 4096;
	uint64_t pa, pb;

	if (a == MAP_FAILED)
		die("mmap");
	for (int i = 0; i < DMA_LEN; i++) {
		a[i] = (uint8_t)(i * 7 + 3);
		b[i] = 0;
	}
	pa = phys(a);
	pb = phys(b);
	/* edu masks DMA addresses to 28 bits: the guest must be small */
	if (pa >> 28 || pb >> 28)
		die("buffer above 256 MiB");
	wr64(EDU_DMA_SRC, pa);
	wr64(EDU_DMA_DST, EDU_DMA_BUF);
	wr64(EDU_DMA_CNT, DMA_LEN);
	wr(EDU_DMA_CMD, 1);			/* RAM -> device */
	if (idle(EDU_DMA_CMD, 1))
		die("DMA to the device did not finish");
	wr64(EDU_DMA_SRC, EDU_DMA_BUF);
	wr64(EDU_DMA_DST, pb);
	wr64(EDU_DMA_CNT, DMA_LEN);
	wr(EDU_DMA_CMD, 1 | 2 | (irq ? EDU_DMA_IRQ : 0));	/* device -> RAM */
	if (idle(EDU_DMA_CMD, 1))
		die("DMA from the device did not finish");
	if (irq)
		irq_wait("DMA-IRQ", 0x100);
	if (memcmp(a, b, DMA_LEN)) {
		printf("DMA-FAIL data differs: first bytes %02x %02x %02x, want %02x %02x %02x\n",
		       b[0], b[1], b[2], a[0], a[1], a[2]);
		exit(1);
	}
	printf("DMA-OK %d bytes through guest-physical %#" PRIx64 " and %#" PRIx64 "\n",
	       DMA_LEN, pa, pb);
}

int main(int argc, char **argv)
{
	char path[512];
	uint16_t cmd;
	int fd;

	if (argc < 3)
		die("usage: pci_edu DEVDIR read OFF|write OFF VALUE|fact N|loop N|dma");
	snprintf(path, sizeof(path), "%s/config", argv[1]);
	fd = open(path, O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, 4) != 2)
		die("config");
	if (!strcmp(argv[2], "msi") && argc == 4) {
		msi(fd, argv[3]);
		return 0;
	}
	close(fd);
	{
		struct stat st;
		size_t len;

		snprintf(path, sizeof(path), "%s/resource0", argv[1]);
		len = stat(path, &st) || !st.st_size ? 1 << 20 : (size_t)st.st_size;
		bar = map_bar0(argv[1], len);
		if (!strcmp(argv[2], "garbage") && argc == 5) {
			unsigned off = strtoul(argv[3], NULL, 0), n = strtoul(argv[4], NULL, 0) / 4;
			uint32_t x = (uint32_t)time(NULL) | 1;

			if (off > len || n > (len - off) / 4)
				die("garbage past the BAR");
			for (unsigned i = 0; i < n; i++) {
				x ^= x << 13, x ^= x >> 17, x ^= x << 5;
				wr(off + 4 * i, x);
			}
			printf("GARBAGE %u\n", n);
			return 0;
		}
	}
	if (!strcmp(argv[2], "read") && argc == 4) {
		unsigned off = strtoul(argv[3], NULL, 0);
		printf("READ %#x %#010x\n", off, rd(off));
	} else if (!strcmp(argv[2], "write") && argc == 5) {
		wr(strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	} else if (!strcmp(argv[2], "fact") && argc == 4) {
		uint32_t n = strtoul(argv[3], NULL, 0);
		wr(8, n);
		if (idle(EDU_STATUS, 1))
			die("factorial did not finish");
		printf("FACT %u %u\n", n, rd(8));
	} else if (!strcmp(argv[2], "fact-irq") && argc == 4) {
		uint32_t n = strtoul(argv[3], NULL, 0);
		char what[64];

		wr(EDU_STATUS, EDU_STATUS_IRQFACT);
		wr(8, n);
		if (idle(EDU_STATUS, 1))
			die("factorial did not finish");
		snprintf(what, sizeof(what), "FACT-IRQ %u %u", n, rd(8));
		irq_wait(what, 1);
		wr(EDU_STATUS, 0);
	} else if (!strcmp(argv[2], "loop") && argc == 4) {
		/* N writes to the liveness register, each read back inverted */
		unsigned n = strtoul(argv[3], NULL, 0);

		for (unsigned i = 0; i < n; i++) {
			wr(4, i * 2654435761u);
			if (rd(4) != ~(i * 2654435761u)) {
				printf("LOOP-FAIL at %u: %#x\n", i, rd(4));
				return 1;
			}
		}
		printf("LOOP %u ok\n", n);
	} else if (!strcmp(argv[2], "dma")) {
		dma(false);
	} else if (!strcmp(argv[2], "dma-irq")) {
		dma(true);
	} else {
		die("bad arguments");
	}
	return 0;
}
