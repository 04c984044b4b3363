/*-------------------------------------------------------------------------
 *
 * pow.c
 *	  The nonce search, in C inside the server.
 *
 * The header is 136 bytes with the nonce last (FORMAT.md).  SHA-256 works
 * on 64-byte blocks: the first two blocks (bytes 0-127) do not depend on
 * the nonce, so their compressed state (the midstate) is computed once.
 * The third block holds the 8 nonce bytes followed by SHA-256's padding
 * and the message length, both fixed; it is prepared once too.  Each
 * attempt then costs exactly one compression: write the nonce, run
 * OpenSSL's block function from the midstate, look at the first words.
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

StaticAssertDecl(MC_HEADER_LEN == 2 * SHA256_CBLOCK + 8,
				 "the nonce must fill the start of the header's third block");

/* The final block: nonce, 0x80, zeros, bit length of the header. */
static void
tail_block_init(uint8 tail[SHA256_CBLOCK])
{
	uint64		bits = pg_hton64((uint64) MC_HEADER_LEN * 8);

	memset(tail, 0, SHA256_CBLOCK);
	tail[8] = 0x80;
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

void
pow_search(BlockHeader *header, uint8 block_hash[MC_HASH_LEN])
{
	uint8		bytes[MC_HEADER_LEN];
	uint8		tail[SHA256_CBLOCK];
	SHA256_CTX	midstate;
	SHA256_CTX	attempt;
	uint64		nonce = 0;

	Assert(header->difficulty <= MC_MAX_DIFFICULTY);
	header->nonce = 0;
	block_header_encode(header, bytes);
	SHA256_Init(&midstate);
	SHA256_Update(&midstate, bytes, MC_HEADER_NONCE_OFFSET);
	tail_block_init(tail);

	for (;;)
	{
		uint64		stop = nonce + POW_ATTEMPTS_PER_CHECK;

		CHECK_FOR_INTERRUPTS();
		for (; nonce != stop; nonce++)
		{
			uint64		be = pg_hton64(nonce);

			memcpy(tail, &be, 8);
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
