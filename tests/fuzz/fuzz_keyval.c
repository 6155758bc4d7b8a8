/* Arbitrary option strings through the parser and a small property table. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/props.h"

struct obj {
	char *name;
	bool flag;
	uint32_t base;
	uint64_t n;
	uint64_t size;
};

static const struct prop table[] = {
	{ "name", PROP_STR, offsetof(struct obj, name), "x", NULL },
	{ "flag", PROP_BOOL, offsetof(struct obj, flag), "off", NULL },
	{ "base", PROP_U32, offsetof(struct obj, base), "0x3f8", NULL, .min = 1, .max = 0xffff },
	{ "n", PROP_U64, offsetof(struct obj, n), NULL, NULL },
	{ "size", PROP_SIZE, offsetof(struct obj, size), "1M", NULL, .required = 1 },
	{ NULL }
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct keyval kv;
	struct obj o;
	uint64_t v;
	int b;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	log_set_quiet(1);

	if (!keyval_parse(s, "driver", "-device", &kv)) {
		memset(&o, 0, sizeof(o));
		if (props_set_defaults(table, &o, "-device f"))
			abort();
		if (!props_apply(table, &o, &kv, "-device f") &&
		    (o.base < 1 || o.base > 0xffff || !o.name))
			abort();
		props_free(table, &o);
		keyval_free(&kv);
	}
	if (!keyval_parse(s, NULL, "-x", &kv)) {
		if (kv.implied)
			abort();
		/* short booleans ("server", "nowait") never make an empty key */
		for (unsigned i = 0; i < kv.n; i++)
			if (!kv.pairs[i].key[0])
				abort();
		keyval_check_unused(&kv, "-x");
		keyval_free(&kv);
	}
	parse_u64(s, &v);
	parse_size(s, 1 << 20, &v);
	parse_bool(s, &b);
	free(s);
	return 0;
}
