/* Machine assembly: RAM, vCPUs, platform devices, ACPI, kernel; and its stop. */
#ifndef EMBER_MACHINE_H
#define EMBER_MACHINE_H

#include <stdbool.h>
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
	const char *name, *uuid;	/* -name, -uuid (NULL: none) */
	bool start_paused;		/* -S: vCPUs wait for QMP cont */
	bool no_shutdown;		/* -no-shutdown: a guest poweroff pauses instead */
	bool no_reboot;			/* -no-reboot: a reset ends the run (or pauses) */
	const char *incoming;		/* -incoming: "defer" or a URI; NULL: none */
	bool snapshots;			/* a QMP monitor or -incoming: migrate may come */
};

/* The run state, as QEMU's query-status names it (run_state_name). */
enum run_state {
	RUN_PRELAUNCH,		/* -S, before the first cont */
	RUN_RUNNING,
	RUN_PAUSED,		/* QMP stop */
	RUN_SHUTDOWN,		/* the guest powered off under -no-shutdown */
	RUN_GUEST_PANICKED,	/* the guest panicked under -no-shutdown */
};

struct machine {
	struct machine_config cfg;
	struct platform pf;
	struct kvm_vm vm;
	struct gmem mem;
	struct mem_backend *ram;
	struct vcpu *vcpus;
	unsigned nr_vcpus;
	/* What the kernel was loaded from (files kept open) and where it starts. */
	struct arch_boot_config boot_cfg;
	struct arch_boot boot;

	/* first stop request wins */
	int stopping;
	int exit_status;
	char stop_msg[160];
	const char *stop_cause;	/* QEMU's SHUTDOWN reason ("guest-shutdown", ...) */
	enum stop_reason stop_why;
	int sigfd;

	/* Loop thread only. */
	enum run_state state;
	/*
	 * A guest poweroff or panic under -no-shutdown happens on a vCPU
	 * thread; the loop acts on it (reqfd, an eventfd). 0 or why + 1.
	 */
	int reqfd;
	int pending;
	unsigned events;	/* 1 << PF_EVENT_*, for the loop to send */
	/* A guest reset to do in place (not -no-reboot): 1 once requested. */
	int reset_pending;
	/* -incoming defer: migrate-incoming is still to come. */
	bool incoming_wait;
};

const char *run_state_name(enum run_state s);
/*
 * QMP's controls, on the loop thread. machine_pause: running -> paused,
 * once every vCPU is out of the guest (-EIO if one would not leave);
 * other states stay. machine_resume: prelaunch/paused -> running;
 * -EBUSY in shutdown and guest-panicked (QEMU wants a reset first).
 */
int machine_pause(struct machine *m);
int machine_resume(struct machine *m);
/* The ACPI power button (system_powerdown); -ENODEV without one. */
int machine_powerdown(struct machine *m);
/*
 * Ends the run with QEMU's SHUTDOWN reason @cause (host-qmp-quit) and @msg
 * for the log; exit status 0.
 */
void machine_quit(struct machine *m, const char *cause, const char *msg);
/*
 * QMP system_reset, on the loop: the machine resets in place (RESET,
 * guest false, reason host-qmp-system-reset) and boots again; paused,
 * shutdown or guest-panicked machines come back in prelaunch (cont runs
 * them), as QEMU's do. Under -no-reboot it ends the run as a SHUTDOWN
 * with that reason instead, or with -no-shutdown pauses in shutdown.
 * 0, or -EIO when the reset failed (the run then ends with an error).
 */
int machine_system_reset(struct machine *m);

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
