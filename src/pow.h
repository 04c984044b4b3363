/*-------------------------------------------------------------------------
 *
 * pow.h
 *	  Proof-of-work: the nonce search over a block header.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_POW_H
#define MEDCHAIN_POW_H

#include "postgres.h"

#include "block.h"

/*
 * Find the first nonce, counting from 0, for which the header's hash has
 * at least header->difficulty leading zero bits; sets header->nonce and
 * writes the hash.  Honours query cancel and statement_timeout.
 */
extern void pow_search(BlockHeader *header, uint8 block_hash[MC_HASH_LEN]);

#endif							/* MEDCHAIN_POW_H */
