/*
 * The devices that add PCI buses: pcie-root-port (a PCI Express root port,
 * Red Hat's 1b36:000c as QEMU has it, on pci.0; its bus holds one device)
 * and pci-bridge (a conventional PCI-to-PCI bridge, 1b36:0001, 32 slots).
 * Each adds a bus named after its id; pci_bridge.c is their type-1 header.
 *
 * A root port's slot is hot-plug capable (PCIe Base 4.0, 6.7) the way
 * Linux's pciehp drives QEMU's: presence detect, data link layer state
 * changes, an attention button that asks the guest to let go, a power
 * controller it turns off when it has, command completion; the event
 * interrupt is the port's INTx. Slot registers change under host->lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/device.h"
#include "devices/pci.h"
#include "devices/pci_ports.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "seccomp/seccomp.h"
#include "lib/util.h"

#define RP_VENDOR	0x1b36
#define RP_DEVICE	0x000c
#define BRIDGE_DEVICE	0x0001

struct port_state {
	char *bus, *addr;
	uint32_t chassis, slot, port;	/* pcie-root-port */
	uint32_t chassis_nr;		/* pci-bridge */
	uint64_t mem_reserve, io_reserve;
	bool hotplug;
	struct port *p;
};

struct port {
	struct pci_dev pci;
	struct device *dev;
	uint16_t exp;			/* PCIe capability; 0 on a pci-bridge */
	bool hotplug;
	bool unplug_pending;		/* the button was pressed for the guest */
	bool released;			/* ...and it powered the slot off */
};

#define SLOT_EVENTS (PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PFD | PCI_EXP_SLTSTA_MRLSC | \
		     PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_CC | PCI_EXP_SLTSTA_DLLSC)

static uint16_t slot_reg(struct port *p, unsigned reg)
{
	return pci_cfg_get(&p->pci, p->exp + reg, 2);
}

/* INTx follows the enabled events still set (level, as with INTx it must be). */
static void slot_irq(struct port *p)
{
	uint16_t ctl = slot_reg(p, PCI_EXP_SLTCTL), sta = slot_reg(p, PCI_EXP_SLTSTA);
	uint16_t on = 0;

	if (ctl & PCI_EXP_SLTCTL_ABPE)
		on |= PCI_EXP_SLTSTA_ABP;
	if (ctl & PCI_EXP_SLTCTL_PDCE)
		on |= PCI_EXP_SLTSTA_PDC;
	if (ctl & PCI_EXP_SLTCTL_CCIE)
		on |= PCI_EXP_SLTSTA_CC;
	if (ctl & PCI_EXP_SLTCTL_DLLSCE)
		on |= PCI_EXP_SLTSTA_DLLSC;
	pci_intx_set(&p->pci, (ctl & PCI_EXP_SLTCTL_HPIE) && (sta & on));
}

static void slot_event(struct port *p, uint16_t ev)
{
	pci_cfg_set(&p->pci, p->exp + PCI_EXP_SLTSTA, slot_reg(p, PCI_EXP_SLTSTA) | ev, 2);
	slot_irq(p);
}

/*
 * Slot status events are write-1-to-clear; a slot control write completes
 * at once (CC) and, when it turns the power off with the power indicator
 * off while the guest was asked to let go, says the guest has let go.
 */
static void rp_cfg_write(struct pci_dev *d, unsigned off, const void *data, unsigned len)
{
	struct port *p = d->opaque;
	unsigned sta = p->exp + PCI_EXP_SLTSTA, ctl = p->exp + PCI_EXP_SLTCTL;
	uint8_t buf[4] = { 0 };

	pci_bridge_cfg_write(d, off, data, len);
	if (!p->hotplug)
		return;
	memcpy(buf, data, len);
	if (off <= sta && sta + 2 <= off + len) {
		uint16_t w = buf[sta - off] | buf[sta - off + 1] << 8;

		pci_cfg_set(d, sta, slot_reg(p, PCI_EXP_SLTSTA) & ~(w & SLOT_EVENTS), 2);
	}
	if (off <= ctl && ctl < off + len) {
		uint16_t c = slot_reg(p, PCI_EXP_SLTCTL);

		if (p->unplug_pending && !p->released && (c & PCI_EXP_SLTCTL_PCC) &&
		    (c & PCI_EXP_SLTCTL_PIC) == PCI_EXP_SLTCTL_PWR_IND_OFF) {
			p->released = true;
			platform_event(d->pf, PF_EVENT_HOTPLUG);
		}
		slot_event(p, PCI_EXP_SLTSTA_CC);
		return;
	}
	slot_irq(p);
}


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

/* Firmware's bridge set-up, and the slot powered with no events pending. */
static void rp_reset(struct pci_dev *d)
{
	struct port *p = d->opaque;

	pci_bridge_set_home(d);
	if (p->hotplug)
		pci_cfg_set(d, p->exp + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PWR_IND_ON |
			    PCI_EXP_SLTCTL_ATTN_IND_OFF, 2);
	p->unplug_pending = p->released = false;
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
	pci_cfg_set(d, cap + PCI_EXP_SLTCAP, s->slot << 19 | (s->hotplug ?
		    PCI_EXP_SLTCAP_ABP | PCI_EXP_SLTCAP_PCP | PCI_EXP_SLTCAP_AIP |
		    PCI_EXP_SLTCAP_PIP | PCI_EXP_SLTCAP_HPC : 0), 4);
	if (s->hotplug) {
		/* Power on, indicators on and off, as firmware leaves a full slot. */
		pci_cfg_set(d, cap + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PWR_IND_ON |
			    PCI_EXP_SLTCTL_ATTN_IND_OFF, 2);
		pci_cfg_wmask(d, cap + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_ABPE | PCI_EXP_SLTCTL_PFDE |
			      PCI_EXP_SLTCTL_MRLSCE | PCI_EXP_SLTCTL_PDCE | PCI_EXP_SLTCTL_CCIE |
			      PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_AIC | PCI_EXP_SLTCTL_PIC |
			      PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_EIC | PCI_EXP_SLTCTL_DLLSCE, 2);
		pci_cfg_set(d, PCI_INTERRUPT_PIN, 1, 1);	/* the events' INTA */
		d->cfg_write = rp_cfg_write;
		p->hotplug = true;
		sandbox_allow_hotplug();
	}
	pci_cfg_set(d, cap + PCI_EXP_LNKCAP2, PCI_EXP_LNKCAP2_SLS_2_5GB, 4);
	d->cfg_read = rp_cfg_read;
	d->reset = rp_reset;
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
		err_msg("%s: this machine has no PCI bus (add -M pci)", owner);
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
	{ "hotplug", PROP_BOOL, offsetof(struct port_state, hotplug), "on",
	  "native PCIe hot-plug of its slot (device_add, device_del)" },
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

/* --- hot-plug, for the machine's device_add and device_del --- */

static struct port *port_of(struct platform *pf, const char *bus)
{
	for (struct device *d = pf->devices; bus && d; d = d->next)
		if (is_root_port(d) && d->id && !strcmp(d->id, bus))
			return ((struct port_state *)d->state)->p;
	return NULL;
}

int pcie_port_check(struct platform *pf, const char *bus, bool empty, const char *owner)
{
	struct port *p = port_of(pf, bus);
	struct pci_dev *there;

	if (!p || !p->hotplug) {
		err_msg("%s: bus '%s' is not a pcie-root-port with hotplug=on: "
			"it does not support hot-plugging", owner, bus ? bus : "pci.0");
		return -ENODEV;
	}
	pthread_mutex_lock(&pf->pci->lock);
	there = p->pci.sec ? p->pci.sec->dev[0] : NULL;
	if (empty && there)
		err_msg("%s: the slot of %s is taken by %s", owner, bus, there->owner);
	pthread_mutex_unlock(&pf->pci->lock);
	return empty && there ? -EEXIST : 0;
}

void pcie_port_plugged(struct platform *pf, const char *bus)
{
	struct port *p = port_of(pf, bus);

	if (!p)
		return;
	pthread_mutex_lock(&pf->pci->lock);
	p->unplug_pending = p->released = false;
	slot_event(p, PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC);
	pthread_mutex_unlock(&pf->pci->lock);
}

int pcie_port_unplug_request(struct platform *pf, const char *bus, const char *owner)
{
	struct port *p = port_of(pf, bus);
	int ret = 0;

	if (!p)
		return -ENODEV;
	pthread_mutex_lock(&pf->pci->lock);
	if (p->unplug_pending) {
		err_msg("%s: an unplug is already in progress: the guest has not let go of it "
			"(it powers the slot of %s off when it has)", owner, bus);
		ret = -EBUSY;
	} else {
		p->unplug_pending = true;
		slot_event(p, PCI_EXP_SLTSTA_ABP);
	}
	pthread_mutex_unlock(&pf->pci->lock);
	return ret;
}

const char *pcie_port_released(struct platform *pf)
{
	const char *id = NULL;

	if (!pf->pci)
		return NULL;
	pthread_mutex_lock(&pf->pci->lock);
	for (struct device *d = pf->devices; d && !id; d = d->next) {
		struct port *p = is_root_port(d) ? ((struct port_state *)d->state)->p : NULL;

		if (p && p->released) {
			p->released = p->unplug_pending = false;
			id = d->id;
		}
	}
	pthread_mutex_unlock(&pf->pci->lock);
	return id;
}

void pcie_port_removed(struct platform *pf, const char *bus)
{
	struct port *p = port_of(pf, bus);

	if (!p)
		return;
	pthread_mutex_lock(&pf->pci->lock);
	slot_event(p, PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC);
	pthread_mutex_unlock(&pf->pci->lock);
}
