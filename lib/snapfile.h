/*
 * The state file of a snapshot (QMP migrate file:): a header that describes
 * the machine, then one section per vCPU, VM part and device, then a CRC.
 * All numbers little-endian:
 *
 *   "EMBERSNP"  u32 version  u32 nsect  u64 file_len  u64 mem_size
 *   char machine[16]
 *   nsect times: u16 name_len, name, u32 len, payload
 *   u32 crc32 of everything before it
 *
 * The set and order of section names is the machine's device list: a
 * restore compares it with its own (snap_match).
 */
#ifndef EMBER_SNAPFILE_H
#define EMBER_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_VERSION 1
#define SNAP_HDR_SIZE 48
#define SNAP_MACHINE_MAX 15
#define SNAP_NAME_MAX 255

struct snap_sect {
	char name[SNAP_NAME_MAX + 1];
	const uint8_t *data;	/* into the parsed buffer */
	uint32_t len;
};

struct snap {
	uint32_t version;
	uint64_t mem_size;
	char machine[SNAP_MACHINE_MAX + 1];
	unsigned nsect;
	struct snap_sect *sect;
};

/* A state file being built in memory. Errors stick: snapw_finish reports. */
struct snapw {
	uint8_t *p;
	size_t len, cap;
	unsigned nsect;
	size_t open;		/* offset of the open section's length, 0: none */
	int err;
};

void snapw_init(struct snapw *w, const char *machine, uint64_t mem_size);
void snapw_add(struct snapw *w, const char *name, const void *data, size_t len);
/* A section made of parts: snapw_begin, snapw_put..., snapw_end. */
void snapw_begin(struct snapw *w, const char *name);
void snapw_put(struct snapw *w, const void *data, size_t len);
void snapw_end(struct snapw *w);
/* Patches the header and appends the CRC; 0 or -ENOMEM/-EINVAL. */
int snapw_finish(struct snapw *w);
void snapw_free(struct snapw *w);

/*
 * Checks and indexes @data (which must outlive @s). Truncated, corrupt or
 * other-version input: -EINVAL and one message starting "state file: ".
 */
int snap_parse(struct snap *s, const uint8_t *data, size_t len);
/*
 * Compares the file's machine with this one's: machine type, memory size,
 * and the section names in order. -EINVAL and one message naming the first
 * difference.
 */
int snap_match(const struct snap *s, const char *machine, uint64_t mem_size,
	       const char *const *names, unsigned n);
const struct snap_sect *snap_find(const struct snap *s, const char *name);
void snap_free(struct snap *s);

#endif
