/*
 * Native PCIe hot-plug on pcie-root-port slots (pci_ports.c), for the
 * machine's device_add and device_del. Loop thread; @bus is the root
 * port's id, which names its bus.
 */
#ifndef EMBER_PCI_PORTS_H
#define EMBER_PCI_PORTS_H

#include <stdbool.h>

struct platform;

/*
 * Whether @bus is a root port with hot-plug on: 0; else -ENODEV (no such
 * root port, or hot-plug off) with one message naming @owner and @bus.
 * @empty: its slot must also be free (-EEXIST, naming what is there).
 */
int pcie_port_check(struct platform *pf, const char *bus, bool empty, const char *owner);
/* A device was realized in @bus's slot while the guest runs: presence detect. */
void pcie_port_plugged(struct platform *pf, const char *bus);
/*
 * Asks the guest to let go of the device in @bus's slot (the attention
 * button). -EBUSY with a message when it was asked already and has not.
 */
int pcie_port_unplug_request(struct platform *pf, const char *bus, const char *owner);
/*
 * A root port whose device the guest let go of (it powered the slot off
 * after the request): its id, no longer pending; NULL: none.
 */
const char *pcie_port_released(struct platform *pf);
/* The released device is gone: the slot reads empty (presence detect). */
void pcie_port_removed(struct platform *pf, const char *bus);

#endif
