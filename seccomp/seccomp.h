/*
 * The sandbox: one seccomp allowlist per thread class, built with
 * libseccomp once during set-up and loaded by each thread itself; the
 * capabilities dropped (bounding set included) and NO_NEW_PRIVS set.
 * See docs/sandbox.md for the design, the order of events and the lists.
 *
 * Order (vmm/machine.c, machine_run):
 *   sandbox_setup()            main thread, all set-up done, no vCPU thread yet:
 *                              compiles every class's filter, installs the SIGSYS
 *                              reporter, drops capabilities, sets NO_NEW_PRIVS
 *   vcpu_start() ...           each vCPU thread: sandbox_enter_vcpu() loads the
 *                              vCPU filter and waits at the gate
 *   sandbox_enter_main(n)      waits until the n vCPU threads loaded theirs, loads
 *                              the main filter, opens the gate: only then does any
 *                              vCPU enter KVM_RUN
 * With the sandbox off every call but sandbox_print() is a no-op returning 0.
 */
#ifndef EMBER_SECCOMP_H
#define EMBER_SECCOMP_H

#include <stdbool.h>
#include <stdio.h>

/* Thread classes. Adding one: an entry here and one in classes[] in seccomp.c. */
enum sandbox_class {
	SANDBOX_MAIN,		/* the main thread: event loop, device back ends, teardown */
	SANDBOX_VCPU,		/* vCPU threads: KVM_RUN and the devices' exit handlers */
	SANDBOX_NR_CLASSES
};

/* -sandbox on|off; the default is on (off in sanitizer builds, see sandbox.md). */
void sandbox_set_enabled(bool on);
bool sandbox_enabled(void);
/* True when ember was built with ASan/UBSan/TSan (they need more system calls). */
bool sandbox_sanitized_build(void);

/*
 * --print-seccomp: every class's allowed system calls, sorted, one per line
 * as "CLASS NAME" or "CLASS NAME(ARGUMENT FILTER)". Returns 0, or -errno when
 * a list names a system call libseccomp does not know.
 */
int sandbox_print(FILE *f);
/* The class's name ("main", "vcpu"), or NULL. */
const char *sandbox_class_name(enum sandbox_class c);
/* Compiles the class's filter into BPF (tests); returns its length in instructions. */
int sandbox_compile(enum sandbox_class c);

/*
 * Before sandbox_setup(): a -netdev user exists, so main's filter also
 * allows libslirp's socket calls (the "main+netdev-user" lines).
 */
void sandbox_allow_user_net(void);
/*
 * Before sandbox_setup(): a QMP monitor or -incoming exists, so main may
 * save and restore snapshots (the "main+snapshot" lines).
 */
void sandbox_allow_snapshot(void);
/*
 * Before sandbox_setup(): a -device vfio-pci exists, so vCPUs may pread and
 * pwrite (its BARs) and main may reset it (the "+vfio" lines).
 */
void sandbox_allow_vfio(void);
/*
 * Before sandbox_setup(): a vhost-user device connects to its back end
 * again when it left (chardev reconnect=): main may open a Unix socket
 * and connect it (the "main+reconnect" lines).
 */
void sandbox_allow_reconnect(void);
/* A hot-plug slot: device_add creates rings and eventfds on main (main+hotplug). */
void sandbox_allow_hotplug(void);

int sandbox_setup(void);
/* In a vCPU thread before its first KVM_RUN; nonzero: the thread must not run. */
int sandbox_enter_vcpu(unsigned index);
/* After the @nr_vcpus vCPU threads were started; nonzero: stop the machine. */
int sandbox_enter_main(unsigned nr_vcpus);

/*
 * Loads @c's filter into the calling thread, named @name in reports
 * (sandbox_setup() must have run). For tests; the machine uses the above.
 */
int sandbox_load(enum sandbox_class c, const char *name);

#endif
