#ifndef EMBER_CLI_H
#define EMBER_CLI_H

/* Parses the QEMU-style command line, builds and runs the VM; exit status. */
int ember_main(int argc, char **argv);

#endif
