/*
 * virtio-balloon requests from arbitrary guest buffers: a chain of up to
 * 16 device-readable segments (lengths from the input, contents after
 * them, each a heap block of its exact size so ASan sees any read past
 * it) through the PFN reader, the run builder over a two-region gmem and
 * the statistics parser. Runs must lie inside guest RAM and account for
 * every PFN.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/gmem.h"
#include "lib/log.h"
#include "virtio/balloon.h"

static uint8_t lo[64 * 4096], hi[16 * 4096];
static struct gmem mem;
static struct virtq_elem e;
static uint32_t pfns[BALLOON_MAX_PFNS];
static struct balloon_run runs[BALLOON_MAX_PFNS];
static struct balloon_hp hp;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct balloon_stats st = { 0 };
	unsigned nseg, n, nr, bad;
	uint64_t pages = 0;

	log_set_quiet(1);
	if (!mem.nr) {
		gmem_add(&mem, 0, sizeof(lo), lo, -1, 0);
		gmem_add(&mem, 1ull << 32, sizeof(hi), hi, -1, 0);
		balloon_hp_init(&hp, 64 * 1024, gmem_end(&mem));
	}
	if (size < 1)
		return 0;
	nseg = data[0] % 17;
	data++;
	size--;
	memset(&e, 0, sizeof(e));
	for (unsigned i = 0; i < nseg && size >= 2; i++) {
		size_t len = (size_t)(data[0] | data[1] << 8) % 2048;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		e.iov[i].iov_base = malloc(len ? len : 1);
		e.iov[i].iov_len = len;
		memcpy(e.iov[i].iov_base, data, len);
		data += len;
		size -= len;
		e.out_num++;
		e.out_len += len;
	}
	n = balloon_read_pfns(&e, pfns, BALLOON_MAX_PFNS);
	if (n > BALLOON_MAX_PFNS || (uint64_t)n * 4 > e.out_len)
		__builtin_trap();
	nr = balloon_runs(&mem, pfns, n, runs, &bad);
	for (unsigned i = 0; i < nr; i++) {
		if (!runs[i].len || !gmem_ptr(&mem, runs[i].gpa, runs[i].len))
			__builtin_trap();
		pages += runs[i].len / BALLOON_PAGE;
		for (uint64_t a = runs[i].gpa; a < runs[i].gpa + runs[i].len; a += BALLOON_PAGE)
			balloon_hp_mark(&hp, a, pfns[0] & 1);
	}
	if (pages + bad != n || nr > n)
		__builtin_trap();
	if (balloon_parse_stats(&e, &st) * 10ull > e.out_len)
		__builtin_trap();
	for (unsigned i = 0; i < nseg && i < e.out_num; i++)
		free(e.iov[i].iov_base);
	return 0;
}
