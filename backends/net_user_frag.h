/* IPv4 reassembly in front of libslirp: see net_user_frag.c for why. */
#ifndef EMBER_NET_USER_FRAG_H
#define EMBER_NET_USER_FRAG_H

#include <stddef.h>
#include <stdint.h>

#define FRAG_SLOTS 4			/* datagrams being reassembled at once */
#define FRAG_MAX_IP 65535		/* an IPv4 datagram's largest total length */
#define FRAG_TIMEOUT_NS 5000000000LL	/* a datagram's fragments must all come within */

struct frag_slot;

struct frag_table {
	struct frag_slot *slot[FRAG_SLOTS];
	uint8_t *out;			/* the last whole frame, until the next call */
	uint64_t dropped;		/* fragments and datagrams given up */
};

enum frag_result {
	FRAG_PASS,	/* not an IPv4 fragment: hand the frame on as it is */
	FRAG_HELD,	/* a fragment, kept until its datagram is whole */
	FRAG_WHOLE,	/* this fragment completed a datagram: *out, *out_len */
	FRAG_DROP,	/* a malformed fragment, or one its datagram cannot take */
};

enum frag_result frag_input(struct frag_table *t, const uint8_t *frame, size_t len,
			    int64_t now_ns, const uint8_t **out, size_t *out_len);
void frag_free(struct frag_table *t);

#endif
