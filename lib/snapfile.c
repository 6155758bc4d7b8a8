/* The snapshot state file: building it, and checking one before a restore. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/snapfile.h"

static const char magic[8] = "EMBERSNP";

/*
 * zlib's CRC-32, bit by bit: the state file is small (guest RAM is in its
 * own file), and every unit and fuzz build that links a device's save op
 * would otherwise need zlib.
 */
static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

static void put(struct snapw *w, const void *p, size_t n)
{
	if (w->err)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		uint8_t *q;

		while (cap < w->len + n)
			cap *= 2;
		q = realloc(w->p, cap);
		if (!q) {
			w->err = -ENOMEM;
			return;
		}
		w->p = q;
		w->cap = cap;
	}
	if (n)	/* memcpy may not take NULL, even for 0 bytes */
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void put_le(struct snapw *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = v >> (8 * i);
	put(w, b, n);
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void snapw_init(struct snapw *w, const char *machine, uint64_t mem_size)
{
	char m[SNAP_MACHINE_MAX + 1] = { 0 };

	memset(w, 0, sizeof(*w));
	if (strlen(machine) > SNAP_MACHINE_MAX)
		w->err = -EINVAL;
	strncpy(m, machine, SNAP_MACHINE_MAX);
	put(w, magic, sizeof(magic));
	put_le(w, SNAP_VERSION, 4);
	put_le(w, 0, 4);	/* nsect, patched */
	put_le(w, 0, 8);	/* file_len, patched */
	put_le(w, mem_size, 8);
	put(w, m, sizeof(m));
}

void snapw_begin(struct snapw *w, const char *name)
{
	size_t nl = strlen(name);

	if (!nl || nl > SNAP_NAME_MAX || w->open) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	put_le(w, nl, 2);
	put(w, name, nl);
	w->open = w->len;
	put_le(w, 0, 4);	/* the length, patched by snapw_end */
	w->nsect++;
}

void snapw_put(struct snapw *w, const void *data, size_t len)
{
	put(w, data, len);
}

void snapw_end(struct snapw *w)
{
	size_t len = w->len - w->open - 4;

	if (!w->open || w->err) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	if (len > UINT32_MAX)
		w->err = -EINVAL;
	for (int i = 0; i < 4; i++)
		w->p[w->open + i] = len >> (8 * i);
	w->open = 0;
}

void snapw_add(struct snapw *w, const char *name, const void *data, size_t len)
{
	snapw_begin(w, name);
	snapw_put(w, data, len);
	snapw_end(w);
}

int snapw_finish(struct snapw *w)
{
	uint64_t total = w->len + 4;

	if (!w->err && w->open)
		w->err = -EINVAL;
	if (w->err)
		return w->err;
	for (int i = 0; i < 4; i++)
		w->p[12 + i] = w->nsect >> (8 * i);
	for (int i = 0; i < 8; i++)
		w->p[16 + i] = total >> (8 * i);
	put_le(w, crc32(0, w->p, w->len), 4);
	return w->err;
}

void snapw_free(struct snapw *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

int snap_parse(struct snap *s, const uint8_t *d, size_t len)
{
	uint64_t total;
	size_t off = SNAP_HDR_SIZE;

	memset(s, 0, sizeof(*s));
	if (len < sizeof(magic) || memcmp(d, magic, sizeof(magic))) {
		err_msg("state file: not an ember state file (no EMBERSNP magic)");
		return -EINVAL;
	}
	if (len < SNAP_HDR_SIZE) {
		err_msg("state file: truncated (%zu bytes, the header alone is %d)", len,
			SNAP_HDR_SIZE);
		return -EINVAL;
	}
	s->version = get_le(d + 8, 4);
	if (s->version != SNAP_VERSION) {
		err_msg("state file: version %u, this ember reads version %u", s->version,
			SNAP_VERSION);
		return -EINVAL;
	}
	s->nsect = get_le(d + 12, 4);
	total = get_le(d + 16, 8);
	s->mem_size = get_le(d + 24, 8);
	if (total > len) {
		err_msg("state file: truncated (%zu of %llu bytes)", len,
			(unsigned long long)total);
		return -EINVAL;
	}
	if (total < len || total < SNAP_HDR_SIZE + 4) {
		err_msg("state file: corrupt (length %llu in the header, %zu in the file)",
			(unsigned long long)total, len);
		return -EINVAL;
	}
	if (get_le(d + len - 4, 4) != crc32(0, d, len - 4)) {
		err_msg("state file: corrupt (checksum mismatch)");
		return -EINVAL;
	}
	memcpy(s->machine, d + 32, SNAP_MACHINE_MAX);
	s->machine[SNAP_MACHINE_MAX] = '\0';
	if (s->nsect > (len - off) / 6) {
		err_msg("state file: corrupt (%u sections in %zu bytes)", s->nsect, len);
		return -EINVAL;
	}
	s->sect = calloc(s->nsect ? s->nsect : 1, sizeof(*s->sect));
	if (!s->sect)
		return -ENOMEM;
	len -= 4;
	for (unsigned i = 0; i < s->nsect; i++) {
		struct snap_sect *c = &s->sect[i];
		size_t nl;

		if (len - off < 2 || (nl = get_le(d + off, 2)) == 0 || len - off - 2 < nl + 4) {
			err_msg("state file: corrupt (section %u runs past the end)", i);
			goto bad;
		}
		memcpy(c->name, d + off + 2, nl);
		c->name[nl] = '\0';
		if (strlen(c->name) != nl) {
			err_msg("state file: corrupt (section %u has a bad name)", i);
			goto bad;
		}
		off += 2 + nl;
		c->len = get_le(d + off, 4);
		off += 4;
		if (c->len > len - off) {
			err_msg("state file: corrupt (section %s runs past the end)", c->name);
			goto bad;
		}
		c->data = d + off;
		off += c->len;
	}
	if (off != len) {
		err_msg("state file: corrupt (%zu bytes after the last section)", len - off);
		goto bad;
	}
	return 0;
bad:
	snap_free(s);
	return -EINVAL;
}

int snap_match(const struct snap *s, const char *machine, uint64_t mem_size,
	       const char *const *names, unsigned n)
{
	unsigned i;

	if (strcmp(s->machine, machine)) {
		err_msg("state file: machine type %s, this machine is %s", s->machine, machine);
		return -EINVAL;
	}
	if (s->mem_size != mem_size) {
		err_msg("state file: -m %lluM, this machine has -m %lluM",
			(unsigned long long)(s->mem_size >> 20),
			(unsigned long long)(mem_size >> 20));
		return -EINVAL;
	}
	for (i = 0; i < s->nsect && i < n; i++) {
		if (strcmp(s->sect[i].name, names[i])) {
			err_msg("state file: has %s where this machine has %s (different devices)",
				s->sect[i].name, names[i]);
			return -EINVAL;
		}
	}
	if (i < s->nsect) {
		err_msg("state file: has %s, which this machine does not", s->sect[i].name);
		return -EINVAL;
	}
	if (i < n) {
		err_msg("state file: has no %s, which this machine has", names[i]);
		return -EINVAL;
	}
	return 0;
}

const struct snap_sect *snap_find(const struct snap *s, const char *name)
{
	for (unsigned i = 0; i < s->nsect; i++)
		if (!strcmp(s->sect[i].name, name))
			return &s->sect[i];
	return NULL;
}

void snap_free(struct snap *s)
{
	free(s->sect);
	s->sect = NULL;
	s->nsect = 0;
}
