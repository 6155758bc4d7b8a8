/*
 * QEMU-style option strings: "driver,key=value,key2=value2".
 * A first element without '=' is the value of the implied key (the driver or
 * back-end type). ",," stands for a literal comma inside a value. "help" or
 * "?" as an element asks for help. Any other bare element is one of QEMU's
 * short booleans: "server" is server=on, "nowait" is wait=off.
 */
#ifndef EMBER_KEYVAL_H
#define EMBER_KEYVAL_H

#include <stdbool.h>

struct kv_pair {
	char *key;
	char *val;
	bool used;
};

struct keyval {
	char *implied;		/* value of the implied key, or NULL */
	struct kv_pair *pairs;
	unsigned n;
	bool help;
};

/*
 * Parses @s. @what names the option in messages ("-device"). On error prints
 * one line naming the problem and returns -EINVAL; @out is then empty.
 * @implied_key: name of the key a leading bare value belongs to (e.g.
 * "driver"), or NULL if a bare leading value is not allowed. A key given
 * twice is an error, but for QEMU's list keys (hostfwd), kept in order.
 */
int keyval_parse(const char *s, const char *implied_key, const char *what,
		 struct keyval *out);
/* Looks up @key and marks it used; NULL if absent. */
const char *keyval_get(struct keyval *kv, const char *key);
bool keyval_has(const struct keyval *kv, const char *key);
/* Errors (-EINVAL, one message) on the first key never looked up. */
int keyval_check_unused(const struct keyval *kv, const char *what);
void keyval_free(struct keyval *kv);

#endif
