/*
 * Drives QEMU's edu PCI function from inside a guest (built static by
 * tests/e2e/run), through the guest kernel's sysfs files of the device:
 *   pci_edu DEVDIR read OFF          prints "READ OFF VALUE" (32-bit, hex) of BAR 0
 *   pci_edu DEVDIR write OFF VALUE   writes a 32-bit value into BAR 0
 *   pci_edu DEVDIR fact N            edu's factorial unit: prints "FACT N RESULT"
 *   pci_edu DEVDIR dma               edu's DMA engine: a page of guest RAM into
 *                                    the device and back into another page;
 *                                    prints "DMA-OK" or "DMA-FAIL reason"
 * It turns on memory decode and bus mastering in the command register first.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#define EDU_STATUS	0x20
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_BUF	0x40000
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

static void dma(void)
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
	wr(EDU_DMA_CMD, 1 | 2);			/* device -> RAM */
	if (idle(EDU_DMA_CMD, 1))
		die("DMA from the device did not finish");
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
	if (argc < 3)
		die("usage: pci_edu DEVDIR read OFF|write OFF VALUE|fact N|loop N|dma");
	bar = map_bar0(argv[1], 1 << 20);
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
		dma();
	} else {
		die("bad arguments");
	}
	return 0;
}
