/*
 * vCPUs: one thread each, running KVM_RUN and dispatching MMIO exits to the
 * bus, and exits only the guest architecture has (port I/O on x86) to its
 * hook. A fatal exit (triple fault, emulation failure, failed entry) stops
 * the machine, which then dumps the registers (arch_vcpu_dump).
 */
#ifndef EMBER_VCPU_H
#define EMBER_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

struct kvm_vm;

enum vcpu_exit {
	VCPU_STOPPED,		/* asked to stop (vcpu_kick) */
	VCPU_SHUTDOWN,		/* triple fault */
	VCPU_RESET,		/* KVM_SYSTEM_EVENT reset */
	VCPU_POWEROFF,		/* KVM_SYSTEM_EVENT shutdown */
	VCPU_ERROR,		/* internal error, failed entry, unknown exit */
};

struct vcpu;
/* Called on the vCPU thread when it leaves its loop for any reason but STOPPED. */
typedef void (*vcpu_exit_fn)(void *opaque, struct vcpu *v, enum vcpu_exit why,
			     const char *msg);
/*
 * MMIO (and, through arch_exit, port I/O) exits: an access of @len bytes at
 * @addr of the address space @space (the machine gives its buses and
 * devices/bus.c's bus_access).
 */
typedef void (*vcpu_access_fn)(void *space, uint64_t addr, void *data, unsigned len,
			       bool is_write);

struct vcpu {
	unsigned index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
	volatile int stop;
	/*
	 * Pause (vcpu_pause): the thread parks before its next KVM_RUN until
	 * vcpu_resume. @parked says it is there; both under @park_lock.
	 */
	pthread_mutex_t park_lock;
	pthread_cond_t park_cond;
	bool pause, parked, done;	/* done: the thread left its loop */
	int tid;		/* the thread's id, once it runs (query-cpus-fast) */
	void *pio, *mmio;	/* address spaces, handed to access() */
	vcpu_access_fn access;
	/*
	 * Exit reasons the loop does not know, so that kvm/ holds no
	 * architecture: 0 when handled, -ENOENT when not the architecture's
	 * either (a fatal exit). NULL: none.
	 */
	int (*arch_exit)(struct vcpu *v);
	vcpu_exit_fn on_exit;
	void *opaque;
	/* Runs first on the vCPU's own thread (the machine loads its sandbox). */
	int (*thread_init)(struct vcpu *v);
	uint64_t exits;		/* statistics */
	/* The architecture's power-on state for a reset (malloc'd; freed by vcpu_destroy). */
	void *arch;
};

/* Log every port access (EMBER_DEBUG=io; the arch_exit hook logs them). */
extern int vcpu_trace_io;

int vcpu_create(struct kvm_vm *vm, struct vcpu *v, unsigned index);
void vcpu_destroy(struct vcpu *v);
/* Runs until stopped; returns why. Used directly by the tiny-guest tests. */
enum vcpu_exit vcpu_run_loop(struct vcpu *v);
int vcpu_start(struct vcpu *v);
/* Asks the vCPU to leave KVM_RUN; safe from any thread. */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
/*
 * Pause and resume, from any thread but the vCPU's own. vcpu_pause kicks
 * the vCPU out of KVM_RUN and returns; vcpu_wait_parked waits until it has
 * left (a device access in progress ends first), at most @ms milliseconds:
 * 0 or -ETIMEDOUT. A vCPU paused before vcpu_start never enters the guest
 * until resumed (-S).
 */
void vcpu_pause(struct vcpu *v);
/*
 * Without the kick: the vCPU parks at its next exit. For a vCPU thread,
 * whose sandbox allows no signals; the caller itself parks on its return.
 */
void vcpu_pause_soon(struct vcpu *v);
int vcpu_wait_parked(struct vcpu *v, unsigned ms);
void vcpu_resume(struct vcpu *v);

#endif
