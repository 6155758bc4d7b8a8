/*
 * The guest's side of pci.0 for the PCI unit tests: the machine layout they
 * build and accessors that go through the machine's buses, as vCPU exits
 * do. The including test drives the one platform `pf` declared here.
 */
#ifndef EMBER_TEST_PCI_GUEST_H
#define EMBER_TEST_PCI_GUEST_H

#include <stdint.h>

#include "devices/platform.h"
#include "lib/loop.h"

#define ECAM		0xe0000000ULL
#define MMIO32		0xc0000000ULL
#define MMIO32_SIZE	0x10000000ULL
#define MMIO64		0x800000000ULL
#define MMIO64_SIZE	0x800000000ULL

static struct platform pf;

static inline uint64_t ecam_off(unsigned slot, unsigned fn, unsigned reg)
{
	return ECAM + ((uint64_t)slot << 15 | fn << 12 | reg);
}

static inline uint64_t mmio_read(uint64_t addr, unsigned len)
{
	uint64_t v = 0;

	bus_read(&pf.mmio, addr, &v, len);
	return v;
}

static inline void mmio_write(uint64_t addr, uint64_t v, unsigned len)
{
	bus_write(&pf.mmio, addr, &v, len);
}

static inline uint32_t ecam_read(unsigned slot, unsigned fn, unsigned reg, unsigned len)
{
	return mmio_read(ecam_off(slot, fn, reg), len);
}

static inline void ecam_write(unsigned slot, unsigned fn, unsigned reg, uint32_t v,
			      unsigned len)
{
	mmio_write(ecam_off(slot, fn, reg), v, len);
}

/* MSIs sent directly (pf.msi_send): the last 16, and how many in all. */
static struct { uint64_t addr; uint32_t data; } msi[16];
static unsigned nmsi;

static inline int fake_msi_send(void *opaque, uint64_t addr, uint32_t data)
{
	msi[nmsi % 16].addr = addr;
	msi[nmsi % 16].data = data;
	__atomic_add_fetch(&nmsi, 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* For pthread_create: the event loop on its own thread until loop_stop(). */
static inline void *loop_thread(void *l)
{
	loop_run(l);
	return NULL;
}

#endif
