/* Arbitrary state files through the parser and the machine comparison. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/log.h"
#include "lib/snapfile.h"

static const char *const names[] = { "cpu0", "vm", "serial/com0" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap s;
	unsigned sum = 0;

	log_set_quiet(1);
	if (snap_parse(&s, data, size))
		return 0;
	for (unsigned i = 0; i < s.nsect; i++) {
		const struct snap_sect *c = snap_find(&s, s.sect[i].name);

		for (uint32_t j = 0; j < c->len; j++)
			sum += c->data[j];
	}
	snap_match(&s, "pc", 256 << 20, names, 3);
	snap_free(&s);
	return sum == 0xdeadbeef;
}
