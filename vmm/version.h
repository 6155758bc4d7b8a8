/*
 * Which QEMU interface ember follows: -version prints it, and QMP's
 * query-version reports it as the "qemu" version beside ember's own.
 */
#ifndef EMBER_VERSION_H
#define EMBER_VERSION_H

/* The QEMU release whose command line and QMP ember implements a subset of. */
#define EMBER_QEMU_LEVEL	"7.2.0"
/* What -version says after ember's own version. */
#define EMBER_QEMU_COMPAT	"QEMU " EMBER_QEMU_LEVEL " command line and QMP subset"

#endif
