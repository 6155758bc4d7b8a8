/* Machine assembly: RAM, vCPUs, platform devices, ACPI, kernel; and its stop. */
#ifndef EMBER_MACHINE_H
#define EMBER_MACHINE_H

#include <stdint.h>
#include <stdio.h>

#include "arch/arch.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "kvm/kvm.h"
#include "kvm/vcpu.h"

struct mem_backend;
struct chardev;

#define MIN_RAM		(16ULL << 20)

/* Exit statuses of the ember process. */
enum {
	EXIT_OK = 0,		/* poweroff, reboot, SIGTERM/SIGINT */
	EXIT_USAGE = 1,		/* bad command line or set-up failure */
	EXIT_GUEST_CRASH = 2,	/* triple fault, emulation failure, failed entry */
	EXIT_GUEST_PANIC = 3,	/* the guest kernel reported a panic (pvpanic) */
};

struct serial_cfg {
	enum { SERIAL_CHARDEV, SERIAL_NONE } kind;
	struct chardev *chr;
};

struct machine_config {
	const struct machine_type *type;
	uint64_t ram_size;
	struct mem_backend *ram;	/* -machine memory-backend=ID, or NULL */
	unsigned ncpus;
	const char *kernel, *initrd, *append;
	const char *cpu_template;
	struct serial_cfg serial[MAX_SERIALS];
	unsigned nr_serial;
	const char *name, *uuid;	/* -name, -uuid, or NULL (for QMP) */
};

struct machine {
	struct machine_config cfg;
	struct platform pf;
	struct kvm_vm vm;
	struct gmem mem;
	struct mem_backend *ram;
	struct vcpu *vcpus;
	unsigned nr_vcpus;

	/* first stop request wins */
	int stopping;
	int exit_status;
	char stop_msg[160];
	int sigfd;
};

const struct machine_type *machine_type_find(const char *name);
void machine_types_help(FILE *f);

/* Creates the VM up to the point where -device options are applied. */
int machine_init(struct machine *m, struct loop *loop, const struct machine_config *cfg);
/* After devices: ACPI tables, kernel, vCPU state. */
int machine_finish(struct machine *m);
/* Runs vCPUs and the loop until the guest or a signal stops it; exit status. */
int machine_run(struct machine *m);
void machine_destroy(struct machine *m);

#endif
