/*
 * A PCI function driven from a guest's user space through sysfs: memory
 * decode and bus mastering on, BAR 0 mapped, guest-physical addresses of
 * locked pages. The including program defines die(why), which exits.
 */
#ifndef PCI_USER_H
#define PCI_USER_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/mman.h>

static void die(const char *why);

/* The guest-physical address of a locked page (root reads PFNs). */
static uint64_t phys(void *p)
{
	uint64_t e;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &e, 8, (uintptr_t)p / 4096 * 8) != 8 || !(e >> 63))
		die("pagemap");
	close(fd);
	return (e & ((1ULL << 55) - 1)) * 4096 + (uintptr_t)p % 4096;
}

/* Turns on memory decode and bus mastering of DEVDIR, maps @len bytes of BAR 0. */
static volatile uint32_t *map_bar0(const char *devdir, size_t len)
{
	char path[512];
	uint16_t cmd;
	void *bar;
	int fd;

	snprintf(path, sizeof(path), "%s/config", devdir);
	fd = open(path, O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, 4) != 2)
		die("config");
	cmd |= 0x6;				/* memory decode, bus master */
	if (pwrite(fd, &cmd, 2, 4) != 2)
		die("config write");
	close(fd);
	snprintf(path, sizeof(path), "%s/resource0", devdir);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		die("resource0");
	bar = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (bar == MAP_FAILED)
		die("mmap resource0");
	return bar;
}

#endif
