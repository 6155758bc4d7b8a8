/*
 * A PCI function: config space with a write mask, capabilities, BARs and
 * MSI-X (PCI Local Bus 3.0 chapter 6; MSI-X in section 6.8.2). Placement on
 * the bus is pci_host.c's; see pci.h for the locks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "devices/pci.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"

/* What a driver may set in the command register; the rest reads 0. */
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

#define CMD_WMASK (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
		   PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

static bool overlaps(unsigned off, unsigned len, unsigned reg, unsigned rlen)
{
	return off < reg + rlen && reg < off + len;
}

void pci_cfg_set(struct pci_dev *d, unsigned off, uint32_t v, unsigned len)
{
	for (unsigned i = 0; i < len && i < 4 && off + i < PCIE_CFG_SIZE; i++)
		d->cfg[off + i] = v >> (8 * i);
}

uint32_t pci_cfg_get(const struct pci_dev *d, unsigned off, unsigned len)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < len && i < 4 && off + i < PCIE_CFG_SIZE; i++)
		v |= (uint32_t)d->cfg[off + i] << (8 * i);
	return v;
}

void pci_cfg_wmask(struct pci_dev *d, unsigned off, uint32_t mask, unsigned len)
{
	for (unsigned i = 0; i < len && i < 4 && off + i < PCIE_CFG_SIZE; i++)
		d->wmask[off + i] = mask >> (8 * i);
}

void pci_dev_init(struct pci_dev *d, struct platform *pf, uint16_t vendor,
		  uint16_t device, uint32_t class, uint8_t revision,
		  uint16_t subsys_vendor, uint16_t subsys_id, unsigned cfg_size)
{
	memset(d, 0, sizeof(*d));
	d->pf = pf;
	d->cfg_size = cfg_size == PCIE_CFG_SIZE ? PCIE_CFG_SIZE : PCI_CFG_SIZE;
	pci_cfg_set(d, PCI_VENDOR_ID, vendor, 2);
	pci_cfg_set(d, PCI_DEVICE_ID, device, 2);
	pci_cfg_set(d, PCI_REVISION_ID, revision, 1);
	pci_cfg_set(d, PCI_CLASS_PROG, class, 3);
	pci_cfg_set(d, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor, 2);
	pci_cfg_set(d, PCI_SUBSYSTEM_ID, subsys_id, 2);
	pci_cfg_set(d, PCI_INTERRUPT_PIN, 1, 1);	/* INTA */
	pci_cfg_wmask(d, PCI_COMMAND, CMD_WMASK, 2);
	pci_cfg_wmask(d, PCI_CACHE_LINE_SIZE, 0xff, 1);
	pci_cfg_wmask(d, PCI_LATENCY_TIMER, 0xff, 1);
	pci_cfg_wmask(d, PCI_INTERRUPT_LINE, 0xff, 1);
	d->cap_free = PCI_STD_HEADER_SIZEOF;
}

int pci_bar_init(struct pci_dev *d, int bar, enum pci_bar_type type,
		 uint64_t size, bool prefetch, const struct bus_ops *ops,
		 void *opaque)
{
	unsigned reg = PCI_BASE_ADDRESS_0 + 4 * bar;
	bool upper_half = bar > 0 && bar < PCI_NUM_BARS && d->bar[bar - 1].size &&
			  d->bar[bar - 1].type == PCI_BAR_MEM64;
	uint64_t mask = ~(size - 1);
	uint32_t flags;

	if (bar < 0 || bar >= PCI_NUM_BARS || d->bar[bar].size || upper_half ||
	    !ops || !size || (size & (size - 1)) ||
	    (type == PCI_BAR_MEM64 && (bar == PCI_NUM_BARS - 1 || d->bar[bar + 1].size)) ||
	    (type == PCI_BAR_IO && (size < 4 || size > 256)) ||
	    (type != PCI_BAR_IO && size < 16) ||
	    (type == PCI_BAR_MEM32 && size > 2 * GiB) ||
	    (type == PCI_BAR_MEM64 && size > (1ULL << 62))) {
		err_msg("%s: BAR %d of %#llx bytes cannot be declared",
			d->owner[0] ? d->owner : "PCI device", bar,
			(unsigned long long)size);
		return -EINVAL;
	}
	d->bar[bar] = (struct pci_bar){ .size = size, .type = type,
		.prefetch = prefetch, .ops = ops, .opaque = opaque };
	if (type == PCI_BAR_IO) {
		pci_cfg_set(d, reg, PCI_BASE_ADDRESS_SPACE_IO, 4);
		pci_cfg_wmask(d, reg, (uint32_t)mask & ~3u, 4);
		return 0;
	}
	flags = type == PCI_BAR_MEM64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0;
	if (prefetch)
		flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	pci_cfg_set(d, reg, flags, 4);
	pci_cfg_wmask(d, reg, (uint32_t)mask & ~0xfu, 4);
	if (type == PCI_BAR_MEM64)
		pci_cfg_wmask(d, reg + 4, mask >> 32, 4);
	return 0;
}

int pci_cap_add(struct pci_dev *d, uint8_t id, unsigned len)
{
	unsigned off = ALIGN_UP(d->cap_free, 4u);

	/* Standard capabilities live in the first 256 bytes. */
	if (len < 2 || off + len > PCI_CFG_SIZE) {
		err_msg("%s: no room for a %u-byte PCI capability",
			d->owner[0] ? d->owner : "PCI device", len);
		return -ENOSPC;
	}
	d->cfg[off] = id;
	d->cfg[off + 1] = 0;
	if (d->cap_last)
		d->cfg[d->cap_last + 1] = off;
	else
		d->cfg[PCI_CAPABILITY_LIST] = off;
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	d->cap_last = off;
	d->cap_free = off + len;
	return off;
}

/* The address BAR @i decodes at once enabled: the guest's, unchecked. */
uint64_t pci_bar_addr(const struct pci_dev *d, int i)
{
	uint32_t lo = pci_cfg_get(d, PCI_BASE_ADDRESS_0 + 4 * i, 4);

	switch (d->bar[i].type) {
	case PCI_BAR_IO:
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	case PCI_BAR_MEM64:
		return (lo & PCI_BASE_ADDRESS_MEM_MASK) |
		       (uint64_t)pci_cfg_get(d, PCI_BASE_ADDRESS_0 + 4 * i + 4, 4) << 32;
	default:
		return lo & PCI_BASE_ADDRESS_MEM_MASK;
	}
}

/*
 * Brings every BAR's mapping in line with config space. Address 0 is
 * "unassigned" (as Linux and QEMU read it), and a BAR reaching the top of
 * its address width holds the all-ones of a sizing sequence: neither
 * decodes, and neither is worth a message.
 */
void pci_update_bars(struct pci_dev *d)
{
	uint16_t cmd = pci_cfg_get(d, PCI_COMMAND, 2);

	if (!d->host)
		return;
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bar[i];
		uint64_t addr = pci_bar_addr(d, i), top;
		bool on;

		if (!b->size)
			continue;
		top = b->type == PCI_BAR_MEM64 ? UINT64_MAX : UINT32_MAX;
		on = cmd & (b->type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
		on = on && addr && !range_wraps(addr, b->size) &&
		     addr + (b->size - 1) < top && pci_host_bar_routed(d, i, addr);
		if (b->mapped && (!on || b->addr != addr))
			pci_host_bar_unmap(d, i);
		if (on && !b->mapped)
			pci_host_bar_map(d, i, addr);
	}
}

void pci_cfg_read(struct pci_dev *d, unsigned off, void *data, unsigned len)
{
	uint8_t *p = data;

	if (!len || len > 4 || off >= d->cfg_size || off + len > d->cfg_size) {
		memset(data, 0xff, len);
		return;
	}
	memcpy(p, d->cfg + off, len);
	if (overlaps(off, len, PCI_STATUS, 1) &&
	    __atomic_load_n(&d->intx_level, __ATOMIC_RELAXED))
		p[PCI_STATUS - off] |= PCI_STATUS_INTERRUPT;
	if (d->cfg_read)
		d->cfg_read(d, off, data, len);
}

static void msix_control(struct pci_dev *d);

void pci_cfg_write(struct pci_dev *d, unsigned off, const void *data,
		   unsigned len)
{
	const uint8_t *p = data;

	if (!len || len > 4 || off >= d->cfg_size || off + len > d->cfg_size)
		return;
	for (unsigned i = 0; i < len; i++) {
		uint8_t m = d->wmask[off + i];

		d->cfg[off + i] = (d->cfg[off + i] & ~m) | (p[i] & m);
	}
	if (overlaps(off, len, PCI_COMMAND, 2)) {
		bool dis = pci_cfg_get(d, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;

		__atomic_store_n(&d->intx_disabled, dis, __ATOMIC_RELAXED);
		if (d->host)
			pci_host_intx_update(d);
	}
	if (overlaps(off, len, PCI_COMMAND, 2) ||
	    overlaps(off, len, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS))
		pci_update_bars(d);
	if (d->msix.nvec && overlaps(off, len, d->msix.cap + PCI_MSIX_FLAGS, 2))
		msix_control(d);
	if (d->cfg_write)
		d->cfg_write(d, off, data, len);
}

void pci_intx_set(struct pci_dev *d, bool level)
{
	__atomic_store_n(&d->intx_level, level, __ATOMIC_RELAXED);
	if (__atomic_load_n(&d->host, __ATOMIC_ACQUIRE))
		pci_host_intx_update(d);
}

/* --- MSI-X --- */

static uint8_t *entry(struct pci_msix *m, unsigned vec)
{
	return m->table + vec * PCI_MSIX_ENTRY_SIZE;
}

static uint32_t entry32(struct pci_msix *m, unsigned vec, unsigned off)
{
	uint32_t v;

	memcpy(&v, entry(m, vec) + off, 4);
	return v;
}

static bool vec_masked(struct pci_msix *m, unsigned vec)
{
	return !m->enabled || m->masked ||
	       (entry32(m, vec, PCI_MSIX_ENTRY_VECTOR_CTRL) & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static uint64_t vec_addr(struct pci_msix *m, unsigned vec)
{
	return entry32(m, vec, PCI_MSIX_ENTRY_LOWER_ADDR) |
	       (uint64_t)entry32(m, vec, PCI_MSIX_ENTRY_UPPER_ADDR) << 32;
}

static void kick_fd(int fd)
{
	uint64_t one = 1;

	/* Only fails when the counter is saturated: it is pending anyway. */
	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

/* Sends vector @vec now. msix.lock held. */
static void send(struct pci_dev *d, unsigned vec)
{
	struct pci_msix *m = &d->msix;
	struct platform *pf = d->pf;

	if (m->v[vec].irqfd)
		kick_fd(m->v[vec].fd);
	else if (pf->msi_send)
		pf->msi_send(pf->kvm_opaque, vec_addr(m, vec),
			     entry32(m, vec, PCI_MSIX_ENTRY_DATA));
}

static void deliver(struct pci_dev *d, unsigned vec)
{
	struct pci_msix *m = &d->msix;

	if (!m->enabled)
		return;
	if (vec_masked(m, vec))
		m->pba[vec / 64] |= 1ULL << (vec % 64);
	else
		send(d, vec);
}

/*
 * After any change to a vector's entry or to the function's control bits:
 * an unmasked vector is bound to KVM through its route and irqfd, a masked
 * one is not (its eventfd then wakes the loop, which sets the pending bit),
 * and a pending vector that is now unmasked is sent. msix.lock held.
 */
static void update_vector(struct pci_dev *d, unsigned vec)
{
	struct pci_msix *m = &d->msix;
	struct pci_msix_vec *v = &m->v[vec];
	struct platform *pf = d->pf;
	uint64_t addr = vec_addr(m, vec), bit = 1ULL << (vec % 64);
	uint32_t data = entry32(m, vec, PCI_MSIX_ENTRY_DATA);
	bool masked = vec_masked(m, vec);

	if (v->gsi >= 0 && !masked) {
		/* A route KVM refused is not retried until the entry changes. */
		if (!v->route_tried || v->route_addr != addr || v->route_data != data) {
			v->route_tried = true;
			v->route_addr = addr;
			v->route_data = data;
			v->routed = !pf->msi_route_set(pf->kvm_opaque, v->gsi, addr, data);
		}
		if (v->routed && !v->irqfd)
			v->irqfd = !pf->irqfd(pf->kvm_opaque, v->gsi, v->fd, -1, 0);
	}
	if (v->irqfd && (masked || !v->routed)) {
		pf->irqfd(pf->kvm_opaque, v->gsi, v->fd, -1, 1);
		v->irqfd = false;
	}
	if (!masked && (m->pba[vec / 64] & bit)) {
		m->pba[vec / 64] &= ~bit;
		send(d, vec);
	}
}

/* The guest wrote the message control word. Host lock held. */
static void msix_control(struct pci_dev *d)
{
	struct pci_msix *m = &d->msix;
	uint16_t ctrl = pci_cfg_get(d, m->cap + PCI_MSIX_FLAGS, 2);

	pthread_mutex_lock(&m->lock);
	__atomic_store_n(&m->enabled, !!(ctrl & PCI_MSIX_FLAGS_ENABLE), __ATOMIC_RELAXED);
	m->masked = ctrl & PCI_MSIX_FLAGS_MASKALL;
	for (unsigned i = 0; i < m->nvec; i++)
		update_vector(d, i);
	pthread_mutex_unlock(&m->lock);
	/* A function with MSI-X enabled does not use INTx. */
	if (d->host)
		pci_host_intx_update(d);
}

void pci_dev_reset(struct pci_dev *d)
{
	struct pci_msix *m = &d->msix;

	/* What the guest may write starts at 0, but for what firmware set. */
	for (unsigned i = 0; i < d->cfg_size; i++)
		d->cfg[i] &= ~d->wmask[i];
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bar[i];
		unsigned reg = PCI_BASE_ADDRESS_0 + 4 * i;

		if (!b->size)
			continue;
		pci_cfg_set(d, reg, pci_cfg_get(d, reg, 4) | (uint32_t)b->home, 4);
		if (b->type == PCI_BAR_MEM64)
			pci_cfg_set(d, reg + 4, b->home >> 32, 4);
	}
	if (pci_cfg_get(d, PCI_INTERRUPT_PIN, 1))
		pci_cfg_set(d, PCI_INTERRUPT_LINE, d->intx_gsi, 1);
	__atomic_store_n(&d->intx_disabled, false, __ATOMIC_RELAXED);
	if (d->reset)
		d->reset(d);
	pci_update_bars(d);	/* command 0: nothing decodes */
	if (m->nvec) {
		pthread_mutex_lock(&m->lock);
		__atomic_store_n(&m->enabled, false, __ATOMIC_RELAXED);
		m->masked = false;
		memset(m->table, 0, m->nvec * PCI_MSIX_ENTRY_SIZE);
		memset(m->pba, 0, DIV_ROUND_UP(m->nvec, 64) * 8);
		for (unsigned i = 0; i < m->nvec; i++) {
			entry(m, i)[PCI_MSIX_ENTRY_VECTOR_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
			update_vector(d, i);	/* masked: the irqfd goes */
			m->v[i].route_tried = m->v[i].routed = false;
		}
		pthread_mutex_unlock(&m->lock);
	}
	if (d->host)
		pci_host_intx_update(d);
}

static unsigned pba_bytes(const struct pci_msix *m)
{
	return DIV_ROUND_UP(m->nvec, 64) * 8;
}

static void msix_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct pci_dev *d = opaque;
	struct pci_msix *m = &d->msix;

	memset(data, 0, len);
	pthread_mutex_lock(&m->lock);
	if (off + len <= m->nvec * PCI_MSIX_ENTRY_SIZE)
		memcpy(data, m->table + off, len);
	else if (off >= m->pba_off && off + len <= m->pba_off + pba_bytes(m))
		memcpy(data, (uint8_t *)m->pba + (off - m->pba_off), len);
	pthread_mutex_unlock(&m->lock);
}

/* Table entries take aligned dword and qword writes; the PBA is read-only. */
static void msix_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct pci_dev *d = opaque;
	struct pci_msix *m = &d->msix;
	unsigned first = off / PCI_MSIX_ENTRY_SIZE;

	if ((len != 4 && len != 8) || off % len ||
	    off + len > m->nvec * PCI_MSIX_ENTRY_SIZE)
		return;
	pthread_mutex_lock(&m->lock);
	memcpy(m->table + off, data, len);
	/* Vector control bits 31:1 are reserved: they read 0. */
	m->table[first * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] &=
		PCI_MSIX_ENTRY_CTRL_MASKBIT;
	memset(entry(m, first) + PCI_MSIX_ENTRY_VECTOR_CTRL + 1, 0, 3);
	update_vector(d, first);
	pthread_mutex_unlock(&m->lock);
}

static const struct bus_ops msix_ops = { .read = msix_read, .write = msix_write };

/*
 * The vector's eventfd fired and the loop saw it (loop thread). While an
 * irqfd is bound KVM has delivered it already (kernels without priority
 * wakeups show it to both): sending again would echo forever.
 */
static void vec_ready(void *opaque, uint32_t events)
{
	struct pci_msix_vec *v = opaque;
	struct pci_msix *m = &v->dev->msix;
	uint64_t n;

	if (read(v->fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&m->lock);
	if (!v->irqfd)
		deliver(v->dev, v->index);
	pthread_mutex_unlock(&m->lock);
}

static int vec_setup(struct pci_dev *d, struct pci_msix_vec *v, bool *routes)
{
	struct platform *pf = d->pf;
	int ret;

	if (!pf->loop)
		return 0;
	v->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->fd < 0) {
		ret = -errno;
		err_msg("%s: cannot create an MSI-X eventfd: %s", d->owner, strerror(-ret));
		return ret;
	}
	ret = loop_add(pf->loop, v->fd, EPOLLIN, vec_ready, v);
	if (ret) {
		err_msg("%s: cannot watch an MSI-X eventfd: %s", d->owner, strerror(-ret));
		close(v->fd);
		v->fd = -1;
		return ret;
	}
	/* Out of KVM routes: this vector and the next go through the loop. */
	if (*routes) {
		v->gsi = pf->msi_route_alloc(pf->kvm_opaque);
		*routes = v->gsi >= 0;
		v->gsi = MAX(v->gsi, -1);
	}
	return 0;
}

int pci_msix_init(struct pci_dev *d, unsigned nvec, int bar)
{
	struct pci_msix *m = &d->msix;
	struct platform *pf = d->pf;
	bool routes = pf->msi_route_alloc && pf->msi_route_set && pf->irqfd;
	uint32_t table = nvec * PCI_MSIX_ENTRY_SIZE;
	uint64_t size = 4096;
	int cap, ret;

	if (!nvec || nvec > 2048 || m->nvec) {
		err_msg("%s: %u MSI-X vectors (1 to 2048, once)", d->owner, nvec);
		return -EINVAL;
	}
	m->pba_off = ALIGN_UP(table, 8u);
	while (size < m->pba_off + DIV_ROUND_UP(nvec, 64) * 8)
		size *= 2;
	ret = pci_bar_init(d, bar, PCI_BAR_MEM32, size, false, &msix_ops, d);
	if (ret)
		return ret;
	cap = pci_cap_add(d, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
	if (cap < 0)
		return cap;
	m->cap = cap;
	m->bar = bar;
	pci_cfg_set(d, cap + PCI_MSIX_FLAGS, nvec - 1, 2);
	pci_cfg_wmask(d, cap + PCI_MSIX_FLAGS,
		      PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	pci_cfg_set(d, cap + PCI_MSIX_TABLE, bar, 4);
	pci_cfg_set(d, cap + PCI_MSIX_PBA, m->pba_off | bar, 4);

	m->table = calloc(nvec, PCI_MSIX_ENTRY_SIZE);
	m->pba = calloc(DIV_ROUND_UP(nvec, 64), 8);
	m->v = calloc(nvec, sizeof(*m->v));
	if (!m->table || !m->pba || !m->v) {
		free(m->table);
		free(m->pba);
		free(m->v);
		err_msg("%s: out of memory for MSI-X", d->owner);
		return -ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->nvec = nvec;
	for (unsigned i = 0; i < nvec; i++) {
		/* Vectors start masked (PCI 3.0, 6.8.2.9). */
		entry(m, i)[PCI_MSIX_ENTRY_VECTOR_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
		m->v[i] = (struct pci_msix_vec){ .dev = d, .index = i, .fd = -1,
						 .gsi = -1 };
	}
	for (unsigned i = 0; i < nvec; i++) {
		ret = vec_setup(d, &m->v[i], &routes);
		if (ret) {
			pci_dev_destroy(d);
			return ret;
		}
	}
	return cap;
}

bool pci_msix_enabled(struct pci_dev *d)
{
	return d->msix.nvec && __atomic_load_n(&d->msix.enabled, __ATOMIC_RELAXED);
}

bool pci_msix_notify(struct pci_dev *d, unsigned vec)
{
	struct pci_msix *m = &d->msix;

	if (!pci_msix_enabled(d))
		return false;
	if (vec >= m->nvec)
		return true;
	/* Bound to an irqfd, KVM takes it; else the loop delivers or holds it. */
	if (m->v[vec].fd >= 0) {
		kick_fd(m->v[vec].fd);
		return true;
	}
	pthread_mutex_lock(&m->lock);
	deliver(d, vec);
	pthread_mutex_unlock(&m->lock);
	return true;
}

void pci_dev_destroy(struct pci_dev *d)
{
	struct pci_msix *m = &d->msix;
	struct platform *pf = d->pf;

	if (!m->v)
		return;
	for (unsigned i = 0; i < m->nvec; i++) {
		struct pci_msix_vec *v = &m->v[i];

		if (v->irqfd)
			pf->irqfd(pf->kvm_opaque, v->gsi, v->fd, -1, 1);
		if (v->gsi >= 0 && pf->msi_route_free)
			pf->msi_route_free(pf->kvm_opaque, v->gsi);
		if (v->fd >= 0) {
			loop_del(pf->loop, v->fd);
			close(v->fd);
		}
	}
	pthread_mutex_destroy(&m->lock);
	free(m->table);
	free(m->pba);
	free(m->v);
	m->table = NULL;
	m->pba = NULL;
	m->v = NULL;
	m->nvec = 0;
}
