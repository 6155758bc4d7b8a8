/* The VM: a thin layer over the KVM ioctls that ember uses. */
#ifndef EMBER_KVM_H
#define EMBER_KVM_H

#include <pthread.h>
#include <stdint.h>
#include <linux/kvm.h>

/* Slots ember uses at most; KVM offers 509 or more on every host ember runs on. */
#define KVM_VM_MAX_SLOTS	256

struct kvm_vm {
	const char *dev;	/* /dev/kvm or $EMBER_KVM_DEV, for messages */
	int sys_fd;
	int vm_fd;
	int run_size;		/* mmap size of struct kvm_run */
	/* Memory slots in use (RAM, and mmap'd BARs that come and go). */
	uint64_t slots_used[KVM_VM_MAX_SLOTS / 64];
	pthread_mutex_t slot_lock;
	/* The interrupt controllers' pins (kvm_set_chip_routes); MSI GSIs from msi_base. */
	struct kvm_irq_routing_entry *chip_routes;
	unsigned nr_chip_routes, msi_base;
	/* MSI routes: gsi -> (addr, data); entries [0, msi_base) unused. */
	struct kvm_msi_route {
		uint64_t addr;
		uint32_t data;
		int used;
	} *msi;
	pthread_mutex_t route_lock;
	/* KVM's VFIO pseudo-device (kvm_vfio_group), once a group was added. */
	int vfio_fd, has_vfio;
	/* The architecture's power-on state for a reset (malloc'd; freed by kvm_vm_close). */
	void *arch;
};

/* Opens /dev/kvm (or $EMBER_KVM_DEV) and creates a VM; messages on failure. */
int kvm_vm_open(struct kvm_vm *vm);
void kvm_vm_close(struct kvm_vm *vm);
int kvm_check_cap(struct kvm_vm *vm, long cap);
/* Adds a memory slot; @size and @hva must be page aligned. */
int kvm_vm_add_memory(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *hva);
/*
 * The same for memory that comes and goes while the guest runs (a BAR the
 * guest moves): returns the slot (>= 0) to give kvm_vm_unmap, or -errno.
 * Any thread; KVM lets running vCPUs see the change.
 */
int kvm_vm_map(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *hva);
void kvm_vm_unmap(struct kvm_vm *vm, int slot);
int kvm_irq_line(struct kvm_vm *vm, unsigned gsi, int level);

/*
 * Queue notifications: KVM signals @fd when the guest writes to @addr
 * (MMIO, or port I/O when @pio), optionally only for @datamatch, without
 * an exit to ember's vCPU thread.
 */
int kvm_ioeventfd(struct kvm_vm *vm, uint64_t addr, unsigned len, int fd,
		  int pio, int use_datamatch, uint64_t datamatch, int deassign);
/*
 * Interrupts: writing to @fd raises @gsi. With @resample_fd >= 0 the line is
 * level-triggered: KVM lowers it when the guest EOIs and signals
 * @resample_fd so the device can raise it again if still pending.
 */
int kvm_irqfd(struct kvm_vm *vm, unsigned gsi, int fd, int resample_fd, int deassign);

/*
 * GSI routing. The table is rebuilt and set as a whole (KVM_SET_GSI_ROUTING
 * replaces it), so it starts with the @n routes of the interrupt
 * controllers' pins that the architecture gives once (copied here), before
 * any MSI route; MSI vectors then get GSIs from @msi_base up. Callers
 * serialise.
 */
#define KVM_MAX_GSI_ROUTES	1024
int kvm_set_chip_routes(struct kvm_vm *vm, const struct kvm_irq_routing_entry *r,
			unsigned n, unsigned msi_base);
int kvm_msi_route_alloc(struct kvm_vm *vm);	/* returns a GSI or -ENOSPC */
int kvm_msi_route_set(struct kvm_vm *vm, unsigned gsi, uint64_t addr, uint32_t data);
void kvm_msi_route_free(struct kvm_vm *vm, unsigned gsi);
/*
 * Tells KVM about a VFIO group fd (@add) or that it is gone (!@add), through
 * the VM's VFIO pseudo-device (KVM_DEV_TYPE_VFIO), created on the first add,
 * as QEMU does: KVM then knows the VM has DMA-capable devices (coherent
 * DMA, and what the kernel's VFIO needs from KVM). -errno, no message.
 */
int kvm_vfio_group(struct kvm_vm *vm, int group_fd, int add);
/* Sends one MSI directly (KVM_SIGNAL_MSI). */
int kvm_signal_msi(struct kvm_vm *vm, uint64_t addr, uint32_t data);

#endif
