/*
 * -device vfio-pci (devices/vfio.c) against a fake host: sysfs links,
 * /dev/vfio and the VFIO ioctls, and the device's regions (pread/pwrite)
 * are wrapped at link time. The fake device is QEMU's edu (1234:11e8, a
 * 1 MiB BAR 0, MSI, INTx); the guest's side goes through pci.0 as in
 * test_pci, KVM's irqfd is a fake that records what is bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <linux/vfio.h>
#include <cmocka.h>

#include "devices/device.h"
#include "devices/pci.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "pci_guest.h"

#define BDF		"0000:00:03.0"
#define CFG_OFF		(7ULL << 40)
#define ROM_OFF		(6ULL << 40)
#define RAM_SIZE	(1 << 20)

static struct {
	int container, group, dev;
	const char *driver;		/* the device's driver link, NULL: none */
	const char *group_link;		/* iommu_group link, NULL: none */
	bool not_viable;
	uint64_t bar0_size;
	uint8_t cfg[256];
	uint32_t liveness;
	unsigned resets, group_opens, dev_opens;
	uint64_t map_iova, map_size;
	unsigned maps;
	uint16_t last_cmd;		/* the last command register written to the device */
	int intx_trigger, intx_unmask;	/* SET_IRQS eventfds; -1: none */
	int irqfd_fd, irqfd_resample;	/* bound by pf.irqfd; -1: none */
	unsigned irqfd_gsi;
	/* MSI-X: SET_IRQS' eventfds, KVM routes from GSI 100 and their irqfds */
	int msix_fds[8];
	unsigned msix_count, msix_sets;
	int route_fd[8];
	uint64_t route_addr[8];
	uint32_t route_data[8];
	unsigned routes, routes_freed;
	unsigned table_pwrites;
	unsigned cfg_pwrites;		/* to the capabilities */
	/* MSI: the vectors VFIO offers, SET_IRQS' eventfds */
	unsigned msi_offered, msi_count, msi_sets;
	int msi_fds[8];
	/* the ROM region (read-only); BAR 0 mmap'able (the device fd is a memfd) */
	uint64_t rom_size;
	bool bar_mmap;
	unsigned mem_maps, mem_unmaps;
	uint64_t mem_map_gpa;
} k;

static int fake_mem_map(void *opaque, uint64_t gpa, uint64_t size, void *hva)
{
	k.mem_maps++;
	k.mem_map_gpa = gpa;
	return 1;
}

static void fake_mem_unmap(void *opaque, int handle)
{
	k.mem_unmaps++;
}

/* KVM's VFIO device: the group fds it holds; kvm_refuse: the next add fails */
static int kvm_groups[4], kvm_ngroups, kvm_refuse;

static int fake_vfio_group(void *opaque, int group_fd, int add)
{
	if (add && kvm_refuse)
		return -kvm_refuse;
	if (add) {
		assert_true(kvm_ngroups < 4);
		kvm_groups[kvm_ngroups++] = group_fd;
		return 0;
	}
	for (int i = 0; i < kvm_ngroups; i++)
		if (kvm_groups[i] == group_fd) {
			kvm_groups[i] = kvm_groups[--kvm_ngroups];
			return 0;
		}
	fail_msg("group fd %d removed from KVM's VFIO device but never added", group_fd);
	return -EINVAL;
}

static int fake_route_alloc(void *opaque)
{
	return k.routes < 8 ? (int)(100 + k.routes++) : -ENOSPC;
}

static int fake_route_set(void *opaque, unsigned gsi, uint64_t addr, uint32_t data)
{
	assert_true(gsi >= 100 && gsi < 100 + k.routes);
	k.route_addr[gsi - 100] = addr;
	k.route_data[gsi - 100] = data;
	return 0;
}

static void fake_route_free(void *opaque, unsigned gsi)
{
	assert_true(gsi >= 100 && gsi < 100 + k.routes);
	k.routes_freed++;
}

static int fake_irqfd(void *opaque, unsigned gsi, int fd, int resample_fd, int deassign)
{
	if (gsi >= 100) {
		assert_true(gsi < 100 + k.routes);
		assert_int_equal(resample_fd, -1);
		if (deassign)
			assert_int_equal(k.route_fd[gsi - 100], fd);
		else
			assert_int_equal(k.route_fd[gsi - 100], -1);	/* bound once */
		k.route_fd[gsi - 100] = deassign ? -1 : fd;
		return 0;
	}
	if (deassign) {
		assert_int_equal(fd, k.irqfd_fd);
		k.irqfd_fd = k.irqfd_resample = -1;
		return 0;
	}
	k.irqfd_fd = fd;
	k.irqfd_resample = resample_fd;
	k.irqfd_gsi = gsi;
	return 0;
}

static bool sandbox_on;
void sandbox_allow_vfio(void)
{
	sandbox_on = true;
}

int __real_ioctl(int fd, unsigned long req, ...);
int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);
ssize_t __real_readlink(const char *path, char *buf, size_t size);
int __real_access(const char *path, int mode);
ssize_t __real_pread64(int fd, void *buf, size_t len, off_t off);
ssize_t __real_pwrite64(int fd, const void *buf, size_t len, off_t off);

static int fake_open(const char *path, int flags, int mode, int (*real)(const char *, int, ...))
{
	if (!strcmp(path, "/dev/vfio/vfio"))
		return k.container = eventfd(0, EFD_CLOEXEC);
	if (!strcmp(path, "/dev/vfio/7")) {
		k.group_opens++;
		return k.group = eventfd(0, EFD_CLOEXEC);
	}
	if (!strncmp(path, "/dev/vfio/", 10)) {
		errno = ENOENT;
		return -1;
	}
	return real(path, flags, mode);
}

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	int mode;

	va_start(ap, flags);
	mode = va_arg(ap, int);
	va_end(ap);
	return fake_open(path, flags, mode, __real_open);
}

int __wrap_open64(const char *path, int flags, ...)
{
	va_list ap;
	int mode;

	va_start(ap, flags);
	mode = va_arg(ap, int);
	va_end(ap);
	return fake_open(path, flags, mode, __real_open64);
}

static ssize_t put_link(char *buf, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n > size)
		n = size;
	memcpy(buf, s, n);
	return (ssize_t)n;
}

ssize_t __wrap_readlink(const char *path, char *buf, size_t size)
{
	if (!strcmp(path, "/sys/bus/pci/devices/" BDF "/driver")) {
		if (!k.driver) {
			errno = ENOENT;
			return -1;
		}
		return put_link(buf, size, k.driver);
	}
	if (!strcmp(path, "/sys/bus/pci/devices/" BDF "/iommu_group")) {
		if (!k.group_link) {
			errno = ENOENT;
			return -1;
		}
		return put_link(buf, size, k.group_link);
	}
	return __real_readlink(path, buf, size);
}

int __wrap_access(const char *path, int mode)
{
	if (!strncmp(path, "/sys/bus/pci/devices/", 21))
		return strcmp(path, "/sys/bus/pci/devices/" BDF) ? (errno = ENOENT, -1) : 0;
	return __real_access(path, mode);
}

static int region_info(struct vfio_region_info *ri)
{
	ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	ri->offset = (uint64_t)ri->index << 40;
	ri->size = 0;
	if (ri->index == VFIO_PCI_BAR0_REGION_INDEX) {
		ri->size = k.bar0_size;
		if (k.bar_mmap)
			ri->flags |= VFIO_REGION_INFO_FLAG_MMAP;
	} else if (ri->index == VFIO_PCI_ROM_REGION_INDEX) {
		ri->flags = VFIO_REGION_INFO_FLAG_READ;
		ri->size = k.rom_size;
	}
	else if (ri->index == VFIO_PCI_CONFIG_REGION_INDEX)
		ri->size = 256;
	return 0;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd >= 0 && fd == k.container) {
		switch (req) {
		case VFIO_GET_API_VERSION: return VFIO_API_VERSION;
		case VFIO_CHECK_EXTENSION: return (uintptr_t)arg == VFIO_TYPE1v2_IOMMU;
		case VFIO_SET_IOMMU: return 0;
		case VFIO_IOMMU_MAP_DMA: {
			struct vfio_iommu_type1_dma_map *m = arg;

			k.map_iova = m->iova;
			k.map_size = m->size;
			k.maps++;
			return 0;
		}
		}
	} else if (fd >= 0 && fd == k.group) {
		switch (req) {
		case VFIO_GROUP_GET_STATUS:
			((struct vfio_group_status *)arg)->flags =
				k.not_viable ? 0 : VFIO_GROUP_FLAGS_VIABLE;
			return 0;
		case VFIO_GROUP_SET_CONTAINER: return *(int *)arg == k.container ? 0 : -1;
		case VFIO_GROUP_GET_DEVICE_FD:
			if (strcmp(arg, BDF)) {
				errno = ENODEV;
				return -1;
			}
			k.dev_opens++;
			k.dev = memfd_create("vfio-dev", MFD_CLOEXEC);
			assert_int_equal(ftruncate(k.dev, 1 << 20), 0);
			return k.dev;
		}
	} else if (fd >= 0 && fd == k.dev) {
		switch (req) {
		case VFIO_DEVICE_GET_INFO: {
			struct vfio_device_info *i = arg;

			i->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
			i->num_regions = VFIO_PCI_NUM_REGIONS;
			i->num_irqs = VFIO_PCI_NUM_IRQS;
			return 0;
		}
		case VFIO_DEVICE_GET_REGION_INFO: return region_info(arg);
		case VFIO_DEVICE_GET_IRQ_INFO:
			((struct vfio_irq_info *)arg)->count =
				((struct vfio_irq_info *)arg)->index == VFIO_PCI_INTX_IRQ_INDEX;
			if (((struct vfio_irq_info *)arg)->index == VFIO_PCI_MSI_IRQ_INDEX)
				((struct vfio_irq_info *)arg)->count = k.msi_offered;
			return 0;
		case VFIO_DEVICE_SET_IRQS: {
			struct vfio_irq_set *set = arg;
			int efd = set->count ? *(int32_t *)set->data : -1;

			if (set->index == VFIO_PCI_MSIX_IRQ_INDEX) {
				assert_true(set->count <= 8);
				k.msix_count = set->count;
				k.msix_sets++;
				memcpy(k.msix_fds, set->data, set->count * sizeof(int));
				return 0;
			}
			if (set->index == VFIO_PCI_MSI_IRQ_INDEX) {
				assert_true(set->count <= k.msi_offered);
				/* VFIO wants MSI off before a new count */
				assert_true(!set->count || !k.msi_count);
				k.msi_count = set->count;
				k.msi_sets++;
				memcpy(k.msi_fds, set->data, set->count * sizeof(int));
				return 0;
			}
			if (set->index != VFIO_PCI_INTX_IRQ_INDEX)
				break;
			if (set->flags & VFIO_IRQ_SET_ACTION_TRIGGER)
				k.intx_trigger = efd;
			else if (set->flags & VFIO_IRQ_SET_ACTION_UNMASK)
				k.intx_unmask = efd;
			return 0;
		}
		case VFIO_DEVICE_RESET: k.resets++; return 0;
		}
	} else {
		return __real_ioctl(fd, req, arg);
	}
	errno = ENOTTY;
	return -1;
}

ssize_t __wrap_pread64(int fd, void *buf, size_t len, off_t off)
{
	uint32_t v = 0;

	if (fd != k.dev || fd < 0)
		return __real_pread64(fd, buf, len, off);
	if ((uint64_t)off >= CFG_OFF) {
		off -= CFG_OFF;
		if ((size_t)off + len > sizeof(k.cfg))
			return -1;
		memcpy(buf, k.cfg + off, len);
		return (ssize_t)len;
	}
	if ((uint64_t)off >= ROM_OFF) {
		/* a ROM image: the 0x55 0xaa signature, then each byte its offset's low bits */
		off -= ROM_OFF;
		if ((uint64_t)off + len > k.rom_size)
			return -1;
		for (size_t i = 0; i < len; i++)
			((uint8_t *)buf)[i] = off + i == 0 ? 0x55 : off + i == 1 ? 0xaa : (uint8_t)(off + i);
		return (ssize_t)len;
	}
	if ((uint64_t)off + len > k.bar0_size)
		return -1;
	if (off == 0)
		v = 0x010000ed;		/* edu's identity */
	else if (off == 4)
		v = ~k.liveness;
	memcpy(buf, &v, len < 4 ? len : 4);
	return (ssize_t)len;
}

ssize_t __wrap_pread(int fd, void *buf, size_t len, off_t off)
{
	return __wrap_pread64(fd, buf, len, off);
}

ssize_t __wrap_pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	if (fd != k.dev || fd < 0)
		return __real_pwrite64(fd, buf, len, off);
	assert_true((uint64_t)off < ROM_OFF || (uint64_t)off >= CFG_OFF);	/* never the ROM */
	if ((uint64_t)off == CFG_OFF + PCI_COMMAND && len == 2) {
		memcpy(&k.last_cmd, buf, 2);
		return 2;
	}
	if ((uint64_t)off >= CFG_OFF + PCI_STD_HEADER_SIZEOF && (uint64_t)off + len <= CFG_OFF + 256) {
		k.cfg_pwrites++;
		memcpy(k.cfg + (off - CFG_OFF), buf, len);
		return (ssize_t)len;
	}
	if (off == 4 && len == 4) {
		memcpy(&k.liveness, buf, 4);
		return 4;
	}
	if (off >= 0x8000 && off < 0xa000)
		k.table_pwrites++;
	return (ssize_t)len;
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return __wrap_pwrite64(fd, buf, len, off);
}

static struct gmem mem;
static void *ram;

static void put(unsigned off, uint32_t v, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		k.cfg[off + i] = v >> (8 * i);
}

static int setup(void **state)
{
	memset(&k, 0, sizeof(k));
	k.container = k.group = k.dev = -1;
	k.intx_trigger = k.intx_unmask = k.irqfd_fd = k.irqfd_resample = -1;
	for (int i = 0; i < 8; i++)
		k.route_fd[i] = -1;
	k.driver = "../../../bus/pci/drivers/vfio-pci";
	k.group_link = "../../../kernel/iommu_groups/7";
	k.bar0_size = 1 << 20;
	put(PCI_VENDOR_ID, 0x1234, 2);
	put(PCI_DEVICE_ID, 0x11e8, 2);
	put(PCI_REVISION_ID, 0x10, 1);
	put(PCI_CLASS_PROG, 0x00ff00, 3);
	put(PCI_STATUS, PCI_STATUS_CAP_LIST, 2);
	put(PCI_CAPABILITY_LIST, 0x40, 1);
	put(0x40, PCI_CAP_ID_MSI, 1);
	put(PCI_BASE_ADDRESS_0, 0xfea00000, 4);
	put(PCI_INTERRUPT_PIN, 1, 1);
	sandbox_on = false;

	memset(&pf, 0, sizeof(pf));
	memset(&mem, 0, sizeof(mem));
	log_set_quiet(1);
	ram = calloc(1, RAM_SIZE);
	assert_non_null(ram);
	assert_int_equal(gmem_add(&mem, 0, RAM_SIZE, ram, -1, 0), 0);
	pf.mem = &mem;
	bus_init(&pf.pio, "pio");
	bus_init(&pf.mmio, "mmio");
	pf.msi_send = fake_msi_send;
	pf.irqfd = fake_irqfd;
	pf.vfio_group = fake_vfio_group;
	kvm_ngroups = kvm_refuse = 0;
	return pci_host_create(&pf, ECAM, MMIO32, MMIO32_SIZE, MMIO64, MMIO64_SIZE);
}

static int teardown(void **state)
{
	device_destroy_all(&pf);
	assert_false(gmem_discard_disabled());	/* a removed device unpins */
	pci_host_destroy(&pf);
	bus_destroy(&pf.mmio);
	bus_destroy(&pf.pio);
	free(ram);
	return 0;
}

static void t_edu(void **state)
{
	uint64_t bar;

	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	assert_true(gmem_discard_disabled());	/* DMA-mapped RAM: no balloon discards */
	assert_true(sandbox_on);
	assert_int_equal(k.resets, 1);			/* reset at start */
	assert_int_equal(k.maps, 1);			/* all guest RAM, at its GPA */
	assert_int_equal(k.map_iova, 0);
	assert_int_equal(k.map_size, RAM_SIZE);

	/* the device's identity, ember's own header: INTA, no capabilities yet */
	assert_int_equal(ecam_read(5, 0, PCI_VENDOR_ID, 4), 0x11e81234);
	assert_int_equal(ecam_read(5, 0, PCI_CLASS_REVISION, 4), 0x00ff0010);
	assert_int_equal(ecam_read(5, 0, PCI_INTERRUPT_PIN, 1), 1);
	/* INTx: VFIO's trigger is a KVM irqfd on the slot's GSI, its unmask the resample fd */
	assert_int_equal(ecam_read(5, 0, PCI_INTERRUPT_LINE, 1), PCI_INTX_GSI_BASE + (5 + 0) % 4);
	assert_int_equal(k.irqfd_gsi, PCI_INTX_GSI_BASE + (5 + 0) % 4);
	assert_true(k.irqfd_fd >= 0 && k.irqfd_resample >= 0);
	assert_int_equal(k.intx_trigger, k.irqfd_fd);
	assert_int_equal(k.intx_unmask, k.irqfd_resample);
	/* the device decodes its BAR from the start; no bus mastering before the guest asks */
	assert_int_equal(k.last_cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY);
	assert_int_equal(ecam_read(5, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	assert_int_equal(ecam_read(5, 0, PCI_CAPABILITY_LIST, 1), 0);

	/* BAR 0 sizes as the device's (1 MiB, 32-bit), wherever the device had it */
	ecam_write(5, 0, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(ecam_read(5, 0, PCI_BASE_ADDRESS_0, 4), 0xfff00000);
	bar = MMIO32 + 0x200000;
	ecam_write(5, 0, PCI_BASE_ADDRESS_0, (uint32_t)bar, 4);
	ecam_write(5, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		   PCI_COMMAND_INTX_DISABLE, 2);
	/* bus mastering and INTx disable reach the device */
	assert_int_equal(k.last_cmd & PCI_COMMAND_MASTER, PCI_COMMAND_MASTER);
	assert_int_equal(k.last_cmd & PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_INTX_DISABLE);
	ecam_write(5, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	assert_int_equal(k.last_cmd & PCI_COMMAND_INTX_DISABLE, 0);

	/* accesses reach the device's region */
	assert_int_equal(mmio_read(bar, 4), 0x010000ed);
	mmio_write(bar + 4, 0x12345678, 4);
	assert_int_equal(mmio_read(bar + 4, 4), 0xedcba987);
	/* decode off: the guest reaches nothing */
	ecam_write(5, 0, PCI_COMMAND, 0, 2);
	assert_int_equal(mmio_read(bar, 4), 0xffffffff);
	assert_int_equal(k.last_cmd & PCI_COMMAND_MASTER, 0);

	device_destroy_all(&pf);
	assert_int_equal(k.resets, 2);			/* and at exit */
	assert_int_equal(k.intx_trigger, -1);		/* INTx unwired */
	assert_int_equal(k.irqfd_fd, -1);
}

/*
 * The group joins KVM's VFIO device once, however many of its functions
 * are passed, and leaves it with the last; a refusal fails the device.
 */
static void t_kvm_vfio(void **state)
{
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	assert_int_equal(kvm_ngroups, 1);
	assert_int_equal(kvm_groups[0], k.group);
	device_destroy_all(&pf);
	assert_int_equal(kvm_ngroups, 0);

	kvm_refuse = ENODEV;
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), -ENODEV);
	assert_null(pf.devices);
	assert_int_equal(k.dev_opens, 1);	/* refused before the device opened */
	kvm_refuse = 0;
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	assert_int_equal(kvm_ngroups, 1);
}

static void t_sysfsdev_and_twice(void **state)
{
	assert_int_equal(device_create(&pf, "vfio-pci,sysfsdev=/sys/bus/pci/devices/" BDF), 0);
	assert_int_equal(device_create(&pf, "vfio-pci,host=00:03.0"), -EEXIST);
	assert_int_equal(k.group_opens, 1);
	assert_int_equal(k.dev_opens, 1);
}

/* -device's check before the machine exists: the options and the host's sysfs, nothing opened. */
static void t_check(void **state)
{
	assert_int_equal(device_check("vfio-pci,host=" BDF ",addr=5"), 0);
	assert_int_equal(device_check("vfio-pci,host=zz"), -EINVAL);
	assert_int_equal(device_check("vfio-pci,host=" BDF ",addr=40"), -EINVAL);
	assert_int_equal(device_check("vfio-pci,host=0000:00:04.0"), -ENODEV);
	k.driver = "../../../bus/pci/drivers/e1000e";
	assert_int_equal(device_check("vfio-pci,host=" BDF), -EBUSY);
	k.driver = "../../../bus/pci/drivers/vfio-pci";
	k.group_link = NULL;
	assert_int_equal(device_check("vfio-pci,host=" BDF), -ENODEV);
	assert_int_equal(k.group_opens + k.dev_opens, 0);
	assert_int_equal(k.container, -1);
}

static void t_refused(void **state)
{
	assert_int_equal(device_create(&pf, "vfio-pci"), -EINVAL);
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",sysfsdev=/x/" BDF), -EINVAL);
	assert_int_equal(device_create(&pf, "vfio-pci,host=../" BDF), -EINVAL);
	assert_int_equal(device_create(&pf, "vfio-pci,host=0000:00:04.0"), -ENODEV);
	k.driver = "../../../bus/pci/drivers/e1000e";
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF), -EBUSY);
	k.driver = NULL;
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF), -EBUSY);
	k.driver = "../../../bus/pci/drivers/vfio-pci";
	k.group_link = NULL;				/* no IOMMU */
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF), -ENODEV);
	k.group_link = "../../../kernel/iommu_groups/8";	/* no /dev/vfio/8 */
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF), -ENOENT);
	k.group_link = "../../../kernel/iommu_groups/7";
	k.not_viable = true;
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF), -EBUSY);
	assert_int_equal(k.dev_opens, 0);
	assert_null(pf.devices);
}

/* A hostile device: a BAR that is not a power of two, a bridge header. */
static void t_hostile_device(void **state)
{
	k.bar0_size = 3 << 20;
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF), -EINVAL);
	k.bar0_size = 1 << 20;
	put(PCI_HEADER_TYPE, PCI_HEADER_TYPE_BRIDGE, 1);
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF), -EINVAL);
	put(PCI_HEADER_TYPE, 0, 1);
	put(PCI_VENDOR_ID, 0xffff, 2);
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF), -EINVAL);
	/* each failure released the device and the group again */
	assert_int_equal(k.resets, 3 * 2);
	assert_null(pf.devices);
	put(PCI_VENDOR_ID, 0x1234, 2);
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF), 0);
}

/*
 * A hostile guest: garbage into every config register and all over the
 * 32-bit window. ember keeps the device decoding its BAR and INTx wired,
 * and the function answers again once the guest places its BAR sanely.
 */
static void t_hostile_guest(void **state)
{
	unsigned seed = 1;

	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	for (int i = 0; i < 20000; i++) {
		seed = seed * 1103515245 + 12345;
		unsigned reg = (seed >> 8) & 0xff, len = 1u << ((seed >> 20) % 3);
		uint32_t v = seed * 2654435761u;

		ecam_write(5, 0, reg & ~(len - 1), v, len);
		if (i % 7 == 0)
			mmio_write(MMIO32 + (v % MMIO32_SIZE & ~3ull), v, 4);
	}
	assert_int_equal(k.last_cmd & PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY);
	assert_int_equal(k.intx_trigger, k.irqfd_fd);
	assert_int_equal(ecam_read(5, 0, PCI_VENDOR_ID, 4), 0x11e81234);
	ecam_write(5, 0, PCI_BASE_ADDRESS_0, (uint32_t)(MMIO32 + 0x300000), 4);
	ecam_write(5, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(mmio_read(MMIO32 + 0x300000, 4), 0x010000ed);
}

/* The fake device with MSI-X too (4 vectors, table at 0x8000 of BAR 0, PBA at 0x9000). */
static int setup_msix(void **state)
{
	int ret = setup(state);

	put(0x41, 0x50, 1);
	put(0x50, PCI_CAP_ID_MSIX, 1);
	put(0x52, 3, 2);
	put(0x54, 0x8000, 4);
	put(0x58, 0x9000, 4);
	pf.msi_route_alloc = fake_route_alloc;
	pf.msi_route_set = fake_route_set;
	pf.msi_route_free = fake_route_free;
	return ret;
}

static unsigned find_cap(unsigned id)
{
	for (unsigned off = ecam_read(5, 0, PCI_CAPABILITY_LIST, 1); off;
	     off = ecam_read(5, 0, off + 1, 1))
		if (ecam_read(5, 0, off, 1) == id)
			return off;
	return 0;
}

/*
 * An NVMe-like function: PM at 0x40, MSI-X at 0x50, then PCI Express at
 * 0x60, PCI-X at 0x80 and a vendor-specific one at 0x90. The guest sees PM,
 * MSI-X and the vendor one at the device's offsets, linked past the two
 * hidden ones; PM's body is the device's, read and written through.
 */
static void t_caps_hidden(void **state)
{
	static const unsigned want[][2] = {
		{ 0x40, PCI_CAP_ID_PM }, { 0x50, PCI_CAP_ID_MSIX }, { 0x90, PCI_CAP_ID_VNDR },
	};
	unsigned off, i = 0;

	put(PCI_CAPABILITY_LIST, 0x40, 1);
	put(0x40, PCI_CAP_ID_PM | 0x50 << 8 | 0x0003 << 16, 4);	/* PMC: version 3 */
	put(0x44, 0x0008, 2);			/* PMCSR: D0, no soft reset */
	put(0x51, 0x60, 1);
	put(0x60, PCI_CAP_ID_EXP | 0x80 << 8 | 0x0002 << 16, 4);
	put(0x80, PCI_CAP_ID_PCIX | 0x90 << 8, 2);
	put(0x90, PCI_CAP_ID_VNDR | 0 << 8 | 8 << 16, 4);
	put(0x94, 0xcafe, 2);
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	assert_true(ecam_read(5, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (off = ecam_read(5, 0, PCI_CAPABILITY_LIST, 1); off; off = ecam_read(5, 0, off + 1, 1)) {
		assert_true(i < 3);
		assert_int_equal(off, want[i][0]);
		assert_int_equal(ecam_read(5, 0, off, 1), want[i][1]);
		i++;
	}
	assert_int_equal(i, 3);
	assert_int_equal(find_cap(PCI_CAP_ID_EXP), 0);
	assert_int_equal(find_cap(PCI_CAP_ID_PCIX), 0);
	/* the PM and vendor bodies are the device's */
	assert_int_equal(ecam_read(5, 0, 0x42, 2), 3);
	assert_int_equal(ecam_read(5, 0, 0x94, 2), 0xcafe);
	k.cfg[0x44] = 0x0b;			/* the device changed it */
	assert_int_equal(ecam_read(5, 0, 0x44, 2), 0x000b);
	/* a write to PMCSR reaches the device; one to the links does not */
	ecam_write(5, 0, 0x44, 0x0003, 2);
	assert_int_equal(k.cfg[0x44], 0x03);
	ecam_write(5, 0, 0x40, 0xffff, 2);
	assert_int_equal(k.cfg[0x41], 0x50);
	assert_int_equal(ecam_read(5, 0, 0x41, 1), 0x50);
	assert_int_equal(ecam_read(5, 0, 0x50 + PCI_MSIX_FLAGS, 2), 3);	/* ember's */
	assert_int_equal(ecam_read(5, 0, 0x51, 1), 0x90);
	/* the hidden PCI Express capability's bytes read ember's zeros */
	assert_int_equal(ecam_read(5, 0, 0x60, 4), 0);
}

static void t_msix(void **state)
{
	uint64_t bar = MMIO32 + 0x100000, e0 = bar + 0x8000, e1 = e0 + 16;
	unsigned cap;

	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	cap = find_cap(PCI_CAP_ID_MSIX);
	assert_true(cap >= 0x40);
	assert_int_equal(find_cap(PCI_CAP_ID_MSI), 0);		/* VFIO offers no MSI here */
	assert_int_equal(ecam_read(5, 0, cap + PCI_MSIX_FLAGS, 2), 3);
	assert_int_equal(ecam_read(5, 0, cap + PCI_MSIX_TABLE, 4), 0x8000);
	assert_int_equal(ecam_read(5, 0, cap + PCI_MSIX_PBA, 4), 0x9000);
	ecam_write(5, 0, PCI_BASE_ADDRESS_0, (uint32_t)bar, 4);
	ecam_write(5, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);

	/* every vector starts masked; the table is ember's, never the device's */
	assert_int_equal(mmio_read(e0 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 1);
	mmio_write(e0 + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee01000, 4);
	mmio_write(e0 + PCI_MSIX_ENTRY_UPPER_ADDR, 0, 4);
	mmio_write(e0 + PCI_MSIX_ENTRY_DATA, 0x4041, 4);
	mmio_write(e0 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	assert_int_equal(mmio_read(e0 + PCI_MSIX_ENTRY_DATA, 4), 0x4041);
	assert_int_equal(k.table_pwrites, 0);
	assert_int_equal(k.msix_sets, 0);			/* not enabled yet */
	assert_int_equal(k.routes, 0);

	/* enable: INTx off in VFIO, all 4 eventfds given, vector 0 routed and bound */
	ecam_write(5, 0, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_int_equal(k.intx_trigger, -1);
	assert_int_equal(k.msix_count, 4);
	assert_int_equal(k.routes, 1);
	assert_int_equal(k.route_addr[0], 0xfee01000);
	assert_int_equal(k.route_data[0], 0x4041);
	assert_int_equal(k.route_fd[0], k.msix_fds[0]);

	/* vector 1 unmasked later gets its own route */
	mmio_write(e1 + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee02000, 4);
	mmio_write(e1 + PCI_MSIX_ENTRY_DATA, 0x4042, 4);
	mmio_write(e1 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	assert_int_equal(k.routes, 2);
	assert_int_equal(k.route_fd[1], k.msix_fds[1]);
	assert_int_equal(k.route_data[1], 0x4042);

	/* masking a vector unbinds it (a fire waits in its eventfd); unmasking binds again */
	mmio_write(e0 + PCI_MSIX_ENTRY_VECTOR_CTRL, 1, 4);
	assert_int_equal(k.route_fd[0], -1);
	mmio_write(e0 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	assert_int_equal(k.route_fd[0], k.msix_fds[0]);
	/* the function mask: all of them */
	ecam_write(5, 0, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	assert_int_equal(k.route_fd[0], -1);
	assert_int_equal(k.route_fd[1], -1);
	ecam_write(5, 0, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_int_equal(k.route_fd[0], k.msix_fds[0]);

	/* a hostile guest: the table's edges and the PBA; nothing reaches the device */
	mmio_write(e0 + 4 * 16 - 4, 0xffffffff, 4);
	mmio_write(bar + 0x9000, 0xffffffff, 4);
	assert_int_equal(mmio_read(bar + 0x9000, 4), 0);
	assert_int_equal(k.table_pwrites, 0);

	/* disable: MSI-X gone in VFIO, INTx back */
	ecam_write(5, 0, cap + PCI_MSIX_FLAGS, 0, 2);
	assert_int_equal(k.msix_count, 0);
	assert_int_equal(k.intx_trigger, k.irqfd_fd);
	assert_int_equal(k.route_fd[0], -1);
	assert_int_equal(k.route_fd[1], -1);
	device_destroy_all(&pf);
	assert_int_equal(k.routes_freed, 2);
}

/* Machine reset: MSI-X off in VFIO with every vector masked, the function reset, no bus mastering. */
static void t_reset(void **state)
{
	uint64_t bar = MMIO32 + 0x100000, e0 = bar + 0x8000;
	unsigned cap;

	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	cap = find_cap(PCI_CAP_ID_MSIX);
	ecam_write(5, 0, PCI_BASE_ADDRESS_0, (uint32_t)bar, 4);
	ecam_write(5, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	mmio_write(e0 + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee01000, 4);
	mmio_write(e0 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	ecam_write(5, 0, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_int_equal(k.route_fd[0], k.msix_fds[0]);
	assert_int_equal(k.resets, 1);

	device_reset_all(&pf);
	pci_host_reset(pf.pci);
	assert_int_equal(k.resets, 2);
	assert_int_equal(k.msix_count, 0);
	assert_int_equal(k.route_fd[0], -1);
	assert_int_equal(k.intx_trigger, k.irqfd_fd);
	assert_int_equal(k.last_cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY);
	assert_int_equal(ecam_read(5, 0, cap + PCI_MSIX_FLAGS, 2), 3);	/* disabled, 4 vectors */

	/* the next boot: the BAR where ember placed it, vector 0 masked until the guest unmasks it */
	bar = ecam_read(5, 0, PCI_BASE_ADDRESS_0, 4) & PCI_BASE_ADDRESS_MEM_MASK;
	e0 = bar + 0x8000;
	ecam_write(5, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(mmio_read(bar, 4), 0x010000ed);
	assert_int_equal(mmio_read(e0 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 1);
	ecam_write(5, 0, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_int_equal(k.msix_count, 4);
	assert_int_equal(k.route_fd[0], -1);
	mmio_write(e0 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	assert_int_equal(k.route_fd[0], k.msix_fds[0]);
}

/* A device whose MSI-X table lies outside its BAR: no MSI-X, INTx only. */
static void t_msix_hostile(void **state)
{
	put(0x54, 0x100000 - 0x20, 4);		/* 4 entries need 0x40 bytes */
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	assert_int_equal(find_cap(PCI_CAP_ID_MSIX), 0);
	assert_int_equal(ecam_read(5, 0, PCI_INTERRUPT_PIN, 1), 1);
}

/*
 * The fake device with a 64-bit, maskable MSI capability offering 4
 * vectors (VFIO offers @offered), and KVM routes.
 */
static int setup_msi_n(void **state, unsigned offered)
{
	int ret = setup(state);

	put(0x42, 2 << 1 | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT, 2);
	k.msi_offered = offered;
	pf.msi_route_alloc = fake_route_alloc;
	pf.msi_route_set = fake_route_set;
	pf.msi_route_free = fake_route_free;
	return ret;
}

static int setup_msi(void **state)
{
	return setup_msi_n(state, 4);
}

/* The route vector @i of MSI is bound to, or -1. */
static int msi_bound(unsigned i)
{
	for (unsigned r = 0; r < k.routes; r++)
		if (k.route_fd[r] >= 0 && k.route_fd[r] == k.msi_fds[i])
			return (int)r;
	return -1;
}

static void t_msi(void **state)
{
	unsigned cap;
	int r;

	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	cap = find_cap(PCI_CAP_ID_MSI);
	assert_true(cap >= 0x40);
	assert_int_equal(find_cap(PCI_CAP_ID_MSIX), 0);
	/* 4 vectors, 64-bit, maskable, disabled */
	assert_int_equal(ecam_read(5, 0, cap + PCI_MSI_FLAGS, 2),
			 2 << 1 | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	/* the read-only parts stay: vector count offered, width, masking */
	ecam_write(5, 0, cap + PCI_MSI_FLAGS, 0xfffe, 2);
	assert_int_equal(ecam_read(5, 0, cap + PCI_MSI_FLAGS, 2),
			 2 << 1 | PCI_MSI_FLAGS_QSIZE | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	ecam_write(5, 0, cap + PCI_MSI_FLAGS, 0, 2);
	assert_int_equal(k.msi_sets, 0);

	/* one vector, as Linux enables it: address, data, then enable */
	ecam_write(5, 0, cap + PCI_MSI_ADDRESS_LO, 0xfee01003, 4);	/* low bits reserved */
	ecam_write(5, 0, cap + PCI_MSI_ADDRESS_HI, 0, 4);
	ecam_write(5, 0, cap + PCI_MSI_DATA_64, 0x4041, 2);
	assert_int_equal(ecam_read(5, 0, cap + PCI_MSI_ADDRESS_LO, 4), 0xfee01000);
	assert_int_equal(k.routes, 0);
	ecam_write(5, 0, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	assert_int_equal(k.msi_count, 1);
	assert_int_equal(k.intx_trigger, -1);				/* INTx off */
	r = msi_bound(0);
	assert_true(r >= 0);
	assert_int_equal(k.route_addr[r], 0xfee01000);
	assert_int_equal(k.route_data[r], 0x4041);
	/* a new data value moves the route */
	ecam_write(5, 0, cap + PCI_MSI_DATA_64, 0x4051, 2);
	assert_int_equal(k.route_data[msi_bound(0)], 0x4051);
	/* the mask bit unbinds (a fire waits in the eventfd), unmasking binds again */
	ecam_write(5, 0, cap + PCI_MSI_MASK_64, 1, 4);
	assert_int_equal(msi_bound(0), -1);
	ecam_write(5, 0, cap + PCI_MSI_MASK_64, 0xfffffff0, 4);		/* bits past 4 vectors */
	assert_int_equal(ecam_read(5, 0, cap + PCI_MSI_MASK_64, 4), 0);
	assert_true(msi_bound(0) >= 0);
	assert_int_equal(ecam_read(5, 0, cap + PCI_MSI_PENDING_64, 4), 0);

	/* four vectors: VFIO gets them after MSI off; the data's low bits number them */
	ecam_write(5, 0, cap + PCI_MSI_DATA_64, 0x4040, 2);
	ecam_write(5, 0, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 2 << 4, 2);
	assert_int_equal(k.msi_count, 4);
	for (unsigned i = 0; i < 4; i++) {
		r = msi_bound(i);
		assert_true(r >= 0);
		assert_int_equal(k.route_addr[r], 0xfee01000);
		assert_int_equal(k.route_data[r], 0x4040 + i);
	}
	/* more than the device offers: what it offers */
	ecam_write(5, 0, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 5 << 4, 2);
	assert_int_equal(k.msi_count, 4);
	ecam_write(5, 0, cap + PCI_MSI_MASK_64, 0x4, 4);
	assert_int_equal(msi_bound(2), -1);
	assert_true(msi_bound(3) >= 0);

	/* disable: MSI off in VFIO, INTx back, nothing bound */
	ecam_write(5, 0, cap + PCI_MSI_FLAGS, 0, 2);
	assert_int_equal(k.msi_count, 0);
	assert_int_equal(k.intx_trigger, k.irqfd_fd);
	for (unsigned r2 = 0; r2 < k.routes; r2++)
		assert_int_equal(k.route_fd[r2], -1);

	/* a machine reset with MSI on: off, and the capability disabled */
	ecam_write(5, 0, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	assert_int_equal(k.msi_count, 1);
	device_reset_all(&pf);
	pci_host_reset(pf.pci);
	assert_int_equal(k.msi_count, 0);
	assert_int_equal(k.intx_trigger, k.irqfd_fd);
	assert_int_equal(msi_bound(0), -1);
	assert_int_equal(ecam_read(5, 0, cap + PCI_MSI_FLAGS, 2),
			 2 << 1 | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	ecam_write(5, 0, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	device_destroy_all(&pf);
	assert_int_equal(k.msi_count, 0);
	assert_int_equal(k.routes_freed, k.routes);
}

/* VFIO offers fewer vectors than the capability: ember's offers what VFIO does. */
static void t_msi_fewer(void **state)
{
	unsigned cap;

	put(0x42, 3 << 1, 2);				/* 8 vectors, 32-bit, no masking */
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	cap = find_cap(PCI_CAP_ID_MSI);
	assert_int_equal(ecam_read(5, 0, cap + PCI_MSI_FLAGS, 2), 1 << 1);
	ecam_write(5, 0, cap + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
	ecam_write(5, 0, cap + PCI_MSI_DATA_32, 0x30, 2);
	ecam_write(5, 0, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 3 << 4, 2);
	assert_int_equal(k.msi_count, 2);
	assert_int_equal(k.route_data[msi_bound(1)], 0x31);
	/* no mask register: the guest's writes there land nowhere */
	ecam_write(5, 0, cap + PCI_MSI_MASK_32, 3, 4);
	assert_true(msi_bound(0) >= 0);
}

static int setup_msi2(void **state)
{
	return setup_msi_n(state, 2);
}

/* A hostile device: a reserved vector count, a capability running off config space. */
static void t_msi_hostile(void **state)
{
	put(0x42, 7 << 1, 2);
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	assert_int_equal(find_cap(PCI_CAP_ID_MSI), 0);
	device_destroy_all(&pf);
	put(0x42, 0, 2);
	put(PCI_CAPABILITY_LIST, 0xf8, 1);
	put(0xf8, PCI_CAP_ID_MSI, 1);
	put(0xfa, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT, 2);
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	assert_int_equal(find_cap(PCI_CAP_ID_MSI), 0);
	assert_int_equal(ecam_read(5, 0, PCI_INTERRUPT_PIN, 1), 1);
}

/* A function with a 64 KiB ROM: a read-only ROM BAR the guest sizes, places and enables. */
static void t_rom(void **state)
{
	uint64_t rom = MMIO32 + 0x400000;

	k.rom_size = 64 << 10;
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	assert_int_equal(ecam_read(5, 0, PCI_ROM_ADDRESS, 4), 0);	/* unassigned */
	ecam_write(5, 0, PCI_ROM_ADDRESS, ~(uint32_t)PCI_ROM_ADDRESS_ENABLE, 4);
	assert_int_equal(ecam_read(5, 0, PCI_ROM_ADDRESS, 4), 0xffff0000);
	ecam_write(5, 0, PCI_ROM_ADDRESS, (uint32_t)rom | PCI_ROM_ADDRESS_ENABLE, 4);
	assert_int_equal(ecam_read(5, 0, PCI_ROM_ADDRESS, 4), (uint32_t)rom | 1);
	/* memory decode off: nothing there */
	assert_int_equal(mmio_read(rom, 4), 0xffffffff);
	ecam_write(5, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(mmio_read(rom, 2), 0xaa55);
	assert_int_equal(mmio_read(rom + 0x1234, 4), 0x37363534);
	assert_int_equal(mmio_read(rom + 0xfffc, 4), 0xfffefdfc);
	mmio_write(rom, 0, 4);				/* a ROM: the write goes nowhere */
	assert_int_equal(mmio_read(rom, 2), 0xaa55);
	/* the enable bit off: gone; moved while enabled: there and not here */
	ecam_write(5, 0, PCI_ROM_ADDRESS, (uint32_t)rom, 4);
	assert_int_equal(mmio_read(rom, 4), 0xffffffff);
	ecam_write(5, 0, PCI_ROM_ADDRESS, (uint32_t)(rom + 0x10000) | 1, 4);
	assert_int_equal(mmio_read(rom, 4), 0xffffffff);
	assert_int_equal(mmio_read(rom + 0x10000, 2), 0xaa55);
	/* a machine reset: unassigned and off */
	device_reset_all(&pf);
	pci_host_reset(pf.pci);
	assert_int_equal(ecam_read(5, 0, PCI_ROM_ADDRESS, 4), 0);
	ecam_write(5, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(mmio_read(rom + 0x10000, 4), 0xffffffff);
}

/* rombar=0 hides the ROM; a ROM region that cannot be a ROM BAR is hidden too. */
static void t_rom_hidden(void **state)
{
	k.rom_size = 64 << 10;
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5,rombar=0"), 0);
	ecam_write(5, 0, PCI_ROM_ADDRESS, 0xffffffff, 4);
	assert_int_equal(ecam_read(5, 0, PCI_ROM_ADDRESS, 4), 0);
	device_destroy_all(&pf);
	k.rom_size = 3 << 10;
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	ecam_write(5, 0, PCI_ROM_ADDRESS, 0xffffffff, 4);
	assert_int_equal(ecam_read(5, 0, PCI_ROM_ADDRESS, 4), 0);
	device_destroy_all(&pf);
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5,rombar=2"), -EINVAL);
}

/* BAR 0 is mapped into the guest where it decodes, unless x-no-mmap=on: then trapped. */
static void t_no_mmap(void **state)
{
	uint64_t bar = MMIO32 + 0x200000;

	k.bar_mmap = true;
	pf.mem_map = fake_mem_map;
	pf.mem_unmap = fake_mem_unmap;
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5"), 0);
	ecam_write(5, 0, PCI_BASE_ADDRESS_0, (uint32_t)bar, 4);
	ecam_write(5, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(k.mem_maps, 1);
	assert_int_equal(k.mem_map_gpa, bar);
	device_destroy_all(&pf);
	k.mem_maps = 0;
	assert_int_equal(device_create(&pf, "vfio-pci,host=" BDF ",addr=5,x-no-mmap=on"), 0);
	ecam_write(5, 0, PCI_BASE_ADDRESS_0, (uint32_t)bar, 4);
	ecam_write(5, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(k.mem_maps, 0);
	assert_int_equal(mmio_read(bar, 4), 0x010000ed);	/* trapped, forwarded */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_edu, setup, teardown),
		cmocka_unit_test_setup_teardown(t_kvm_vfio, setup, teardown),
		cmocka_unit_test_setup_teardown(t_sysfsdev_and_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(t_check, setup, teardown),
		cmocka_unit_test_setup_teardown(t_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hostile_device, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hostile_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(t_msix, setup_msix, teardown),
		cmocka_unit_test_setup_teardown(t_caps_hidden, setup_msix, teardown),
		cmocka_unit_test_setup_teardown(t_msix_hostile, setup_msix, teardown),
		cmocka_unit_test_setup_teardown(t_reset, setup_msix, teardown),
		cmocka_unit_test_setup_teardown(t_msi, setup_msi, teardown),
		cmocka_unit_test_setup_teardown(t_msi_fewer, setup_msi2, teardown),
		cmocka_unit_test_setup_teardown(t_msi_hostile, setup_msi, teardown),
		cmocka_unit_test_setup_teardown(t_rom, setup, teardown),
		cmocka_unit_test_setup_teardown(t_rom_hidden, setup, teardown),
		cmocka_unit_test_setup_teardown(t_no_mmap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
