#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kvm/kvm.h"
#include "lib/log.h"
#include "lib/util.h"

/* x86 needs these pages out of guest RAM (used by VMX for real mode). */
#define KVM_TSS_ADDR		0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL

static int get_supported_cpuid(struct kvm_vm *vm)
{
	for (int nent = 128; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG) {
			err_msg("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			return -errno;
		}
	}
	return -E2BIG;
}

int kvm_vm_open(struct kvm_vm *vm)
{
	const char *dev = getenv("EMBER_KVM_DEV");
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	if (!dev)
		dev = "/dev/kvm";
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
		{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
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
	ret = get_supported_cpuid(vm);
	if (ret)
		goto fail;
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
	free(vm->cpuid);
	vm->cpuid = NULL;
	vm->vm_fd = vm->sys_fd = -1;
}

int kvm_check_cap(struct kvm_vm *vm, long cap)
{
	int r = ioctl(vm->vm_fd >= 0 ? vm->vm_fd : vm->sys_fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

int kvm_vm_add_memory(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = vm->nr_slots,
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
	vm->nr_slots++;
	return 0;
}

int kvm_vm_create_irqchip(struct kvm_vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
		err_msg("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return -errno;
	}
	/* Only VMX without unrestricted guest uses it; failure elsewhere is fine. */
	ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		err_msg("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		err_msg("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int kvm_irq_line(struct kvm_vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	return 0;
}
