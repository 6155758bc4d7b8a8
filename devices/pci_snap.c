/* PCI config space, MSI-X and the host bridge in a snapshot; see pci_snap.h. */
#include <errno.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/pci_snap.h"
#include "lib/log.h"
#include "lib/snapfile.h"

static size_t table_bytes(const struct pci_msix *m)
{
	return m->nvec * PCI_MSIX_ENTRY_SIZE;
}

static size_t pba_bytes(const struct pci_msix *m)
{
	return (m->nvec + 63) / 64 * sizeof(uint64_t);
}

size_t pci_dev_snap_size(const struct pci_dev *d)
{
	return d->cfg_size + table_bytes(&d->msix) + pba_bytes(&d->msix);
}

void pci_dev_save(struct pci_dev *d, struct snapw *w)
{
	struct pci_msix *m = &d->msix;

	snapw_put(w, d->cfg, d->cfg_size);
	if (!m->nvec)
		return;
	pthread_mutex_lock(&m->lock);
	snapw_put(w, m->table, table_bytes(m));
	snapw_put(w, m->pba, pba_bytes(m));
	pthread_mutex_unlock(&m->lock);
}

/* Under the host's lock, as a config write from the guest. */
static void load_locked(struct pci_dev *d, const uint8_t *p)
{
	struct pci_msix *m = &d->msix;
	uint16_t cmd, ctrl = 0;

	memcpy(d->cfg, p, d->cfg_size);
	cmd = pci_cfg_get(d, PCI_COMMAND, 2);
	if (m->nvec) {
		pthread_mutex_lock(&m->lock);
		memcpy(m->table, p + d->cfg_size, table_bytes(m));
		memcpy(m->pba, p + d->cfg_size + table_bytes(m), pba_bytes(m));
		pthread_mutex_unlock(&m->lock);
		ctrl = pci_cfg_get(d, m->cap + PCI_MSIX_FLAGS, 2);
	}
	/* BARs to where the guest put them, INTx as it left it; then the vectors. */
	pci_cfg_write(d, PCI_COMMAND, &cmd, 2);
	if (m->nvec)
		pci_cfg_write(d, m->cap + PCI_MSIX_FLAGS, &ctrl, 2);
}

int pci_dev_load(struct pci_dev *d, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (len != pci_dev_snap_size(d)) {
		err_msg("state file: %s's PCI state has %zu bytes, this ember wants %zu", d->owner,
			len, pci_dev_snap_size(d));
		return -EINVAL;
	}
	/* The same function: its read-only bytes (IDs, capabilities) must match. */
	for (unsigned i = 0; i < d->cfg_size; i++)
		if ((p[i] ^ d->cfg[i]) & ~d->wmask[i] && i != PCI_STATUS && i != PCI_STATUS + 1) {
			err_msg("state file: %s's PCI config space differs at 0x%x (another "
				"device or options)", d->owner, i);
			return -EINVAL;
		}
	if (d->host)
		pthread_mutex_lock(&d->host->lock);
	load_locked(d, p);
	if (d->host)
		pthread_mutex_unlock(&d->host->lock);
	return 0;
}

void pci_host_save(struct pci_host *h, struct snapw *w)
{
	uint32_t cf8;

	pthread_mutex_lock(&h->lock);
	cf8 = h->cf8;
	pthread_mutex_unlock(&h->lock);
	snapw_begin(w, "pci-host");
	snapw_put(w, &cf8, sizeof(cf8));
	pci_dev_save(&h->bridge, w);
	snapw_end(w);
}

int pci_host_load(struct pci_host *h, const void *data, size_t len)
{
	uint32_t cf8;
	int ret;

	if (len < sizeof(cf8)) {
		err_msg("state file: section pci-host has %zu bytes", len);
		return -EINVAL;
	}
	memcpy(&cf8, data, sizeof(cf8));
	ret = pci_dev_load(&h->bridge, (const uint8_t *)data + sizeof(cf8), len - sizeof(cf8));
	if (ret)
		return ret;
	pthread_mutex_lock(&h->lock);
	h->cf8 = cf8;
	pthread_mutex_unlock(&h->lock);
	return 0;
}
