/*
 * PCI in a snapshot (devices/pci_snap.c): a function's config space and
 * MSI-X table and PBA, and the host bridge's own (CONFIG_ADDRESS, 00:00.0).
 * A load puts the bytes back, then writes the command register and the
 * MSI-X control as the guest last did: the BARs decode where they did and
 * the vectors are routed again.
 */
#ifndef EMBER_PCI_SNAP_H
#define EMBER_PCI_SNAP_H

#include <stddef.h>

struct pci_dev;
struct pci_host;
struct snapw;

/* Into the open section of @w (snapw_begin); pci_dev_snap_size bytes. */
void pci_dev_save(struct pci_dev *d, struct snapw *w);
size_t pci_dev_snap_size(const struct pci_dev *d);
/* Exactly pci_dev_snap_size bytes; -EINVAL (one message) otherwise. */
int pci_dev_load(struct pci_dev *d, const void *data, size_t len);
/* Section "pci-host". */
void pci_host_save(struct pci_host *h, struct snapw *w);
int pci_host_load(struct pci_host *h, const void *data, size_t len);

#endif
