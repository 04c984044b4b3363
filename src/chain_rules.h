/*-------------------------------------------------------------------------
 *
 * chain_rules.h
 *	  The rules a chain of blocks obeys (docs/FORMAT.md, "Chain rules"),
 *	  in one place: verify(), verify_digest(), proofs anchored in a digest
 *	  and, later, the validation of peers' blocks all call these.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_CHAIN_RULES_H
#define MEDCHAIN_CHAIN_RULES_H

#include "postgres.h"

#include "block.h"

/* The block format seal() writes. */
#define MC_BLOCK_FORMAT_CURRENT 2

/* No known floor: the genesis block is not at hand. */
#define MC_FLOOR_UNKNOWN ((int64) -1)

/*
 * The chain's difficulty floor, fixed when its genesis block was sealed:
 * a version 2 genesis records it; a version 1 genesis's own difficulty is
 * its chain's floor (difficulty never falls along a chain).
 */
extern int64 chain_floor(const BlockHeader *genesis);

/*
 * Why a block fails the rules that concern it alone: a known format, a
 * difficulty in range and not below the floor (when known), a floor field
 * equal to the chain's, a header that hashes to block_hash, and a hash
 * with enough leading zero bits.  NULL when it holds.
 */
extern const char *block_integrity_problem(const BlockRow *row, int64 floor);

/* Why a block cannot be the genesis block; NULL when it can. */
extern const char *chain_genesis_problem(const BlockRow *genesis);

/*
 * Why next is not linked to prev: it is not at the next height, or its
 * prev_hash is not prev's block_hash.  NULL when it is.
 */
extern const char *chain_link_problem(const BlockRow *prev, const BlockRow *next);

/*
 * Why next, linked to prev, may not follow it: a lower difficulty, an
 * older format, another floor.  NULL when it may.
 */
extern const char *chain_step_problem(const BlockRow *prev, const BlockRow *next);

#endif							/* MEDCHAIN_CHAIN_RULES_H */
