/*
 * QEMU's command-line forms mapped onto ember's own: -drive, -nic, -M's
 * microvm properties, -m slots/maxmem, -sandbox's QEMU keys, -serial
 * unix:. See cli_compat.h and docs/cli.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"
#include "vmm/cli_compat.h"
#include "vmm/machine.h"	/* MIN_RAM */

/* A keyval value with its commas doubled, into @f. */
static void put_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == ',')
			fputc(',', f);
		fputc(*v, f);
	}
}

/* Closes @f, an open_memstream on *@buf, and hands the text to c->owned. */
static const char *own_text(struct cli *c, FILE *f, char **buf)
{
	if (fclose(f)) {
		free(*buf);
		*buf = NULL;
	}
	return cli_own(c, *buf);
}

static int bool_key(struct keyval *kv, const char *key, const char *what, int *out)
{
	const char *v = keyval_get(kv, key);

	if (v && parse_bool(v, out)) {
		err_msg("%s %s=%s: expected on or off", what, key, v);
		return -EINVAL;
	}
	return 0;
}

/*
 * Keys of QEMU devices ember has none of (usb=on...): off is what ember is,
 * on is refused. Keys that tune only QEMU itself are taken and ignored.
 */
static const char *const machine_absent[] = { "usb", "graphics", "vmport", "smm" };
static const char *const machine_ignored[] = {
	"x-option-roms",	/* no firmware: no option ROMs are ever loaded */
	"pit", "pic",		/* KVM's in-kernel PIT and PIC stay; guests may ignore them */
	"rtc",			/* the CMOS RTC stays: Linux reads the time from it */
	"dump-guest-core",	/* core dumps of ember: ember has no crash dump */
	"mem-merge",		/* KSM */
};

/* accel=kvm[:tcg]: KVM is tried first in QEMU too; any list without kvm is refused. */
static int machine_accel(const char *v)
{
	size_t n = strlen(v);

	for (const char *p = v; p < v + n; p += strcspn(p, ":") + 1)
		if (!strncmp(p, "kvm", 3) && (p[3] == ':' || !p[3]))
			return 0;
	err_msg("-M accel=%s: ember runs on KVM only (use accel=kvm)", v);
	return -EINVAL;
}

static int machine_keys(struct keyval *kv, struct cli_machine *m)
{
	int on, ret = 0;
	const char *v;

	for (size_t i = 0; i < ARRAY_SIZE(machine_absent) && !ret; i++) {
		on = 0;
		ret = bool_key(kv, machine_absent[i], "-M", &on);
		if (!ret && on) {
			err_msg("-M %s=on: ember's machines have no %s", machine_absent[i],
				machine_absent[i]);
			ret = -EINVAL;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(machine_ignored) && !ret; i++)
		ret = bool_key(kv, machine_ignored[i], "-M", &on);
	on = 1;
	if (!ret && !(ret = bool_key(kv, "isa-serial", "-M", &on)))
		m->no_com1 = !on;
	v = keyval_get(kv, "acpi");
	if (!ret && v && strcmp(v, "on") && strcmp(v, "auto")) {
		err_msg("-M acpi=%s: ember's machines describe their devices in ACPI "
			"(acpi=on only)", v);
		ret = -EINVAL;
	}
	v = keyval_get(kv, "accel");
	if (!ret && v)
		ret = machine_accel(v);
	on = 0;
	if (!ret && !(ret = bool_key(kv, "pcie", "-M", &on)) && on) {
		if (m->type && strcmp(m->type, "microvm") && strcmp(m->type, "pci")) {
			err_msg("-M %s,pcie=on: only microvm takes pcie=on", m->type);
			ret = -EINVAL;
		}
		m->type = "pci";	/* microvm with a PCIe host bridge is ember's pci */
	}
	return ret;
}

int cli_parse_machine(struct cli *c, const char *s, struct cli_machine *m)
{
	struct keyval kv;
	const char *v;
	int ret;

	memset(m, 0, sizeof(*m));
	ret = keyval_parse(s, "type", "-M", &kv);
	if (ret)
		return ret;
	m->help = kv.help;
	if (kv.implied && !(m->type = cli_own(c, strdup(kv.implied))))
		ret = -ENOMEM;
	v = keyval_get(&kv, "memory-backend");
	if (!ret && v && !(m->ram_id = cli_own(c, strdup(v))))
		ret = -ENOMEM;
	if (!ret)
		ret = machine_keys(&kv, m);
	if (!ret)
		ret = cli_keys_check(&kv, "-M");
	keyval_free(&kv);
	return ret;
}

int cli_parse_mem(const char *s, uint64_t *out)
{
	struct keyval kv;
	const char *v, *max, *slot;
	uint64_t slots, maxmem;
	int ret;

	ret = keyval_parse(s, "size", "-m", &kv);
	if (ret)
		return ret;
	v = kv.implied ? kv.implied : keyval_get(&kv, "size");
	/* Memory hotplug's room (QEMU's): ember has no hotplug, so nothing is reserved. */
	max = keyval_get(&kv, "maxmem");
	slot = keyval_get(&kv, "slots");
	ret = cli_keys_check(&kv, "-m");
	if (!ret && (!v || parse_size(v, MiB, out))) {
		err_msg("-m %s: not a memory size (e.g. 512M, 2G)", s);
		ret = -EINVAL;
	}
	if (!ret && *out < MIN_RAM) {
		err_msg("-m %s: guest RAM must be at least %llu MiB", s, MIN_RAM >> 20);
		ret = -EINVAL;
	}
	if (!ret && *out % (4 * KiB)) {
		err_msg("-m %s: guest RAM must be a multiple of 4 KiB", s);
		ret = -EINVAL;
	}
	if (!ret && slot && (parse_u64(slot, &slots) || slots > 256)) {
		err_msg("-m slots=%s: expected a number of slots (0 to 256)", slot);
		ret = -EINVAL;
	}
	if (!ret && max && (parse_size(max, MiB, &maxmem) || maxmem < *out)) {
		err_msg("-m maxmem=%s: expected a size at least the RAM size", max);
		ret = -EINVAL;
	}
	keyval_free(&kv);
	return ret;
}

int cli_parse_smp(const char *s, unsigned *out)
{
	struct keyval kv;
	const char *v;
	uint64_t n = 0;
	int ret;

	ret = keyval_parse(s, "cpus", "-smp", &kv);
	if (ret)
		return ret;
	v = kv.implied ? kv.implied : keyval_get(&kv, "cpus");
	/* QEMU's topology keys are accepted; we build one socket of N cores. */
	keyval_get(&kv, "maxcpus");
	keyval_get(&kv, "sockets");
	keyval_get(&kv, "cores");
	keyval_get(&kv, "threads");
	ret = cli_keys_check(&kv, "-smp");
	if (!ret && (!v || parse_u64(v, &n) || n < 1 || n > MAX_VCPUS)) {
		err_msg("-smp %s: the number of vCPUs must be between 1 and %u", s, MAX_VCPUS);
		ret = -EINVAL;
	}
	*out = (unsigned)n;
	keyval_free(&kv);
	return ret;
}

/* QEMU's -sandbox keys name what its filter denies; ember's allowlist denies all of them. */
static const char *const sandbox_keys[] = {
	"obsolete", "elevateprivileges", "spawn", "resourcecontrol",
};

int cli_parse_sandbox(const char *s, int *on)
{
	struct keyval kv;
	const char *v;
	int ret;

	ret = keyval_parse(s, "enable", "-sandbox", &kv);
	if (ret)
		return ret;
	v = kv.implied ? kv.implied : keyval_get(&kv, "enable");
	if (!v || parse_bool(v, on)) {
		err_msg("-sandbox %s: expected on or off", s);
		ret = -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sandbox_keys) && !ret; i++) {
		v = keyval_get(&kv, sandbox_keys[i]);
		if (!v || !strcmp(v, "deny") ||
		    (!strcmp(sandbox_keys[i], "elevateprivileges") && !strcmp(v, "children")))
			continue;
		err_msg("-sandbox %s=%s: ember's allowlist always denies these calls "
			"(only %s=deny)", sandbox_keys[i], v, sandbox_keys[i]);
		ret = -EINVAL;
	}
	if (!ret)
		ret = cli_keys_check(&kv, "-sandbox");
	keyval_free(&kv);
	return ret;
}

int cli_unix_chardev(struct cli *c, const char *what, const char *s, const char *id,
		     const char **out)
{
	struct keyval kv;
	const char *path;
	int server = 0, wait = 1, ret;
	char *buf = NULL;
	size_t size;
	FILE *f;

	ret = keyval_parse(s, "path", what, &kv);
	if (ret)
		return ret;
	path = kv.implied;
	if (!path || strncmp(path, "unix:", 5) || !path[5]) {
		err_msg("%s %s: expected unix:PATH[,server=on|off][,wait=on|off]", what, s);
		ret = -EINVAL;
	}
	if (!ret)
		ret = bool_key(&kv, "server", what, &server);
	if (!ret)
		ret = bool_key(&kv, "wait", what, &wait);
	if (!ret)
		ret = keyval_check_unused(&kv, what);
	f = ret ? NULL : open_memstream(&buf, &size);
	if (f) {
		fprintf(f, "socket,id=%s,path=", id);
		put_value(f, path + 5);
		fprintf(f, ",server=%s", server ? "on" : "off");
		if (server)
			fprintf(f, ",wait=%s", wait ? "on" : "off");
		*out = own_text(c, f, &buf);
		if (!*out)
			ret = -ENOMEM;
	} else if (!ret) {
		ret = -ENOMEM;
	}
	keyval_free(&kv);
	return ret;
}

int cli_monitor_chardev(struct cli *c, const char *what, const char *s, const char *id,
			const char **out, const char **ref)
{
	static const char *const plain[] = { "stdio", "null", "pty" };
	char *buf;

	*out = *ref = NULL;
	if (!strncmp(s, "unix:", 5))
		return cli_unix_chardev(c, what, s, id, out);
	if (!strncmp(s, "chardev:", 8) && s[8]) {
		*ref = s + 8;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		if (!strcmp(s, plain[i]))
			return asprintf(&buf, "%s,id=%s", s, id) < 0 || !(*out = cli_own(c, buf)) ?
			       -ENOMEM : 0;
	if (!strncmp(s, "file:", 5) && s[5] && !strchr(s, ','))
		return asprintf(&buf, "file,id=%s,path=%s", id, s + 5) < 0 ||
		       !(*out = cli_own(c, buf)) ? -ENOMEM : 0;
	err_msg("%s %s: expected none, stdio, null, pty, file:PATH, unix:PATH[,server,nowait] "
		"or chardev:ID", what, s);
	return -EINVAL;
}

/* Adds @s to the list @list of @c (a -blockdev, -netdev or -device), at most MAX_OPTS. */
static int add_opt(const char *what, const char **list, unsigned *n, const char *s)
{
	if (!s)
		return -ENOMEM;
	if (*n >= MAX_OPTS) {
		err_msg("%s: at most %u -blockdev, -netdev and -device each", what, MAX_OPTS);
		return -EINVAL;
	}
	list[(*n)++] = s;
	return 0;
}

/*
 * cache=, as QEMU defines its modes (bdrv_parse_cache_mode): whether the
 * guest sees a volatile write cache it flushes (writeback), O_DIRECT
 * (direct) and whether flushes are ignored (no-flush).
 */
static const struct {
	const char *name;
	bool writeback, direct, no_flush;
} cache_modes[] = {
	{ "writeback", true, false, false },	/* QEMU's default */
	{ "none", true, true, false },
	{ "off", true, true, false },		/* QEMU's old name of none */
	{ "writethrough", false, false, false },
	{ "directsync", false, true, false },
	{ "unsafe", true, false, true },
};

int cli_drive_cache(const char *v, struct cli_cache *out)
{
	*out = (struct cli_cache){ .writeback = true };
	if (!v)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(cache_modes); i++) {
		if (strcmp(v, cache_modes[i].name))
			continue;
		out->writeback = cache_modes[i].writeback;
		out->direct = cache_modes[i].direct;
		out->no_flush = cache_modes[i].no_flush;
		return 0;
	}
	err_msg("-drive cache=%s: expected writeback, none, writethrough, directsync or unsafe",
		v);
	return -EINVAL;
}

/* cache= and then QEMU's single keys over it: cache.writeback=, cache.direct=, cache.no-flush=. */
static int drive_cache(struct keyval *kv, struct cli_cache *c)
{
	int wb, direct, no_flush, ret = cli_drive_cache(keyval_get(kv, "cache"), c);

	wb = c->writeback;
	direct = c->direct;
	no_flush = c->no_flush;
	if (!ret)
		ret = bool_key(kv, "cache.writeback", "-drive", &wb);
	if (!ret)
		ret = bool_key(kv, "cache.direct", "-drive", &direct);
	if (!ret)
		ret = bool_key(kv, "cache.no-flush", "-drive", &no_flush);
	c->writeback = wb;
	c->direct = direct;
	c->no_flush = no_flush;
	return ret;
}

static int drive_discard(const char *v, const char **out)
{
	if (!v || !strcmp(v, "ignore") || !strcmp(v, "off"))
		*out = "ignore";
	else if (!strcmp(v, "unmap") || !strcmp(v, "on"))
		*out = "unmap";
	else {
		err_msg("-drive discard=%s: expected ignore (off) or unmap (on)", v);
		return -EINVAL;
	}
	return 0;
}

struct drive {
	const char *file, *iface, *format, *id, *aio, *media;
	int ro;
	struct cli_cache cache;
	const char *discard;
};

static int drive_keys(struct keyval *kv, struct drive *d)
{
	int ret;

	d->file = keyval_get(kv, "file");
	d->iface = keyval_get(kv, "if");
	d->format = keyval_get(kv, "format");
	d->id = keyval_get(kv, "id");
	d->aio = keyval_get(kv, "aio");
	d->media = keyval_get(kv, "media");
	d->ro = 0;
	ret = bool_key(kv, "readonly", "-drive", &d->ro);
	if (!ret)
		ret = drive_cache(kv, &d->cache);
	if (!ret)
		ret = drive_discard(keyval_get(kv, "discard"), &d->discard);
	if (!ret)
		ret = cli_keys_check(kv, "-drive");
	if (ret)
		return ret;
	if (!d->iface) {
		err_msg("-drive: if=ide (QEMU's default) is not in ember: use if=virtio or if=none");
		return -EINVAL;
	}
	if (strcmp(d->iface, "virtio") && strcmp(d->iface, "none")) {
		err_msg("-drive if=%s: ember has only virtio disks (if=virtio or if=none)",
			d->iface);
		return -EINVAL;
	}
	if (d->format && strcmp(d->format, "raw") && strcmp(d->format, "qcow2")) {
		err_msg("-drive format=%s: ember reads raw and qcow2 images (format=raw or "
			"format=qcow2)", d->format);
		return -EINVAL;
	}
	if (d->media && strcmp(d->media, "disk")) {
		err_msg("-drive media=%s: ember has disks only (media=disk)", d->media);
		return -EINVAL;
	}
	/* QEMU's I/O engines; ember's is io_uring whatever is asked */
	if (d->aio && strcmp(d->aio, "threads") && strcmp(d->aio, "native") &&
	    strcmp(d->aio, "io_uring")) {
		err_msg("-drive aio=%s: expected threads, native or io_uring", d->aio);
		return -EINVAL;
	}
	if (!d->file || !d->file[0]) {
		err_msg("-drive: file= is required (ember has no removable media)");
		return -EINVAL;
	}
	return d->id ? id_check(d->id, "-drive") : 0;
}

/*
 * An if=none drive without a write cache: QEMU's device takes it from the
 * drive (write-cache=auto), so each of the first @ndev -device options
 * with drive=@id and no write-cache= gets write-cache=off.
 */
static int drive_write_through(struct cli *c, const char *id, unsigned ndev)
{
	for (unsigned i = 0; i < ndev; i++) {
		struct keyval kv;
		const char *drive;
		bool add;
		char *s;

		if (keyval_parse(c->device[i], "driver", "-device", &kv))
			continue;	/* device_check says why */
		drive = keyval_get(&kv, "drive");
		add = drive && !strcmp(drive, id) && !keyval_has(&kv, "write-cache");
		keyval_free(&kv);
		if (!add)
			continue;
		if (asprintf(&s, "%s,write-cache=off", c->device[i]) < 0 ||
		    !(c->device[i] = cli_own(c, s)))
			return -ENOMEM;
	}
	return 0;
}

/* One -drive: a raw node over a file node, named by id=; if=virtio adds its device. */
static int drive_one(struct cli *c, const char *s, unsigned *nvirtio, unsigned *nnone,
		     bool pci, unsigned ndev)
{
	struct keyval kv;
	struct drive d;
	char id[32], *buf;
	const char *opts;
	size_t size;
	FILE *f;
	int ret;

	ret = keyval_parse(s, NULL, "-drive", &kv);
	if (ret)
		return ret;
	ret = drive_keys(&kv, &d);
	if (ret)
		goto out;
	if (!d.id) {	/* QEMU's names */
		bool virtio = !strcmp(d.iface, "virtio");

		snprintf(id, sizeof(id), "%s%u", d.iface, virtio ? (*nvirtio)++ : (*nnone)++);
		d.id = id;
	}
	ret = -ENOMEM;
	if (!(f = open_memstream(&buf, &size)))
		goto out;
	fprintf(f, "driver=%s,node-name=", d.format ? d.format : "raw");
	put_value(f, d.id);
	fputs(",file.driver=file,file.filename=", f);
	put_value(f, d.file);
	fprintf(f, ",discard=%s%s%s%s", d.discard, d.ro ? ",read-only=on" : "",
		d.cache.direct ? ",file.cache.direct=on" : "",
		d.cache.no_flush ? ",cache.no-flush=on" : "");
	opts = own_text(c, f, &buf);
	ret = add_opt("-drive", c->blockdev, &c->nr_blockdev, opts);
	if (!ret && strcmp(d.iface, "virtio") && !d.cache.writeback)
		ret = drive_write_through(c, d.id, ndev);
	if (ret || strcmp(d.iface, "virtio"))
		goto out;
	ret = -ENOMEM;
	if (!(f = open_memstream(&buf, &size)))
		goto out;
	fprintf(f, "virtio-blk-%s,drive=", pci ? "pci" : "device");
	put_value(f, d.id);
	if (!d.cache.writeback)
		fputs(",write-cache=off", f);
	opts = own_text(c, f, &buf);
	ret = add_opt("-drive", c->device, &c->nr_device, opts);
out:
	keyval_free(&kv);
	return ret;
}

/* -nic TYPE,...: the netdev keys go to -netdev TYPE, model= and mac= to the device. */
static int nic_one(struct cli *c, const char *s, unsigned idx, bool pci)
{
	struct keyval kv;
	const char *model, *mac, *id, *opts;
	char *buf, idbuf[32];
	size_t size;
	FILE *f;
	int ret;

	ret = keyval_parse(s, "type", "-nic", &kv);
	if (ret)
		return ret;
	if (!kv.implied) {
		err_msg("-nic %s: no type given (e.g. -nic tap,ifname=tap0 or -nic user)", s);
		ret = -EINVAL;
		goto out;
	}
	if (!strcmp(kv.implied, "none")) {	/* QEMU: no default NIC; ember adds none anyway */
		ret = keyval_check_unused(&kv, "-nic none");
		goto out;
	}
	model = keyval_get(&kv, "model");
	mac = keyval_get(&kv, "mac");
	id = keyval_get(&kv, "id");
	if (model && strcmp(model, "virtio") && strcmp(model, "virtio-net-pci") &&
	    strcmp(model, "virtio-net-device")) {
		err_msg("-nic model=%s: ember's network card is virtio-net (model=virtio)", model);
		ret = -EINVAL;
		goto out;
	}
	if (!id) {
		snprintf(idbuf, sizeof(idbuf), "nic%u", idx);
		id = idbuf;
	}
	ret = -ENOMEM;
	if (!(f = open_memstream(&buf, &size)))
		goto out;
	put_value(f, kv.implied);
	fputs(",id=", f);
	put_value(f, id);
	for (unsigned i = 0; i < kv.n; i++) {
		if (kv.pairs[i].used)
			continue;
		fprintf(f, ",%s=", kv.pairs[i].key);
		put_value(f, kv.pairs[i].val);
	}
	if (kv.help)
		fputs(",help", f);
	opts = own_text(c, f, &buf);
	ret = add_opt("-nic", c->netdev, &c->nr_netdev, opts);
	if (ret)
		goto out;
	ret = -ENOMEM;
	if (!(f = open_memstream(&buf, &size)))
		goto out;
	fprintf(f, "virtio-net-%s,netdev=", pci ? "pci" : "device");
	put_value(f, id);
	if (mac) {
		fputs(",mac=", f);
		put_value(f, mac);
	}
	opts = own_text(c, f, &buf);
	ret = add_opt("-nic", c->device, &c->nr_device, opts);
out:
	keyval_free(&kv);
	return ret;
}

int cli_expand(struct cli *c, bool pci)
{
	unsigned nvirtio = 0, nnone = 0, ndev = c->nr_device;
	int ret;

	for (unsigned i = 0; i < c->nr_drive; i++)
		if ((ret = drive_one(c, c->drive[i], &nvirtio, &nnone, pci, ndev)))
			return ret;
	for (unsigned i = 0; i < c->nr_nic; i++)
		if ((ret = nic_one(c, c->nic[i], i, pci)))
			return ret;
	return 0;
}
