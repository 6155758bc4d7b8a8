/* Snapshots to and from files (snapshot.h): the state file and the RAM file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "arch/arch.h"
#include "backends/memory.h"
#include "devices/device.h"
#include "devices/pci_snap.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "lib/util.h"
#include "vmm/machine.h"
#include "vmm/snapshot.h"

#define PAGE 4096

static const char *file_of(const char *uri, const char *cmd)
{
	if (strncmp(uri, "file:", 5) || !uri[5]) {
		err_msg("%s: '%s' is not a file:PATH URI (the only kind ember has)", cmd, uri);
		return NULL;
	}
	return uri + 5;
}

static bool zero_page(const uint8_t *p, uint64_t len)
{
	static const uint8_t zero[PAGE];

	return !memcmp(p, zero, MIN(len, PAGE));
}

/*
 * @p to a new file at @path, in page order; pages of zeros stay holes,
 * which read as zeros (most of a guest's RAM, at first). Written as
 * PATH.tmp, then renamed: embers restored from an older file at @path keep
 * mapping theirs. On failure nothing is left.
 */
static int write_file(const char *path, const uint8_t *p, uint64_t size)
{
	char tmp[PATH_MAX];
	uint64_t off = 0, end;
	int fd = -1, e;

	errno = ENAMETOOLONG;
	if ((unsigned)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		goto fail;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, size) < 0)
		goto fail;
	for (; off < size; off = end) {
		end = MIN(off + PAGE, size);
		if (zero_page(p + off, size - off))
			continue;
		while (end < size && end - off < 64 * MiB && !zero_page(p + end, size - end))
			end = MIN(end + PAGE, size);
		for (uint64_t at = off; at < end;) {
			ssize_t n = pwrite(fd, p + at, end - at, at);

			if (n <= 0)
				goto fail;
			at += n;
		}
	}
	e = close(fd);
	fd = -1;
	if (!e && !rename(tmp, path))
		return 0;
fail:
	e = errno ? errno : EIO;
	err_msg("migrate: %s: %s", path, strerror(e));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -e;
}

static int save_state(struct machine *m, struct snapw *w)
{
	char name[16];
	int ret;

	snapw_init(w, m->cfg.type->name, m->ram->size);
	ret = arch_vm_save(&m->vm, w);
	for (unsigned i = 0; !ret && i < m->nr_vcpus; i++) {
		snprintf(name, sizeof(name), "cpu%u", i);
		ret = arch_vcpu_save(&m->vm, &m->vcpus[i], w, name);
	}
	if (!ret && m->pf.pci)
		pci_host_save(m->pf.pci, w);
	if (!ret)
		ret = device_save_all(&m->pf, w);
	if (!ret && (ret = snapw_finish(w)))
		err_msg("migrate: the state does not fit a state file (%s)", strerror(-ret));
	return ret;
}

int snapshot_save(struct machine *m, const char *uri)
{
	const char *path = file_of(uri, "migrate");
	struct snapw w;
	char *mem;
	int ret;

	if (!path)
		return -EINVAL;
	if (m->state == RUN_RUNNING && machine_pause(m))
		return -EIO;
	ret = save_state(m, &w);
	if (ret)
		goto out;
	if (asprintf(&mem, "%s.mem", path) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	ret = write_file(mem, m->ram->hva, m->ram->size);
	if (!ret)
		ret = write_file(path, w.p, w.len);
	if (ret)
		unlink(mem);
	free(mem);
out:
	snapw_free(&w);
	return ret;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *p = NULL;
	size_t at = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	p = malloc(st.st_size ? st.st_size : 1);
	if (!p)
		goto fail;
	while (at < (size_t)st.st_size) {
		ssize_t n = read(fd, p + at, st.st_size - at);

		if (n <= 0)
			break;
		at += n;
	}
	close(fd);
	*out = p;
	*len = at;
	return 0;
fail:
	err_msg("incoming: %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(p);
	return -EIO;
}

/* The sections this machine would write, in order. */
static int check_machine(struct machine *m, const struct snap *s)
{
	unsigned n = 1 + m->nr_vcpus + !!m->pf.pci, i = 0;
	const char **names;
	char *buf;
	int ret;

	for (struct device *d = m->pf.devices; d; d = d->next)
		n++;
	names = calloc(n, sizeof(*names));
	buf = calloc(n, SNAP_NAME_MAX + 1);
	if (!names || !buf) {
		free(names);
		free(buf);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		names[i] = buf + i * (SNAP_NAME_MAX + 1);
	strcpy(buf, "vm");
	for (i = 0; i < m->nr_vcpus; i++)
		snprintf(buf + (1 + i) * (SNAP_NAME_MAX + 1), SNAP_NAME_MAX + 1, "cpu%u", i);
	i = 1 + m->nr_vcpus;
	if (m->pf.pci)
		strcpy(buf + i++ * (SNAP_NAME_MAX + 1), "pci-host");
	for (struct device *d = m->pf.devices; d; d = d->next, i++)
		device_snap_name(&m->pf, d, buf + i * (SNAP_NAME_MAX + 1), SNAP_NAME_MAX + 1);
	ret = snap_match(s, m->cfg.type->name, m->ram->size, names, n);
	free(names);
	free(buf);
	return ret;
}

/* Copy-on-write over the RAM mapping: the restore reads no page of it. */
static int map_ram(struct machine *m, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *p;

	if (fd < 0 || fstat(fd, &st) < 0) {
		err_msg("incoming: %s: %s", path, strerror(errno));
		goto fail;
	}
	if ((uint64_t)st.st_size != m->ram->size) {
		err_msg("incoming: memory file %s has %llu bytes, guest RAM (-m) is %llu", path,
			(unsigned long long)st.st_size, (unsigned long long)m->ram->size);
		goto fail;
	}
	p = mmap(m->ram->hva, m->ram->size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		err_msg("incoming: mmap %s: %s", path, strerror(errno));
		goto fail;
	}
	madvise(p, m->ram->size, MADV_DONTDUMP);
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -EINVAL;
}

static int load_state(struct machine *m, const struct snap *s)
{
	char name[16];
	int ret = arch_vm_load(&m->vm, snap_find(s, "vm")->data, snap_find(s, "vm")->len);

	for (unsigned i = 0; !ret && i < m->nr_vcpus; i++) {
		const struct snap_sect *c;

		snprintf(name, sizeof(name), "cpu%u", i);
		c = snap_find(s, name);
		ret = arch_vcpu_load(&m->vcpus[i], c->data, c->len);
	}
	if (!ret && m->pf.pci) {
		const struct snap_sect *c = snap_find(s, "pci-host");

		ret = pci_host_load(m->pf.pci, c->data, c->len);
	}
	if (!ret)
		ret = device_load_all(&m->pf, s);
	return ret;
}

int snapshot_load(struct machine *m, const char *uri)
{
	const char *path = file_of(uri, "incoming");
	uint8_t *data = NULL;
	struct snap s = { 0 };
	char *mem = NULL;
	size_t len;
	int ret;

	if (!path)
		return -EINVAL;
	if (m->ram->fd >= 0) {
		err_msg("incoming: guest RAM is shared memory (memory-backend-memfd or "
			"share=on); a restore maps the memory file privately");
		return -ENOTSUP;
	}
	ret = read_file(path, &data, &len);
	if (!ret)
		ret = snap_parse(&s, data, len);
	if (!ret)
		ret = check_machine(m, &s);
	if (!ret && asprintf(&mem, "%s.mem", path) < 0)
		ret = -ENOMEM;
	if (!ret)
		ret = map_ram(m, mem);
	if (!ret)
		ret = load_state(m, &s);
	if (!ret)
		boot_trace("snapshot restored");
	snap_free(&s);
	free(data);
	free(mem);
	return ret;
}
