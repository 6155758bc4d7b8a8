/*
 * -device vfio-pci: a host PCI function handed to the guest through VFIO
 * (type1 IOMMU container and group fd; each group also joins KVM's VFIO
 * device, as QEMU's do). All guest RAM is mapped for the
 * device's DMA at its guest-physical addresses; config space is ember's
 * own pci_dev built from the device's (identity, BAR shapes, MSI, MSI-X;
 * other capabilities hidden). Memory BARs are mmap'd from the device and given to
 * the guest as KVM memory slots wherever the BAR sits, so the guest's
 * accesses (an NVMe doorbell, say) reach the device without an exit; the
 * rest (I/O BARs, pages VFIO will not map, and the pages of the MSI-X
 * table, which is ember's) are trapped and forwarded with pread/pwrite; and
 * interrupts reach the guest as KVM irqfds: INTx with a resample fd that
 * unmasks it in VFIO, MSI and MSI-X vectors on their routes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "devices/device.h"
#include "devices/pci.h"
#include "devices/platform.h"
#include "devices/vfio.h"
#include "devices/vfio_cfg.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"
#include "seccomp/seccomp.h"

#define SYSFS_PCI	"/sys/bus/pci/devices"
#define VFIO_MAX_GROUPS	16

/* A piece of a BAR mmap'd from the device fd, a KVM memory slot while mapped. */
struct vfio_map {
	struct vfio_cfg_area a;
	void *hva;
	int slot;		/* -1: not in the guest */
};

struct vfio_bar {
	struct vfio_dev *v;
	uint64_t off, size;	/* of the VFIO region */
	bool can_mmap;		/* VFIO_REGION_INFO_FLAG_MMAP */
	struct vfio_map map[VFIO_CFG_MAX_AREAS];
	unsigned nmap;
};

/*
 * An MSI or MSI-X vector: an eventfd VFIO fires, bound as a KVM irqfd to
 * the vector's route while the guest has it unmasked, so a fire while
 * masked waits in the eventfd and KVM delivers it when the irqfd is bound
 * again.
 */
struct vfio_vec {
	int fd, gsi;		/* gsi -1: no route yet */
	bool bound;
};

/* MSI-X: ember's table (the device's is the host kernel's). */
struct vfio_msix {
	struct vfio_cfg_msix m;		/* nvec 0: none */
	uint16_t cap;			/* ember's capability offset */
	pthread_mutex_t lock;		/* the table, the vectors */
	uint8_t *table;
	struct vfio_vec *vec;
	bool enabled, masked, vfio_on;
};

/*
 * MSI: ember's capability (address, data, mask bits in its config space);
 * VFIO gets as many vectors as the guest enables. Under host->lock.
 */
struct vfio_msi {
	struct vfio_cfg_msi m;		/* nvec 0: none */
	uint16_t cap;
	struct vfio_vec *vec;
	unsigned on;			/* vectors VFIO has; 0: MSI off in VFIO */
};

struct vfio_dev {
	struct pci_dev pci;
	char bdf[32];		/* 0000:00:03.0 */
	char owner[80];		/* "-device vfio-pci,host=..." for messages */
	int fd;
	bool pins_ram;		/* counted in gmem_discard_disable() */
	struct vfio_group *group;
	uint64_t cfg_off, cfg_size;
	struct vfio_bar bar[PCI_NUM_BARS];
	bool can_reset, registered;
	/* INTx: VFIO fires intx_fd, a KVM irqfd on the function's GSI; the
	 * guest's EOI fires resample_fd, which unmasks the line in VFIO. */
	bool has_intx, intx_on;
	int intx_fd, resample_fd;
	struct platform *pf;
	struct vfio_msix msix;
	struct vfio_msi msi;
	/* The capabilities the guest sees (the rest are unlinked). */
	struct vfio_cfg_shown caps[VFIO_CFG_MAX_CAPS];
	unsigned ncaps;
	/* The ROM BAR: read-only, trapped, read from VFIO's ROM region. */
	uint64_t rom_off, rom_size;	/* size 0: none shown */
	uint64_t rom_addr;		/* where it decodes; 0: nowhere */
	char rom_name[96];
};

struct vfio_state {
	char *host, *sysfsdev, *bus, *addr;
	uint32_t rombar;
	bool no_mmap;
	struct vfio_dev *v;
};

/* One container for every group of the process: one DMA map of guest RAM. */
struct vfio_group {
	int id, fd;
	unsigned users;
};

static struct {
	int fd;
	unsigned users;
	struct vfio_group groups[VFIO_MAX_GROUPS];
} vfio = { .fd = -1 };

/* The name of the link at @path (a driver, a group), or "" when none. */
static void link_name(const char *path, char *out, size_t size)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *b;

	out[0] = 0;
	if (n <= 0)
		return;
	buf[n] = 0;
	b = strrchr(buf, '/');
	b = b ? b + 1 : buf;
	if (strlen(b) < size)
		memcpy(out, b, strlen(b) + 1);
}

/* The device's sysfs state, checked before any VFIO file is opened. */
static int host_check(struct vfio_dev *v, int *group)
{
	char path[PATH_MAX], name[256];
	char *end;
	long g;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s", v->bdf);
	if (access(path, F_OK)) {
		err_msg("%s: no PCI device %s on this host (%s)", v->owner, v->bdf, path);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver", v->bdf);
	link_name(path, name, sizeof(name));
	if (strcmp(name, "vfio-pci")) {
		char unbind[PATH_MAX + 64] = "";

		if (name[0])
			snprintf(unbind, sizeof(unbind), "echo %s > " SYSFS_PCI "/%s/driver/unbind; ",
				 v->bdf, v->bdf);
		err_msg("%s: %s is bound to %s, not to vfio-pci; rebind it: modprobe vfio-pci; %s"
			"echo vfio-pci > " SYSFS_PCI "/%s/driver_override; "
			"echo %s > /sys/bus/pci/drivers_probe", v->owner, v->bdf,
			name[0] ? name : "no driver", unbind,
			v->bdf, v->bdf);
		return -EBUSY;
	}
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/iommu_group", v->bdf);
	link_name(path, name, sizeof(name));
	g = strtol(name, &end, 10);
	if (!name[0] || *end || g < 0 || g > INT_MAX) {
		err_msg("%s: %s has no IOMMU group: the host has no IOMMU enabled "
			"(intel_iommu=on or amd_iommu=on on its kernel command line)",
			v->owner, v->bdf);
		return -ENODEV;
	}
	*group = (int)g;
	return 0;
}

/* Names a device of group @id that keeps it from being viable. */
static void explain_group(struct vfio_dev *v, int id)
{
	char path[PATH_MAX], drv[256];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", id);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, v->bdf))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices/%s/driver",
			 id, e->d_name);
		link_name(path, drv, sizeof(drv));
		if (drv[0] && strcmp(drv, "vfio-pci"))
			err_msg("%s: IOMMU group %d also holds %s, bound to %s: bind it to "
				"vfio-pci too (or unbind it)", v->owner, id, e->d_name, drv);
	}
	closedir(d);
}

static int map_ram(struct platform *pf, int container)
{
	const struct gmem *m = pf->mem;

	for (unsigned i = 0; m && i < m->nr; i++) {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)m->r[i].hva,
			.iova = m->r[i].gpa,
			.size = m->r[i].size,
		};

		if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map)) {
			int e = errno;

			err_msg("vfio-pci: cannot map guest RAM %#llx+%#llx for DMA: %s%s",
				(unsigned long long)map.iova, (unsigned long long)map.size,
				strerror(e), e == ENOMEM ? " (RLIMIT_MEMLOCK too low?)" : "");
			return -e;
		}
	}
	return 0;
}

static int container_get(struct vfio_dev *v)
{
	int fd, ret;

	if (vfio.fd >= 0) {
		vfio.users++;
		return 0;
	}
	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		err_msg("%s: cannot open /dev/vfio/vfio: %s", v->owner, strerror(-ret));
		return ret;
	}
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		err_msg("%s: the host's VFIO has no type1v2 IOMMU", v->owner);
		close(fd);
		return -ENOTSUP;
	}
	vfio.fd = fd;
	vfio.users = 1;
	return 0;
}

static void container_put(void)
{
	if (vfio.fd >= 0 && !--vfio.users) {
		close(vfio.fd);	/* unmaps and unpins all of guest RAM */
		vfio.fd = -1;
	}
}

static int group_get(struct vfio_dev *v, struct platform *pf, int id)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_group *g = NULL;
	char path[64];
	int fd, ret;
	bool first;

	for (unsigned i = 0; i < VFIO_MAX_GROUPS; i++)
		if (vfio.groups[i].users && vfio.groups[i].id == id) {
			vfio.groups[i].users++;
			v->group = &vfio.groups[i];
			return 0;
		}
	for (unsigned i = 0; i < VFIO_MAX_GROUPS && !g; i++)
		if (!vfio.groups[i].users)
			g = &vfio.groups[i];
	if (!g) {
		err_msg("%s: more than %d IOMMU groups", v->owner, VFIO_MAX_GROUPS);
		return -ENOSPC;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		err_msg("%s: cannot open %s (IOMMU group of %s): %s%s", v->owner, path, v->bdf,
			strerror(-ret), ret == -EBUSY ? " (another process has it)" : "");
		return ret;
	}
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		err_msg("%s: IOMMU group %d is not viable: every device in it must be bound "
			"to vfio-pci or to no driver", v->owner, id);
		explain_group(v, id);
		close(fd);
		return -EBUSY;
	}
	if ((ret = container_get(v))) {
		close(fd);
		return ret;
	}
	first = vfio.users == 1;
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &vfio.fd)) {
		ret = -errno;
		err_msg("%s: cannot add IOMMU group %d to the container: %s", v->owner, id,
			strerror(-ret));
		goto fail;
	}
	if (first) {
		if (ioctl(vfio.fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
			ret = -errno;
			err_msg("%s: VFIO_SET_IOMMU: %s", v->owner, strerror(-ret));
			goto fail;
		}
		if ((ret = map_ram(pf, vfio.fd)))
			goto fail;
	}
	if (pf->vfio_group && (ret = pf->vfio_group(pf->kvm_opaque, fd, 1))) {
		err_msg("%s: KVM refused IOMMU group %d (KVM_DEV_VFIO_GROUP_ADD): %s%s", v->owner,
			id, strerror(-ret),
			ret == -ENODEV || ret == -ENOTTY ? " (is the host's kernel built with "
			"CONFIG_KVM_VFIO?)" : "");
		goto fail;
	}
	*g = (struct vfio_group){ .id = id, .fd = fd, .users = 1 };
	v->group = g;
	return 0;
fail:
	close(fd);
	container_put();
	return ret;
}

static void group_put(struct vfio_dev *v)
{
	struct vfio_group *g = v->group;

	if (g && !--g->users) {
		if (v->pf->vfio_group)
			v->pf->vfio_group(v->pf->kvm_opaque, g->fd, 0);
		close(g->fd);
		g->fd = -1;
		container_put();
	}
}

static void msix_update(struct vfio_dev *v, unsigned i);
static void msix_control(struct vfio_dev *v);
static int msix_init(struct vfio_dev *v, const uint8_t *cfg, unsigned off);
static void msi_update(struct vfio_dev *v);
static int msi_init(struct vfio_dev *v, const uint8_t *cfg, unsigned off);

/* Which part of the MSI-X table or PBA [off, off+len) of BAR @bar is: 1 table, 2 PBA. */
static int msix_part(const struct vfio_dev *v, const struct vfio_bar *b, uint64_t off, unsigned len)
{
	const struct vfio_cfg_msix *m = &v->msix.m;
	int bar = (int)(b - v->bar);

	if (!m->nvec)
		return 0;
	if (bar == m->table_bar && off >= m->table_off &&
	    off + len <= m->table_off + (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE)
		return 1;
	if (bar == m->pba_bar && off >= m->pba_off && off + len <= m->pba_off + (m->nvec + 63) / 64 * 8ULL)
		return 2;
	return 0;
}

static void bar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct vfio_bar *b = opaque;
	struct vfio_dev *v = b->v;

	switch (msix_part(v, b, off, len)) {
	case 1:
		pthread_mutex_lock(&v->msix.lock);
		memcpy(data, v->msix.table + (off - v->msix.m.table_off), len);
		pthread_mutex_unlock(&v->msix.lock);
		return;
	case 2:	/* pending vectors wait in their eventfds; none shows here */
		memset(data, 0, len);
		return;
	}
	if (off > b->size || len > b->size - off ||
	    pread(v->fd, data, len, (off_t)(b->off + off)) != (ssize_t)len)
		memset(data, 0xff, len);
}

static void bar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vfio_bar *b = opaque;
	struct vfio_dev *v = b->v;

	switch (msix_part(v, b, off, len)) {
	case 1: {
		uint64_t at = off - v->msix.m.table_off;

		pthread_mutex_lock(&v->msix.lock);
		memcpy(v->msix.table + at, data, len);
		msix_update(v, (unsigned)(at / PCI_MSIX_ENTRY_SIZE));
		pthread_mutex_unlock(&v->msix.lock);
		return;
	}
	case 2:
		return;
	}
	if (off <= b->size && len <= b->size - off &&
	    pwrite(v->fd, data, len, (off_t)(b->off + off)) != (ssize_t)len)
		warn_once("%s: a BAR write did not reach the device", v->owner);
}

static const struct bus_ops bar_ops = { .read = bar_read, .write = bar_write };

/*
 * The device's command register from ember's: bus mastering and INTx
 * disable follow the guest's; memory and I/O decode stay on in the device
 * for the BARs it has (ember decides what the guest reaches).
 */
static void sync_cmd(struct vfio_dev *v, uint16_t cmd)
{
	uint16_t dev_cmd;

	if (pread(v->fd, &dev_cmd, 2, (off_t)(v->cfg_off + PCI_COMMAND)) != 2)
		return;
	dev_cmd &= ~(PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	dev_cmd |= cmd & PCI_COMMAND_MASTER;
	dev_cmd |= v->intx_on ? cmd & PCI_COMMAND_INTX_DISABLE : PCI_COMMAND_INTX_DISABLE;
	for (int i = 0; i < PCI_NUM_BARS; i++)
		if (v->pci.bar[i].size)
			dev_cmd |= v->pci.bar[i].type == PCI_BAR_IO ? PCI_COMMAND_IO :
								      PCI_COMMAND_MEMORY;
	if (pwrite(v->fd, &dev_cmd, 2, (off_t)(v->cfg_off + PCI_COMMAND)) != 2)
		warn_once("%s: the command register write did not reach the device", v->owner);
}

static void rom_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct vfio_dev *v = opaque;

	if (off > v->rom_size || len > v->rom_size - off ||
	    pread(v->fd, data, len, (off_t)(v->rom_off + off)) != (ssize_t)len)
		memset(data, 0xff, len);
}

static void rom_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	(void)opaque, (void)off, (void)data, (void)len;	/* a ROM */
}

static const struct bus_ops rom_ops = { .read = rom_read, .write = rom_write };

/*
 * The ROM decodes where the guest put it while its enable bit and memory
 * decode are on (under host->lock, or with vCPUs parked). Only the 32-bit
 * window reaches pci.0's bus; a ROM over a BAR stays off (one warning).
 */
static void rom_update(struct vfio_dev *v, bool on)
{
	struct pci_dev *d = &v->pci;
	uint32_t reg = pci_cfg_get(d, PCI_ROM_ADDRESS, 4);
	uint64_t addr = reg & PCI_ROM_ADDRESS_MASK;

	if (!v->rom_size || !d->host)
		return;
	on = on && (reg & PCI_ROM_ADDRESS_ENABLE) && addr &&
	     (pci_cfg_get(d, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	if (v->rom_addr && (!on || v->rom_addr != addr)) {
		bus_unregister(&d->host->mem, v->rom_addr);
		v->rom_addr = 0;
	}
	if (on && !v->rom_addr) {
		if (bus_register(&d->host->mem, addr, v->rom_size, &rom_ops, v, v->rom_name))
			warn_once("%s: the guest put the ROM BAR over something else at %#llx; "
				  "it stays off", v->owner, (unsigned long long)addr);
		else
			v->rom_addr = addr;
	}
}

/*
 * The function's ROM (VFIO's ROM region), shown as a 32-bit ROM BAR the
 * guest sizes, places and enables; firmware's part is left to the guest
 * (address 0: unassigned). rombar=0 hides it.
 */
static void rom_init(struct vfio_dev *v, bool show)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_ROM_REGION_INDEX };

	if (!show || ioctl(v->fd, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    !(ri.flags & VFIO_REGION_INFO_FLAG_READ) || !vfio_cfg_rom_ok(ri.size))
		return;
	v->rom_off = ri.offset;
	v->rom_size = ri.size;
	snprintf(v->rom_name, sizeof(v->rom_name), "%s ROM", v->owner);
	pci_cfg_wmask(&v->pci, PCI_ROM_ADDRESS,
		      ((uint32_t)~(ri.size - 1) & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE, 4);
}

/* A passed-through capability's body: the bytes of [off, off+len) that are the device's. */
static bool cap_body(const struct vfio_dev *v, unsigned at)
{
	for (unsigned i = 0; i < v->ncaps; i++)
		if (v->caps[i].pass && at >= v->caps[i].off + 2u &&
		    at < (unsigned)v->caps[i].off + v->caps[i].len)
			return true;
	return false;
}

/* The run of capability body bytes from @at in [at, end): how many. */
static unsigned body_run(const struct vfio_dev *v, unsigned at, unsigned end)
{
	unsigned n = 0;

	while (at + n < end && cap_body(v, at + n))
		n++;
	return n;
}

static void cfg_read(struct pci_dev *d, unsigned off, void *data, unsigned len)
{
	struct vfio_dev *v = d->opaque;

	for (unsigned i = 0, n; i < len; i += n ? n : 1) {
		uint8_t b[4];

		n = body_run(v, off + i, off + len);
		if (n && pread(v->fd, b, n, (off_t)(v->cfg_off + off + i)) == (ssize_t)n)
			memcpy((uint8_t *)data + i, b, n);
	}
}

static void cfg_write(struct pci_dev *d, unsigned off, const void *data, unsigned len)
{
	struct vfio_dev *v = d->opaque;

	for (unsigned i = 0, n; i < len; i += n ? n : 1) {
		n = body_run(v, off + i, off + len);
		if (n && pwrite(v->fd, (const uint8_t *)data + i, n,
				(off_t)(v->cfg_off + off + i)) != (ssize_t)n)
			warn_once("%s: a config write did not reach the device", v->owner);
	}
	if (off <= PCI_COMMAND + 1 && off + len > PCI_COMMAND)
		sync_cmd(v, pci_cfg_get(d, PCI_COMMAND, 2));
	if ((off <= PCI_COMMAND + 1 && off + len > PCI_COMMAND) ||
	    (off < PCI_ROM_ADDRESS + 4 && off + len > PCI_ROM_ADDRESS))
		rom_update(v, true);
	if (v->msix.cap && off <= v->msix.cap + PCI_MSIX_FLAGS + 1u &&
	    off + len > v->msix.cap + PCI_MSIX_FLAGS + 0u)
		msix_control(v);
	if (v->msi.cap && off < v->msi.cap + v->msi.m.size && off + len > v->msi.cap)
		msi_update(v);
}

static int region(struct vfio_dev *v, unsigned index, uint64_t *off, uint64_t *size,
		  bool *can_mmap)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

	if (ioctl(v->fd, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		*size = 0;
		return -errno;
	}
	*off = ri.offset;
	*size = (ri.flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)) ==
			(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE) ? ri.size : 0;
	if (can_mmap)
		*can_mmap = ri.flags & VFIO_REGION_INFO_FLAG_MMAP;
	return 0;
}

/*
 * The mmap'able pieces of memory BAR @i (its sparse areas, less the MSI-X
 * pages), mapped from the device now; they enter the guest in bar_map. A
 * BAR that cannot be mapped stays trapped, which is slower but complete.
 */
static void bar_mmap(struct vfio_dev *v, int i)
{
	struct vfio_bar *b = &v->bar[i];
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX + i };
	struct vfio_region_info *info = &ri;
	struct vfio_cfg_area a[VFIO_CFG_MAX_AREAS];
	int n;

	if (!b->can_mmap || v->pci.bar[i].type == PCI_BAR_IO || !v->pf->mem_map)
		return;
	if (ioctl(v->fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return;
	if (ri.argsz > sizeof(ri)) {	/* capabilities follow: ask again with room */
		uint32_t want = MIN(ri.argsz, 65536u);

		info = calloc(1, want);
		if (!info)
			return;
		*info = (struct vfio_region_info){ .argsz = want, .index = ri.index };
		if (ioctl(v->fd, VFIO_DEVICE_GET_REGION_INFO, info)) {
			free(info);
			return;
		}
	}
	n = vfio_cfg_mmap_areas(info, MIN(info->argsz, (uint32_t)65536), b->size, true,
				&v->msix.m, i, a);
	if (info != &ri)
		free(info);
	if (n < 0)
		warn_msg("%s: VFIO describes BAR %d's mmap areas wrongly; its accesses stay trapped",
			 v->owner, i);
	for (int k = 0; k < n; k++) {
		void *p = mmap(NULL, a[k].size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd,
			       (off_t)(b->off + a[k].off));

		if (p == MAP_FAILED)
			continue;
		b->map[b->nmap++] = (struct vfio_map){ .a = a[k], .hva = p, .slot = -1 };
	}
}

/* The BAR's pieces follow it into and out of the guest's address space. */
static void bar_map(struct pci_dev *d, int i, bool mapped, uint64_t addr)
{
	struct vfio_dev *v = d->opaque;
	struct vfio_bar *b = &v->bar[i];

	for (unsigned k = 0; k < b->nmap; k++) {
		struct vfio_map *m = &b->map[k];

		if (m->slot >= 0) {
			v->pf->mem_unmap(v->pf->kvm_opaque, m->slot);
			m->slot = -1;
		}
		if (mapped) {
			m->slot = v->pf->mem_map(v->pf->kvm_opaque, addr + m->a.off, m->a.size, m->hva);
			if (m->slot < 0) {
				m->slot = -1;
				warn_once("%s: BAR %d at %#llx could not be mapped into the guest; its "
					  "accesses stay trapped", v->owner, i, (unsigned long long)addr);
			}
		}
	}
}

static void bar_munmap(struct vfio_dev *v)
{
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_bar *b = &v->bar[i];

		for (unsigned k = 0; k < b->nmap; k++) {
			if (b->map[k].slot >= 0)
				v->pf->mem_unmap(v->pf->kvm_opaque, b->map[k].slot);
			munmap(b->map[k].hva, b->map[k].a.size);
		}
		b->nmap = 0;
	}
}

/*
 * The capabilities the guest sees, at the device's offsets: ember's MSI and
 * MSI-X (hidden too when ember cannot offer them), PM and vendor-specific
 * ones copied (their bodies are the device's, cfg_read and cfg_write), the
 * rest unlinked (vfio_cfg_shown_caps).
 */
static int caps_init(struct vfio_dev *v, const uint8_t *cfg)
{
	struct vfio_cfg_shown all[VFIO_CFG_MAX_CAPS];
	int n = vfio_cfg_shown_caps(cfg, all, VFIO_CFG_MAX_CAPS), ret = 0;

	if (n < 0) {
		warn_msg("%s: the capability list of %s is malformed; the guest sees none",
			 v->owner, v->bdf);
		n = 0;
	}
	pthread_mutex_init(&v->msix.lock, NULL);
	v->ncaps = 0;
	for (int i = 0; i < n && !ret; i++) {
		const struct vfio_cfg_shown *c = &all[i];

		if (c->id == PCI_CAP_ID_MSI && !v->msi.cap)
			ret = msi_init(v, cfg, c->off);
		else if (c->id == PCI_CAP_ID_MSIX && !v->msix.cap)
			ret = msix_init(v, cfg, c->off);
		else if (c->pass)
			memcpy(v->pci.cfg + c->off, cfg + c->off, c->len);
		if ((c->id == PCI_CAP_ID_MSI && v->msi.cap != c->off) ||
		    (c->id == PCI_CAP_ID_MSIX && v->msix.cap != c->off))
			continue;	/* not offered (or a second one) */
		v->caps[v->ncaps++] = *c;
	}
	vfio_cfg_link(v->pci.cfg, v->caps, v->ncaps);
	return ret;
}

/* ember's view of the function: its identity and BARs, from the device's. */
static int build(struct vfio_dev *v, struct platform *pf, const struct vfio_state *s)
{
	uint8_t cfg[PCI_CFG_SIZE];
	struct vfio_cfg_ids ids;
	bool prev64 = false;
	int ret;

	if (region(v, VFIO_PCI_CONFIG_REGION_INDEX, &v->cfg_off, &v->cfg_size, NULL) ||
	    v->cfg_size < PCI_CFG_SIZE ||
	    pread(v->fd, cfg, sizeof(cfg), (off_t)v->cfg_off) != (ssize_t)sizeof(cfg)) {
		err_msg("%s: cannot read the config space of %s", v->owner, v->bdf);
		return -EIO;
	}
	if (vfio_cfg_ids(cfg, &ids)) {
		err_msg("%s: %s answers with no device or is a bridge (header type %#x)",
			v->owner, v->bdf, cfg[PCI_HEADER_TYPE]);
		return -EINVAL;
	}
	pci_dev_init(&v->pci, pf, ids.vendor, ids.device, ids.class, ids.revision,
		     ids.subsys_vendor, ids.subsys_id, PCI_CFG_SIZE);
	snprintf(v->pci.owner, sizeof(v->pci.owner), "vfio-pci %s", v->bdf);
	/* pin A whatever the device's pin: ember's swizzle picks the GSI */
	pci_cfg_set(&v->pci, PCI_INTERRUPT_PIN, v->has_intx && cfg[PCI_INTERRUPT_PIN] ? 1 : 0, 1);
	v->pci.cfg_write = cfg_write;
	v->pci.cfg_read = cfg_read;
	v->pci.opaque = v;
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_cfg_bar b;
		uint64_t off = 0, size = 0;
		bool can_mmap = false;

		region(v, VFIO_PCI_BAR0_REGION_INDEX + i, &off, &size, &can_mmap);
		ret = vfio_cfg_bar(cfg, i, size, prev64, &b);
		prev64 = ret == 2;
		if (ret < 0) {
			err_msg("%s: BAR %d of %s (%#llx bytes) cannot be passed through",
				v->owner, i, v->bdf, (unsigned long long)size);
			return ret;
		}
		if (!ret)
			continue;
		v->bar[i] = (struct vfio_bar){ .v = v, .off = off, .size = size, .can_mmap = can_mmap };
		if ((ret = pci_bar_init(&v->pci, i, b.type, b.size, b.prefetch, &bar_ops,
					&v->bar[i])))
			return ret;
	}
	if ((ret = caps_init(v, cfg)))
		return ret;
	rom_init(v, s->rombar);
	for (int i = 0; i < PCI_NUM_BARS && !s->no_mmap; i++)
		if (v->bar[i].size)
			bar_mmap(v, i);
	v->pci.bar_map = bar_map;
	return 0;
}

static int set_irqs(struct vfio_dev *v, unsigned index, uint32_t action, const int *fds,
		    unsigned n)
{
	size_t size = sizeof(struct vfio_irq_set) + n * sizeof(int32_t);
	struct vfio_irq_set *set = calloc(1, size);
	int ret;

	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)size;
	set->index = index;
	set->count = n;
	set->flags = action | (n ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	for (unsigned i = 0; i < n; i++)
		((int32_t *)set->data)[i] = fds[i];
	ret = ioctl(v->fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
	free(set);
	return ret;
}

static int set_irq_fd(struct vfio_dev *v, uint32_t action, int fd)
{
	return set_irqs(v, VFIO_PCI_INTX_IRQ_INDEX, action, &fd, fd >= 0 ? 1 : 0);
}

/* Wires INTx once the function has its GSI (after pci_dev_register). */
static int intx_start(struct vfio_dev *v)
{
	struct platform *pf = v->pf;
	int ret;

	if (!v->has_intx || !pci_cfg_get(&v->pci, PCI_INTERRUPT_PIN, 1) || !pf->irqfd)
		return 0;
	v->intx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v->resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->intx_fd < 0 || v->resample_fd < 0)
		return -errno;
	ret = pf->irqfd(pf->kvm_opaque, v->pci.intx_gsi, v->intx_fd, v->resample_fd, 0);
	if (ret)
		return ret;
	v->intx_on = true;
	if ((ret = set_irq_fd(v, VFIO_IRQ_SET_ACTION_TRIGGER, v->intx_fd)) ||
	    (ret = set_irq_fd(v, VFIO_IRQ_SET_ACTION_UNMASK, v->resample_fd))) {
		err_msg("%s: cannot wire the INTx of %s: %s", v->owner, v->bdf, strerror(-ret));
		return ret;
	}
	return 0;
}

static void intx_stop(struct vfio_dev *v)
{
	if (v->intx_on) {
		set_irq_fd(v, VFIO_IRQ_SET_ACTION_TRIGGER, -1);
		v->pf->irqfd(v->pf->kvm_opaque, v->pci.intx_gsi, v->intx_fd, -1, 1);
		v->intx_on = false;
	}
	if (v->intx_fd >= 0)
		close(v->intx_fd);
	if (v->resample_fd >= 0)
		close(v->resample_fd);
	v->intx_fd = v->resample_fd = -1;
}

/*
 * The one place a vector meets KVM: routed to the guest's @addr/@data and
 * bound while @want, unbound else (a later fire waits in its eventfd).
 */
static void vec_route(struct vfio_dev *v, struct vfio_vec *e, bool want, uint64_t addr,
		      uint32_t data)
{
	struct platform *pf = v->pf;

	if (want && e->gsi < 0 && pf->msi_route_alloc)
		e->gsi = pf->msi_route_alloc(pf->kvm_opaque);
	if (want && (e->gsi < 0 || pf->msi_route_set(pf->kvm_opaque, e->gsi, addr, data)))
		want = false;
	if (want && !e->bound)
		e->bound = !pf->irqfd(pf->kvm_opaque, e->gsi, e->fd, -1, 0);
	else if (!want && e->bound) {
		pf->irqfd(pf->kvm_opaque, e->gsi, e->fd, -1, 1);
		e->bound = false;
	}
}

static struct vfio_vec *vecs_new(unsigned n)
{
	struct vfio_vec *e = calloc(n, sizeof(*e));

	for (unsigned i = 0; e && i < n; i++)
		e[i] = (struct vfio_vec){ .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), .gsi = -1 };
	for (unsigned i = 0; e && i < n; i++)
		if (e[i].fd < 0) {
			for (unsigned k = 0; k < n; k++)
				if (e[k].fd >= 0)
					close(e[k].fd);
			free(e);
			return NULL;
		}
	return e;
}

static void vecs_free(struct vfio_dev *v, struct vfio_vec *e, unsigned n)
{
	for (unsigned i = 0; e && i < n; i++) {
		vec_route(v, &e[i], false, 0, 0);
		if (e[i].gsi >= 0 && v->pf->msi_route_free)
			v->pf->msi_route_free(v->pf->kvm_opaque, e[i].gsi);
		if (e[i].fd >= 0)
			close(e[i].fd);
	}
	free(e);
}

/* The first @n vectors' eventfds as VFIO's triggers of interrupt type @index. */
static int vecs_to_vfio(struct vfio_dev *v, unsigned index, const struct vfio_vec *e, unsigned n)
{
	int fds[2048];

	for (unsigned i = 0; i < n && i < 2048; i++)
		fds[i] = e[i].fd;
	if (v->intx_on)
		set_irq_fd(v, VFIO_IRQ_SET_ACTION_TRIGGER, -1);
	return set_irqs(v, index, VFIO_IRQ_SET_ACTION_TRIGGER, fds, MIN(n, 2048u));
}

/* Interrupt type @index off in VFIO and INTx back. */
static void vecs_off(struct vfio_dev *v, unsigned index)
{
	set_irqs(v, index, VFIO_IRQ_SET_ACTION_TRIGGER, NULL, 0);
	if (v->intx_on) {
		set_irq_fd(v, VFIO_IRQ_SET_ACTION_TRIGGER, v->intx_fd);
		set_irq_fd(v, VFIO_IRQ_SET_ACTION_UNMASK, v->resample_fd);
	}
}

/* Vector @i as the guest has it now; under msix.lock. */
static void msix_update(struct vfio_dev *v, unsigned i)
{
	struct vfio_msix *x = &v->msix;
	const uint8_t *e = x->table + (size_t)i * PCI_MSIX_ENTRY_SIZE;
	uint32_t ctrl, data, lo, hi;

	memcpy(&lo, e + PCI_MSIX_ENTRY_LOWER_ADDR, 4);
	memcpy(&hi, e + PCI_MSIX_ENTRY_UPPER_ADDR, 4);
	memcpy(&data, e + PCI_MSIX_ENTRY_DATA, 4);
	memcpy(&ctrl, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4);
	vec_route(v, &x->vec[i], x->vfio_on && !x->masked && !(ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT),
		  (uint64_t)hi << 32 | lo, data);
}

/* MSI-X off in VFIO and INTx back; under msix.lock. */
static void msix_off(struct vfio_dev *v)
{
	v->msix.vfio_on = false;
	vecs_off(v, VFIO_PCI_MSIX_IRQ_INDEX);
}

/*
 * The guest's MSI-X enable and function mask (config space, under
 * host->lock). VFIO takes one interrupt type at a time: INTx off while
 * MSI-X is on, and back after.
 */
static void msix_control(struct vfio_dev *v)
{
	struct vfio_msix *x = &v->msix;
	uint16_t ctl = pci_cfg_get(&v->pci, x->cap + PCI_MSIX_FLAGS, 2);

	pthread_mutex_lock(&x->lock);
	x->enabled = ctl & PCI_MSIX_FLAGS_ENABLE;
	x->masked = ctl & PCI_MSIX_FLAGS_MASKALL;
	if (x->enabled && !x->vfio_on) {
		if (vecs_to_vfio(v, VFIO_PCI_MSIX_IRQ_INDEX, x->vec, x->m.nvec))
			warn_once("%s: VFIO refused MSI-X for %s", v->owner, v->bdf);
		else
			x->vfio_on = true;
	} else if (!x->enabled && x->vfio_on) {
		msix_off(v);
	}
	for (unsigned i = 0; i < x->m.nvec; i++)
		msix_update(v, i);
	pthread_mutex_unlock(&x->lock);
}

/* ember's MSI-X capability over the device's at @off (0: none). */
static int msix_init(struct vfio_dev *v, const uint8_t *cfg, unsigned off)
{
	struct vfio_msix *x = &v->msix;
	uint64_t sizes[PCI_NUM_BARS];
	unsigned c = off;

	if (!v->pf->irqfd || !v->pf->msi_route_set || !off)
		return 0;	/* no KVM routes (unit tests without them) */
	for (int i = 0; i < PCI_NUM_BARS; i++)
		sizes[i] = v->bar[i].size;
	if (vfio_cfg_msix(cfg, off, sizes, &x->m)) {
		warn_msg("%s: the MSI-X capability of %s is malformed; the guest gets INTx",
			 v->owner, v->bdf);
		memset(&x->m, 0, sizeof(x->m));
		return 0;
	}
	x->table = calloc(x->m.nvec, PCI_MSIX_ENTRY_SIZE);
	x->vec = vecs_new(x->m.nvec);
	if (!x->table || !x->vec)
		return -ENOMEM;
	for (unsigned i = 0; i < x->m.nvec; i++) {
		/* masked at reset (PCI 3.0 6.8.2.9) */
		x->table[i * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] =
			PCI_MSIX_ENTRY_CTRL_MASKBIT;
	}
	x->cap = (uint16_t)c;
	pci_cfg_set(&v->pci, c, PCI_CAP_ID_MSIX, 1);
	pci_cfg_set(&v->pci, c + PCI_MSIX_FLAGS, x->m.nvec - 1, 2);
	pci_cfg_set(&v->pci, c + PCI_MSIX_TABLE, x->m.table_off | x->m.table_bar, 4);
	pci_cfg_set(&v->pci, c + PCI_MSIX_PBA, x->m.pba_off | x->m.pba_bar, 4);
	pci_cfg_wmask(&v->pci, c + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	return 0;
}

static void msix_stop(struct vfio_dev *v)
{
	struct vfio_msix *x = &v->msix;

	if (!x->table)
		return;
	pthread_mutex_lock(&x->lock);
	if (x->vfio_on)
		set_irqs(v, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, NULL, 0);
	x->vfio_on = false;
	vecs_free(v, x->vec, x->m.nvec);
	x->vec = NULL;
	pthread_mutex_unlock(&x->lock);
	free(x->table);
	x->table = NULL;
}

/* Where the parts of ember's MSI capability are. */
static unsigned msi_data(const struct vfio_msi *x)
{
	return x->cap + (x->m.is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
}

static unsigned msi_mask(const struct vfio_msi *x)
{
	return x->cap + (x->m.is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

/*
 * The guest's MSI capability as it is now (after a config write, under
 * host->lock): the number of vectors it enabled, at most what the device
 * offers, go to VFIO (INTx off meanwhile; a new count turns MSI off and on
 * again, as VFIO wants), and each enabled, unmasked vector is routed with
 * the guest's address and its data (the vector number in the low bits).
 */
static void msi_update(struct vfio_dev *v)
{
	struct vfio_msi *x = &v->msi;
	struct pci_dev *d = &v->pci;
	uint16_t ctl = pci_cfg_get(d, x->cap + PCI_MSI_FLAGS, 2);
	unsigned n = 0;
	uint64_t addr;
	uint32_t data, mask = 0;

	if (ctl & PCI_MSI_FLAGS_ENABLE)
		n = MIN(1u << ((ctl & PCI_MSI_FLAGS_QSIZE) >> 4), x->m.nvec);
	if (n != x->on) {
		if (x->on)
			vecs_off(v, VFIO_PCI_MSI_IRQ_INDEX);
		x->on = 0;
		if (n && vecs_to_vfio(v, VFIO_PCI_MSI_IRQ_INDEX, x->vec, n)) {
			warn_once("%s: VFIO refused MSI for %s", v->owner, v->bdf);
			vecs_off(v, VFIO_PCI_MSI_IRQ_INDEX);
		} else {
			x->on = n;
		}
	}
	addr = pci_cfg_get(d, x->cap + PCI_MSI_ADDRESS_LO, 4);
	if (x->m.is64)
		addr |= (uint64_t)pci_cfg_get(d, x->cap + PCI_MSI_ADDRESS_HI, 4) << 32;
	data = pci_cfg_get(d, msi_data(x), 2);
	if (x->m.maskable)
		mask = pci_cfg_get(d, msi_mask(x), 4);
	for (unsigned i = 0; i < x->m.nvec; i++)
		vec_route(v, &x->vec[i], i < x->on && !(mask >> i & 1), addr,
			  (data & ~(x->on - 1)) | i);
}

/*
 * ember's MSI capability over the device's, when VFIO offers MSI too: as
 * many vectors, the same address width and masking; the guest may write
 * the enable bit, the vector count, address, data and mask bits (pending
 * bits read 0: a masked vector's fire waits in its eventfd).
 */
static int msi_init(struct vfio_dev *v, const uint8_t *cfg, unsigned off)
{
	struct vfio_msi *x = &v->msi;
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSI_IRQ_INDEX };
	unsigned log2 = 0, c = off;

	if (!v->pf->irqfd || !v->pf->msi_route_set || !off ||
	    ioctl(v->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) || !ii.count)
		return 0;
	if (vfio_cfg_msi(cfg, off, &x->m))
		return 0;	/* vfio_cfg_shown_caps hid it */
	while (x->m.nvec > ii.count)
		x->m.nvec /= 2;
	if (!x->m.nvec)
		return 0;
	while ((1u << log2) < x->m.nvec)
		log2++;
	if (!(x->vec = vecs_new(x->m.nvec)))
		return -ENOMEM;
	x->cap = (uint16_t)c;
	pci_cfg_set(&v->pci, c, PCI_CAP_ID_MSI, 1);
	pci_cfg_set(&v->pci, c + PCI_MSI_FLAGS, log2 << 1 |
		    (x->m.is64 ? PCI_MSI_FLAGS_64BIT : 0) |
		    (x->m.maskable ? PCI_MSI_FLAGS_MASKBIT : 0), 2);
	pci_cfg_wmask(&v->pci, c + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE, 2);
	pci_cfg_wmask(&v->pci, c + PCI_MSI_ADDRESS_LO, 0xfffffffc, 4);
	if (x->m.is64)
		pci_cfg_wmask(&v->pci, c + PCI_MSI_ADDRESS_HI, 0xffffffff, 4);
	pci_cfg_wmask(&v->pci, msi_data(x), 0xffff, 2);
	if (x->m.maskable)
		pci_cfg_wmask(&v->pci, msi_mask(x), (uint32_t)((1ULL << x->m.nvec) - 1), 4);
	return 0;
}

/* MSI off in VFIO and every vector unbound (reset, exit). */
static void msi_off(struct vfio_dev *v)
{
	struct vfio_msi *x = &v->msi;

	if (x->on)
		vecs_off(v, VFIO_PCI_MSI_IRQ_INDEX);
	x->on = 0;
	for (unsigned i = 0; x->vec && i < x->m.nvec; i++)
		vec_route(v, &x->vec[i], false, 0, 0);
}

static void dev_reset(struct vfio_dev *v)
{
	if (v->fd >= 0 && v->can_reset && ioctl(v->fd, VFIO_DEVICE_RESET))
		warn_msg("%s: resetting %s failed: %s", v->owner, v->bdf, strerror(errno));
}

/*
 * Machine reset (the loop, vCPUs parked; pci_host_reset clears ember's
 * config space after this): MSI-X off with every vector masked, the
 * function reset, bus mastering off in it.
 */
static void vfio_reset(struct device *dev, struct platform *pf)
{
	struct vfio_state *s = dev->state;
	struct vfio_dev *v = s->v;
	struct vfio_msix *x;

	(void)pf;
	if (!v)
		return;
	x = &v->msix;
	if (x->table) {
		pthread_mutex_lock(&x->lock);
		x->enabled = x->masked = false;
		if (x->vfio_on)
			msix_off(v);
		memset(x->table, 0, (size_t)x->m.nvec * PCI_MSIX_ENTRY_SIZE);
		for (unsigned i = 0; i < x->m.nvec; i++) {
			x->table[i * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] =
				PCI_MSIX_ENTRY_CTRL_MASKBIT;
			msix_update(v, i);	/* unbound */
		}
		pthread_mutex_unlock(&x->lock);
	}
	msi_off(v);
	rom_update(v, false);
	dev_reset(v);
	sync_cmd(v, 0);
}

static void vfio_unrealize(struct device *dev, struct platform *pf)
{
	struct vfio_state *s = dev->state;
	struct vfio_dev *v = s->v;

	(void)pf;
	if (!v)
		return;
	if (v->pins_ram)
		gmem_discard_disable(false);
	msix_stop(v);
	msi_off(v);
	vecs_free(v, v->msi.vec, v->msi.m.nvec);
	v->msi.vec = NULL;
	intx_stop(v);
	rom_update(v, false);
	if (v->registered)
		pci_dev_unregister(&v->pci);
	bar_munmap(v);
	pci_dev_destroy(&v->pci);
	dev_reset(v);	/* the next user gets a clean device */
	if (v->fd >= 0)
		close(v->fd);
	group_put(v);
	free(v);
	s->v = NULL;
}

static bool in_use(struct platform *pf, const char *bdf, struct vfio_dev *self)
{
	for (struct device *d = pf->devices; d; d = d->next) {
		struct vfio_state *o = d->state;

		if (d->type->realize == vfio_type.realize && o->v && o->v != self &&
		    !strcmp(o->v->bdf, bdf))
			return true;
	}
	return false;
}

/* v's owner (for messages) and bdf from host= or sysfsdev=. */
static int name_device(const struct vfio_state *s, struct vfio_dev *v)
{
	const char *name = s->host;

	if (!s->host == !s->sysfsdev) {
		err_msg("-device vfio-pci: give host=DDDD:BB:DD.F or sysfsdev=PATH (one of them)");
		return -EINVAL;
	}
	if (s->sysfsdev) {
		name = strrchr(s->sysfsdev, '/');
		name = name ? name + 1 : s->sysfsdev;
	}
	snprintf(v->owner, sizeof(v->owner), "-device vfio-pci,%s=%s",
		 s->host ? "host" : "sysfsdev", s->host ? s->host : s->sysfsdev);
	if (vfio_parse_bdf(name, v->bdf, sizeof(v->bdf))) {
		err_msg("%s: not a PCI address (want DDDD:BB:DD.F, e.g. 0000:00:03.0)", v->owner);
		return -EINVAL;
	}
	return 0;
}

/* Before the machine exists: the options and the host's sysfs. */
static int vfio_check(void *state)
{
	struct vfio_dev *v = calloc(1, sizeof(*v));
	int slot, function, group, ret;

	if (!v)
		return -ENOMEM;
	ret = name_device(state, v);
	if (!ret)
		ret = pci_parse_addr(((struct vfio_state *)state)->addr, &slot, &function, v->owner);
	if (!ret)
		ret = host_check(v, &group);
	free(v);
	return ret;
}

static int vfio_realize(struct device *dev, struct platform *pf)
{
	struct vfio_state *s = dev->state;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int slot, function, group, ret;
	struct vfio_dev *v;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->fd = v->intx_fd = v->resample_fd = -1;
	v->pf = pf;
	s->v = v;
	if ((ret = name_device(s, v)))
		goto fail;
	if (!pf->pci) {
		err_msg("%s: this machine has no PCI bus (add -M pci)", v->owner);
		ret = -ENODEV;
		goto fail;
	}
	if ((ret = pci_parse_addr(s->addr, &slot, &function, v->owner)))
		goto fail;
	if (in_use(pf, v->bdf, v)) {
		err_msg("%s: %s is already passed through by another -device vfio-pci",
			v->owner, v->bdf);
		ret = -EEXIST;
		goto fail;
	}
	if ((ret = host_check(v, &group)) || (ret = group_get(v, pf, group)))
		goto fail;
	sandbox_allow_vfio();
	v->fd = ioctl(v->group->fd, VFIO_GROUP_GET_DEVICE_FD, v->bdf);
	if (v->fd < 0) {
		ret = -errno;
		err_msg("%s: cannot open %s through VFIO: %s", v->owner, v->bdf, strerror(-ret));
		goto fail;
	}
	if (ioctl(v->fd, VFIO_DEVICE_GET_INFO, &info) || !(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		err_msg("%s: %s is not a PCI device to VFIO", v->owner, v->bdf);
		ret = -ENODEV;
		goto fail;
	}
	v->can_reset = info.flags & VFIO_DEVICE_FLAGS_RESET;
	{
		struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_INTX_IRQ_INDEX };

		v->has_intx = info.num_irqs > VFIO_PCI_INTX_IRQ_INDEX &&
			      !ioctl(v->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) && ii.count >= 1;
	}
	dev_reset(v);
	if ((ret = build(v, pf, s)))
		goto fail;
	if ((ret = pci_dev_register(pf->pci, &v->pci, s->bus, slot, function, v->owner)))
		goto fail;
	v->registered = true;
	if ((ret = intx_start(v)))
		goto fail;
	sync_cmd(v, 0);	/* decode on in the device, whatever it was left with */
	gmem_discard_disable(true);
	v->pins_ram = true;
	return 0;
fail:
	vfio_unrealize(dev, pf);
	return ret;
}

static const struct prop vfio_props[] = {
	{ "host", PROP_STR, offsetof(struct vfio_state, host), NULL,
	  "host PCI address DDDD:BB:DD.F of a function bound to vfio-pci" },
	{ "sysfsdev", PROP_STR, offsetof(struct vfio_state, sysfsdev), NULL,
	  "the function's sysfs path, instead of host=" },
	{ "bus", PROP_STR, offsetof(struct vfio_state, bus), NULL, "PCI bus (pci.0)" },
	{ "addr", PROP_STR, offsetof(struct vfio_state, addr), NULL,
	  "PCI slot[.function], hex (default: first free slot)" },
	{ "rombar", PROP_U32, offsetof(struct vfio_state, rombar), "1",
	  "1: show the function's ROM (if it has one) as a read-only ROM BAR; 0: hide it",
	  .max = 1 },
	{ "x-no-mmap", PROP_BOOL, offsetof(struct vfio_state, no_mmap), "off",
	  "on: trap every BAR access instead of mapping the BARs into the guest" },
	{ NULL }
};

const struct device_type vfio_type = {
	.name = "vfio-pci",
	.bus = "pci",
	.desc = "host PCI function passed through with VFIO",
	.state_size = sizeof(struct vfio_state),
	.props = vfio_props,
	.realize = vfio_realize,
	.unrealize = vfio_unrealize,
	.reset = vfio_reset,
	.check = vfio_check,
};
DEVICE_TYPE(vfio_type)
