/*
 * The VM's KVM ioctls (kvm.h): /dev/kvm and the capabilities ember needs,
 * memory slots, interrupt lines, ioeventfds, irqfds, the GSI routing
 * table that carries MSI routes, and the VFIO pseudo-device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kvm/kvm.h"
#include "lib/log.h"
#include "lib/util.h"

int kvm_vm_open(struct kvm_vm *vm)
{
	const char *dev = getenv("EMBER_KVM_DEV");
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	pthread_mutex_init(&vm->route_lock, NULL);
	pthread_mutex_init(&vm->slot_lock, NULL);
	if (!dev)
		dev = "/dev/kvm";
	vm->dev = dev;
	vm->sys_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0) {
		ret = -errno;
		err_msg("cannot open %s: %s%s", dev, strerror(errno),
			errno == ENOENT ? " (is the kvm module loaded?)" :
			errno == EACCES ? " (add yourself to the kvm group)" : "");
		return ret;
	}
	ret = ioctl(vm->sys_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		err_msg("%s: KVM API version %d, need %d", dev, ret, KVM_API_VERSION);
		ret = -ENOTSUP;
		goto fail;
	}
	static const struct { long cap; const char *name; } need[] = {
		{ KVM_CAP_IRQCHIP, "IRQCHIP" },
		{ KVM_CAP_IOEVENTFD, "IOEVENTFD" },
		{ KVM_CAP_IRQFD, "IRQFD" },
		{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
		{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		if (ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0) {
			err_msg("%s lacks KVM_CAP_%s", dev, need[i].name);
			ret = -ENOTSUP;
			goto fail;
		}
	}
	vm->run_size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0) {
		ret = -errno;
		err_msg("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto fail;
	}
	vm->vm_fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		err_msg("KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	kvm_vm_close(vm);
	return ret;
}

void kvm_vm_close(struct kvm_vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->sys_fd >= 0)
		close(vm->sys_fd);
	free(vm->msi);
	vm->msi = NULL;
	free(vm->chip_routes);
	vm->chip_routes = NULL;
	free(vm->arch);
	vm->arch = NULL;
	if (vm->has_vfio)
		close(vm->vfio_fd);
	vm->has_vfio = 0;
	vm->vm_fd = vm->sys_fd = -1;
}

int kvm_check_cap(struct kvm_vm *vm, long cap)
{
	int r = ioctl(vm->vm_fd >= 0 ? vm->vm_fd : vm->sys_fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

int kvm_vfio_group(struct kvm_vm *vm, int group_fd, int add)
{
	struct kvm_device_attr a = {
		.group = KVM_DEV_VFIO_GROUP,
		.attr = add ? KVM_DEV_VFIO_GROUP_ADD : KVM_DEV_VFIO_GROUP_DEL,
		.addr = (uintptr_t)&group_fd,
	};

	if (!vm->has_vfio) {
		struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };

		if (!add)
			return 0;
		if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd))
			return -errno;
		vm->vfio_fd = (int)cd.fd;
		vm->has_vfio = 1;
	}
	return ioctl(vm->vfio_fd, KVM_SET_DEVICE_ATTR, &a) ? -errno : 0;
}

static int set_slot(struct kvm_vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int e = errno;

		err_msg("KVM_SET_USER_MEMORY_REGION (slot %u, 0x%llx+0x%llx): %s",
			r.slot, (unsigned long long)gpa, (unsigned long long)size,
			strerror(e));
		return -e;
	}
	return 0;
}

int kvm_vm_map(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *hva)
{
	int slot = -ENOSPC, ret;

	pthread_mutex_lock(&vm->slot_lock);
	for (unsigned i = 0; i < KVM_VM_MAX_SLOTS; i++) {
		if (!(vm->slots_used[i / 64] & (1ULL << (i % 64)))) {
			slot = (int)i;
			break;
		}
	}
	if (slot < 0) {
		err_msg("no free KVM memory slot for 0x%llx+0x%llx (ember uses at most %u)",
			(unsigned long long)gpa, (unsigned long long)size, KVM_VM_MAX_SLOTS);
	} else if ((ret = set_slot(vm, (unsigned)slot, gpa, size, hva))) {
		slot = ret;
	} else {
		vm->slots_used[slot / 64] |= 1ULL << (slot % 64);
	}
	pthread_mutex_unlock(&vm->slot_lock);
	return slot;
}

void kvm_vm_unmap(struct kvm_vm *vm, int slot)
{
	if (slot < 0 || slot >= KVM_VM_MAX_SLOTS)
		return;
	pthread_mutex_lock(&vm->slot_lock);
	/* size 0 deletes the slot; it cannot fail for a slot that exists */
	if (vm->slots_used[slot / 64] & (1ULL << (slot % 64)) &&
	    !set_slot(vm, (unsigned)slot, 0, 0, NULL))
		vm->slots_used[slot / 64] &= ~(1ULL << (slot % 64));
	pthread_mutex_unlock(&vm->slot_lock);
}

int kvm_vm_add_memory(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *hva)
{
	int slot = kvm_vm_map(vm, gpa, size, hva);

	return slot < 0 ? slot : 0;
}

int kvm_irq_line(struct kvm_vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	return 0;
}

int kvm_ioeventfd(struct kvm_vm *vm, uint64_t addr, unsigned len, int fd,
		  int pio, int use_datamatch, uint64_t datamatch, int deassign)
{
	struct kvm_ioeventfd e = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.datamatch = datamatch,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (use_datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (deassign ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &e) < 0) {
		int err = errno;

		err_msg("KVM_IOEVENTFD %s at %#llx: %s", deassign ? "removal" : "registration",
			(unsigned long long)addr, strerror(err));
		return -err;
	}
	return 0;
}

int kvm_irqfd(struct kvm_vm *vm, unsigned gsi, int fd, int resample_fd, int deassign)
{
	struct kvm_irqfd f = {
		.fd = fd,
		.gsi = gsi,
		.flags = deassign ? KVM_IRQFD_FLAG_DEASSIGN :
			 resample_fd >= 0 ? KVM_IRQFD_FLAG_RESAMPLE : 0,
		.resamplefd = resample_fd >= 0 ? resample_fd : 0,
	};

	if (ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0) {
		int err = errno;

		err_msg("KVM_IRQFD for GSI %u: %s", gsi, strerror(err));
		return -err;
	}
	return 0;
}

int kvm_set_chip_routes(struct kvm_vm *vm, const struct kvm_irq_routing_entry *r,
			unsigned n, unsigned msi_base)
{
	struct kvm_irq_routing_entry *copy;

	if (n >= KVM_MAX_GSI_ROUTES || msi_base >= KVM_MAX_GSI_ROUTES) {
		err_msg("%u interrupt controller routes, MSIs from GSI %u: at most %u routes",
			n, msi_base, KVM_MAX_GSI_ROUTES);
		return -EINVAL;
	}
	copy = calloc(MAX(n, 1u), sizeof(*r));
	if (!copy)
		return -ENOMEM;
	if (n)
		memcpy(copy, r, n * sizeof(*r));
	free(vm->chip_routes);
	vm->chip_routes = copy;
	vm->nr_chip_routes = n;
	vm->msi_base = msi_base;
	return 0;
}

/* Rebuilds the whole table: the controllers' pins, then every MSI route in use. */
static int set_routing(struct kvm_vm *vm)
{
	/* Under route_lock; kept for the life of the process. */
	static struct kvm_irq_routing *r;
	unsigned n = vm->nr_chip_routes;

	if (!r) {
		r = calloc(1, sizeof(*r) + KVM_MAX_GSI_ROUTES * sizeof(r->entries[0]));
		if (!r)
			return -ENOMEM;
	}
	if (n)
		memcpy(r->entries, vm->chip_routes, n * sizeof(r->entries[0]));
	for (unsigned gsi = vm->msi_base; vm->msi && gsi < KVM_MAX_GSI_ROUTES; gsi++) {
		if (!vm->msi[gsi].used || n >= KVM_MAX_GSI_ROUTES)
			continue;
		r->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi,
			.type = KVM_IRQ_ROUTING_MSI,
			.u.msi = {
				.address_lo = (uint32_t)vm->msi[gsi].addr,
				.address_hi = (uint32_t)(vm->msi[gsi].addr >> 32),
				.data = vm->msi[gsi].data,
			},
		};
	}
	r->nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0) {
		int err = errno;

		err_msg("KVM_SET_GSI_ROUTING: %s", strerror(err));
		return -err;
	}
	return 0;
}

int kvm_msi_route_alloc(struct kvm_vm *vm)
{
	int gsi = -ENOSPC;

	pthread_mutex_lock(&vm->route_lock);
	if (!vm->msi)
		vm->msi = calloc(KVM_MAX_GSI_ROUTES, sizeof(*vm->msi));
	for (unsigned g = vm->msi_base; vm->msi && g < KVM_MAX_GSI_ROUTES; g++) {
		if (!vm->msi[g].used) {
			vm->msi[g].used = 1;
			vm->msi[g].addr = 0;
			vm->msi[g].data = 0;
			gsi = (int)g;
			break;
		}
	}
	pthread_mutex_unlock(&vm->route_lock);
	if (gsi < 0)
		err_msg("out of interrupt routes (%d)", KVM_MAX_GSI_ROUTES);
	return gsi;
}

int kvm_msi_route_set(struct kvm_vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
	int ret;

	if (gsi < vm->msi_base || gsi >= KVM_MAX_GSI_ROUTES || !vm->msi)
		return -EINVAL;
	pthread_mutex_lock(&vm->route_lock);
	vm->msi[gsi].addr = addr;
	vm->msi[gsi].data = data;
	ret = set_routing(vm);
	pthread_mutex_unlock(&vm->route_lock);
	return ret;
}

void kvm_msi_route_free(struct kvm_vm *vm, unsigned gsi)
{
	if (gsi < vm->msi_base || gsi >= KVM_MAX_GSI_ROUTES || !vm->msi)
		return;
	pthread_mutex_lock(&vm->route_lock);
	vm->msi[gsi].used = 0;
	set_routing(vm);
	pthread_mutex_unlock(&vm->route_lock);
}

int kvm_signal_msi(struct kvm_vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi m = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &m) < 0)
		return -errno;
	return 0;
}
