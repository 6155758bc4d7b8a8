#ifndef EMBER_CLI_H
#define EMBER_CLI_H

#include "vmm/cli_compat.h"
#include "vmm/cli_opts.h"
#include "vmm/machine.h"

/* Parses the QEMU-style command line, builds and runs the VM; exit status. */
int ember_main(int argc, char **argv);
/*
 * After cli_parse: checks every option without setting anything up (no
 * /dev/kvm, files, sockets or taps). 0; 1 when help was printed; <0 after
 * one message.
 */
int cli_check(struct cli *c, struct machine_config *mc, struct cli_machine *cm);

#endif
