/*-------------------------------------------------------------------------
 *
 * digest.h
 *	  Digests: reading one, and matching it with a block header; proofs
 *	  anchored in a trusted digest use these too.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_DIGEST_H
#define MEDCHAIN_DIGEST_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "block.h"

/*
 * Check that a digest is well-formed (errors otherwise) and return the
 * height it names; *floor is its min_difficulty, or MC_FLOOR_UNKNOWN.
 */
extern int64 digest_height(Jsonb *digest, int64 *floor);

/* Does the block match every member the digest gives (but the floor)? */
extern bool digest_matches_block(Jsonb *digest, const BlockRow *block);

#endif							/* MEDCHAIN_DIGEST_H */
