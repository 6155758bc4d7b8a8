/* The x86 VM and its vCPUs as the machine wants them; see arch/arch.h. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "arch/arch.h"
#include "kvm/kvm.h"
#include "lib/log.h"

/* In-kernel IOAPIC, PIC and LAPICs, and the PIT. */
int arch_vm_init(struct kvm_vm *vm)
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
