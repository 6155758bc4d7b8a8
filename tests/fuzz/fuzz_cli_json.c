/*
 * QEMU's JSON option form (vmm/cli_json.c): arbitrary text in, and what
 * comes out must parse as keyval and hold no key twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/keyval.h"
#include "lib/log.h"
#include "vmm/cli_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *out = NULL;
	struct keyval kv;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	log_set_quiet(1);
	if (!cli_json_to_keyval(s, "-device", &out)) {
		/* "a.b" and {"a":{"b":..}} meet: "given twice" is the one error allowed */
		if (keyval_parse(out, "driver", "-device", &kv) &&
		    !strstr(log_last(), "given twice") &&
		    !strstr(log_last(), "out of memory"))
			abort();
		keyval_free(&kv);
		free(out);
	} else if (out) {
		abort();
	}
	free(s);
	return 0;
}
