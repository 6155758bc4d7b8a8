/*
 * Shared by the stateful fuzzers that decode their input as a sequence of
 * operations: a cursor over the bytes that hands out fixed-size operands
 * and says when the input has run out (which ends the sequence).
 */
#ifndef EMBER_FUZZ_OPS_H
#define EMBER_FUZZ_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct in {
	const uint8_t *p;
	size_t n;
};

static inline bool take(struct in *in, void *out, size_t len)
{
	if (in->n < len)
		return false;
	memcpy(out, in->p, len);
	in->p += len;
	in->n -= len;
	return true;
}

#endif
