/*
 * The devices that add PCI buses: pcie-root-port (a PCI Express root port,
 * Red Hat's 1b36:000c as QEMU has it, on pci.0; its bus holds one device)
 * and pci-bridge (a conventional PCI-to-PCI bridge, 1b36:0001, 32 slots).
 * Each adds a bus named after its id; pci_bridge.c is their type-1 header.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/device.h"
#include "devices/pci.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/util.h"

#define RP_VENDOR	0x1b36
#define RP_DEVICE	0x000c
#define BRIDGE_DEVICE	0x0001

struct port_state {
	char *bus, *addr;
	uint32_t chassis, slot, port;	/* pcie-root-port */
	uint32_t chassis_nr;		/* pci-bridge */
	uint64_t mem_reserve, io_reserve;
	struct port *p;
};

struct port {
	struct pci_dev pci;
	struct device *dev;
	uint16_t exp;			/* PCIe capability; 0 on a pci-bridge */
};

static bool is_root_port(const struct device *dev)
{
	return !strcmp(dev->type->name, "pcie-root-port");
}

/* The slot's state as pciehp reads it: a device there, its link up. */
static void rp_cfg_read(struct pci_dev *d, unsigned off, void *data, unsigned len)
{
	struct port *p = d->opaque;
	bool present = d->sec && d->sec->dev[0];
	uint8_t buf[4];
	unsigned reg;

	memcpy(buf, data, len);
	reg = p->exp + PCI_EXP_LNKSTA;
	if (off <= reg + 1 && reg + 1 < off + len && present)
		buf[reg + 1 - off] |= PCI_EXP_LNKSTA_DLLLA >> 8;
	reg = p->exp + PCI_EXP_SLTSTA;
	if (off <= reg && reg < off + len && present)
		buf[reg - off] |= PCI_EXP_SLTSTA_PDS;
	memcpy(data, buf, len);
}

/* PCIe capability of a root port with a slot (PCIe Base 4.0, 7.5.3). */
static int rp_caps(struct port *p, const struct port_state *s)
{
	struct pci_dev *d = &p->pci;
	int cap = pci_cap_add(d, PCI_CAP_ID_EXP, PCI_CAP_EXP_ENDPOINT_SIZEOF_V2);

	if (cap < 0)
		return cap;
	p->exp = cap;
	pci_cfg_set(d, cap + PCI_EXP_FLAGS, 2 | PCI_EXP_TYPE_ROOT_PORT << 4 |
		    PCI_EXP_FLAGS_SLOT, 2);
	pci_cfg_wmask(d, cap + PCI_EXP_DEVCTL, 0xffff & ~PCI_EXP_DEVCTL_BCR_FLR, 2);
	/* 2.5 GT/s x1, link active reporting: what pciehp waits on. */
	pci_cfg_set(d, cap + PCI_EXP_LNKCAP, PCI_EXP_LNKCAP_SLS_2_5GB | 1 << 4 |
		    PCI_EXP_LNKCAP_DLLLARC | s->port << 24, 4);
	pci_cfg_wmask(d, cap + PCI_EXP_LNKCTL, PCI_EXP_LNKCTL_ASPMC | PCI_EXP_LNKCTL_RCB |
		      PCI_EXP_LNKCTL_CCC | PCI_EXP_LNKCTL_ES, 2);
	pci_cfg_set(d, cap + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_CLS_2_5GB | 1 << 4, 2);
	pci_cfg_set(d, cap + PCI_EXP_SLTCAP, s->slot << 19, 4);
	pci_cfg_set(d, cap + PCI_EXP_LNKCAP2, PCI_EXP_LNKCAP2_SLS_2_5GB, 4);
	d->cfg_read = rp_cfg_read;
	return 0;
}

/* Root ports' (chassis, slot) pairs name their slots in the guest: one each. */
static int rp_slot_taken(struct platform *pf, const struct port_state *s,
			 const char *owner)
{
	for (struct device *o = pf->devices; o; o = o->next) {
		const struct port_state *os = o->state;

		if (is_root_port(o) && os->chassis == s->chassis && os->slot == s->slot) {
			err_msg("%s: chassis %u slot %u is taken by %s", owner, s->chassis,
				s->slot, o->id);
			return -EEXIST;
		}
	}
	return 0;
}

static int port_check(struct device *dev, struct platform *pf, const char *owner)
{
	struct port_state *s = dev->state;
	struct pci_bus *b;

	if (!pf->pci) {
		err_msg("%s: this machine has no PCI bus (-M pci has one)", owner);
		return -ENODEV;
	}
	if (!dev->id) {
		err_msg("%s: give it an id= (the bus it adds is named after it)", owner);
		return -EINVAL;
	}
	if (s->bus && !strcmp(s->bus, dev->id)) {
		err_msg("%s: bus '%s' is the one it adds (a loop)", owner, s->bus);
		return -ELOOP;
	}
	if (s->mem_reserve % (1 << 20) || s->io_reserve % 4096) {
		err_msg("%s: mem-reserve is whole MiB, io-reserve whole 4 KiB", owner);
		return -EINVAL;
	}
	if (!is_root_port(dev))
		return 0;
	b = pci_bus_find(pf->pci, s->bus);
	if (b && b->self) {
		err_msg("%s: bus '%s' is behind a bridge; a root port goes on pci.0",
			owner, s->bus);
		return -EINVAL;
	}
	return rp_slot_taken(pf, s, owner);
}

static int port_realize(struct device *dev, struct platform *pf)
{
	struct port_state *s = dev->state;
	bool rp = is_root_port(dev);
	char owner[128];
	struct port *p;
	int slot, fn, ret;

	snprintf(owner, sizeof(owner), "%s %s", dev->type->name, dev->id ? dev->id : "");
	if ((ret = port_check(dev, pf, owner)))
		return ret;
	if ((ret = pci_parse_addr(s->addr, &slot, &fn, owner)))
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p) {
		err_msg("%s: out of memory", owner);
		return -ENOMEM;
	}
	p->dev = dev;
	pci_bridge_init(&p->pci, pf, RP_VENDOR, rp ? RP_DEVICE : BRIDGE_DEVICE,
			rp ? PCIE_CFG_SIZE : PCI_CFG_SIZE);
	p->pci.opaque = p;
	snprintf(p->pci.owner, sizeof(p->pci.owner), "%.63s", owner);
	ret = rp ? rp_caps(p, s) : 0;
	if (!ret)
		ret = pci_dev_register(pf->pci, &p->pci, s->bus, slot, fn, owner);
	if (!ret) {
		ret = pci_bus_add(&p->pci, dev->id, rp, s->mem_reserve, s->io_reserve);
		if (ret)
			pci_dev_unregister(&p->pci);
	}
	if (ret) {
		pci_dev_destroy(&p->pci);
		free(p);
		return ret;
	}
	s->p = p;
	return 0;
}

static void port_unrealize(struct device *dev, struct platform *pf)
{
	struct port_state *s = dev->state;

	if (!s->p)
		return;
	pci_bus_remove(&s->p->pci);
	pci_dev_unregister(&s->p->pci);
	pci_dev_destroy(&s->p->pci);
	free(s->p);
	s->p = NULL;
}

#define PORT_PROPS(mem_def)                                                        \
	{ "bus", PROP_STR, offsetof(struct port_state, bus), NULL,                 \
	  "PCI bus (pci.0, or a bridge's id)" },                                   \
	{ "addr", PROP_STR, offsetof(struct port_state, addr), NULL,               \
	  "PCI slot[.function], hex (default: first free slot)" },                 \
	{ "mem-reserve", PROP_SIZE, offsetof(struct port_state, mem_reserve), mem_def, \
	  "memory window for the devices behind it, whole MiB" },                 \
	{ "io-reserve", PROP_SIZE, offsetof(struct port_state, io_reserve), "0",   \
	  "I/O window, whole 4 KiB (0: none)", .max = PCI_IOWIN_SIZE }

static const struct prop rp_props[] = {
	{ "chassis", PROP_U32, offsetof(struct port_state, chassis), "0",
	  "chassis number of the slot", .max = 255 },
	{ "slot", PROP_U32, offsetof(struct port_state, slot), "0",
	  "physical slot number (unique per chassis)", .max = 8191 },
	{ "port", PROP_U32, offsetof(struct port_state, port), "0",
	  "port number in the link capabilities", .max = 255 },
	PORT_PROPS("2M"),
	{ NULL }
};

static const struct prop bridge_props[] = {
	{ "chassis_nr", PROP_U32, offsetof(struct port_state, chassis_nr), "0",
	  "chassis number", .max = 255 },
	PORT_PROPS("8M"),
	{ NULL }
};

static const struct device_type rp_type = {
	.name = "pcie-root-port",
	.bus = "pci",
	.child_bus = "pci",
	.desc = "PCI Express root port; its bus (named after its id) takes one device",
	.state_size = sizeof(struct port_state),
	.props = rp_props,
	.realize = port_realize,
	.unrealize = port_unrealize,
};
DEVICE_TYPE(rp_type)

static const struct device_type bridge_type = {
	.name = "pci-bridge",
	.bus = "pci",
	.child_bus = "pci",
	.desc = "PCI-to-PCI bridge; its bus (named after its id) has 32 slots",
	.state_size = sizeof(struct port_state),
	.props = bridge_props,
	.realize = port_realize,
	.unrealize = port_unrealize,
};
DEVICE_TYPE(bridge_type)
