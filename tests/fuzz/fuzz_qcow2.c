/*
 * qcow2 images from the input bytes (in a memfd): opened writable without a
 * backing file, then reads, writes, discards and write-zeroes at offsets
 * drawn from the input.
 * Any image is refused with a message, or read and written without a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "backends/block_internal.h"
#include "lib/log.h"

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[65536];
	struct qcow2_backing_src none = { .mode = QCOW2_BACKING_NONE, .fd = -1 };
	struct qcow2 *q;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ size, vsize;
	int fd = memfd_create("fuzz-qcow2", MFD_CLOEXEC);

	log_set_quiet(1);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	for (size_t i = 0; i < size && i < 64; i++)
		seed = seed * 31 + data[size - 1 - i];
	if (!seed)
		seed = 1;
	if (!qcow2_open(&q, fd, "fuzz.qcow2", false, true, &none, "fuzz")) {
		vsize = qcow2_size(q);
		qcow2_set_discard(q, true);
		for (unsigned i = 0; vsize && i < 12; i++) {
			uint64_t off = next(&seed) % vsize;
			uint64_t len = next(&seed) % sizeof(buf) + 1;

			if (len > vsize - off)
				len = vsize - off;
			/* the first reads see the input's tables; writes then change them */
			if (i % 4 == 3) {
				memset(buf, i, len);
				qcow2_write(q, buf, len, off);
			} else if (i % 6 == 1) {
				qcow2_discard(q, len * 4 > vsize - off ? vsize - off : len * 4,
					      off);
			} else if (i % 6 == 4) {
				qcow2_write_zeroes(q, len, off, i % 12 == 4);
			} else {
				qcow2_read(q, buf, len, off);
			}
		}
		qcow2_close(q);
	}
	close(fd);
	return 0;
}
