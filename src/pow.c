/*-------------------------------------------------------------------------
 *
 * pow.c
 *	  The nonce search, in C inside the server.
 *
 * The header is 136 (version 1), 140 (version 2) or 172 (version 3) bytes
 * with the nonce last (FORMAT.md).  SHA-256 works on 64-byte blocks: the
 * first two blocks (bytes 0-127) do not depend on the nonce, so their
 * compressed state (the midstate) is computed once.  The third block holds
 * the rest of the header (8, 12 or 44 bytes), ending with the 8 nonce
 * bytes, then SHA-256's padding and the message length, all fixed but the
 * nonce; it is prepared once too.  Version 3's chain id and node id end in
 * that block, and leave room in it for the padding (44 + 1 + 8 <= 64): a
 * longer header would need a fourth block, and a second compression per
 * attempt.  Each attempt costs exactly one compression: write the nonce,
 * run OpenSSL's block function from the midstate, look at the first words.
 *
 * OpenSSL's SHA256_Transform is the block function (deprecated in OpenSSL
 * 3 in favour of EVP, which offers no midstate); on x86-64 it dispatches
 * to the SHA extensions when the CPU has them.
 *
 *-------------------------------------------------------------------------
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "postgres.h"

#include <openssl/sha.h>

#include "miscadmin.h"
#include "port/pg_bswap.h"

#include "pow.h"

/* Attempts between two CHECK_FOR_INTERRUPTS(): about a millisecond. */
#define POW_ATTEMPTS_PER_CHECK 16384

StaticAssertDecl(MC_HEADER_CONSTANT_PREFIX == 2 * SHA256_CBLOCK,
				 "the midstate covers the header's first two blocks");
StaticAssertDecl(MC_HEADER_MAX_LEN - MC_HEADER_CONSTANT_PREFIX + 1 + 8 <= SHA256_CBLOCK,
				 "the rest of the header and the padding fit in one block: one compression per nonce");

/* The final block: the header's last bytes, 0x80, zeros, bit length. */
static void
tail_block_init(uint8 tail[SHA256_CBLOCK], const uint8 *header, int len)
{
	int			rest = len - MC_HEADER_CONSTANT_PREFIX;
	uint64		bits = pg_hton64((uint64) len * 8);

	memset(tail, 0, SHA256_CBLOCK);
	memcpy(tail, header + MC_HEADER_CONSTANT_PREFIX, rest);
	tail[rest] = 0x80;
	memcpy(tail + SHA256_CBLOCK - 8, &bits, 8);
}

/*
 * Does the state (the digest as eight native 32-bit words) have enough
 * leading zero bits?  Difficulty is at most 64, so two words decide.
 */
static inline bool
meets_difficulty(const SHA256_CTX *state, uint32 difficulty)
{
	uint64		top = ((uint64) state->h[0] << 32) | state->h[1];

	return difficulty == 0 || (top >> (64 - difficulty)) == 0;
}

static void
state_to_digest(const SHA256_CTX *state, uint8 digest[MC_HASH_LEN])
{
	int			i;

	for (i = 0; i < 8; i++)
	{
		uint32		word = pg_hton32(state->h[i]);

		memcpy(digest + 4 * i, &word, 4);
	}
}

static void
openssl_check(int ok, const char *what)
{
	if (ok != 1)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("OpenSSL's %s failed", what),
				 errdetail("The proof-of-work search could not start."),
				 errhint("Check the server's OpenSSL installation.")));
}

void
pow_search(BlockHeader *header, uint8 block_hash[MC_HASH_LEN])
{
	uint8		bytes[MC_HEADER_MAX_LEN];
	uint8		tail[SHA256_CBLOCK];
	SHA256_CTX	midstate;
	SHA256_CTX	attempt;
	uint64		nonce = 0;
	int			len;
	int			nonce_at;

	Assert(header->difficulty <= MC_MAX_DIFFICULTY);
	header->nonce = 0;
	len = block_header_encode(header, bytes);
	nonce_at = len - 8 - MC_HEADER_CONSTANT_PREFIX;
	openssl_check(SHA256_Init(&midstate), "SHA256_Init");
	openssl_check(SHA256_Update(&midstate, bytes, MC_HEADER_CONSTANT_PREFIX), "SHA256_Update");
	tail_block_init(tail, bytes, len);

	for (;;)
	{
		uint64		stop = nonce + POW_ATTEMPTS_PER_CHECK;

		CHECK_FOR_INTERRUPTS();
		for (; nonce != stop; nonce++)
		{
			uint64		be = pg_hton64(nonce);

			memcpy(tail + nonce_at, &be, 8);
			memcpy(attempt.h, midstate.h, sizeof(attempt.h));
			SHA256_Transform(&attempt, tail);
			if (unlikely(meets_difficulty(&attempt, header->difficulty)))
			{
				header->nonce = nonce;
				state_to_digest(&attempt, block_hash);
				return;
			}
		}
		if (unlikely(nonce == 0))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("no nonce meets difficulty %u", header->difficulty),
					 errdetail("All 2^64 nonces were tried."),
					 errhint("Lower medchain.difficulty.")));
	}
}
