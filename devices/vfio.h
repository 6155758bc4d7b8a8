/*
 * -device vfio-pci (vfio.c): host PCI functions passed through with VFIO.
 * The device type registers itself; this header is for tests.
 */
#ifndef EMBER_VFIO_H
#define EMBER_VFIO_H

struct device_type;
extern const struct device_type vfio_type;

#endif
