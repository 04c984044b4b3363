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

#include "chain_keys.h"

/* The block format seal() writes. */
#define MC_BLOCK_FORMAT_CURRENT MC_BLOCK_FORMAT_SIGNED

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

/*
 * Why a block's signature does not hold: a version 3 block without a
 * signer key and a signature of the right sizes, whose signer key is not
 * the one its node_id names, or whose signature does not verify over its
 * chain id, height and hash; an unsigned block that carries either.  NULL
 * when it holds.
 */
extern const char *block_signature_problem(const BlockRow *row);

/*
 * Why the chain does not let a version 3 block's signer sign it: no
 * node_key event sealed at or below the block announces the key (then
 * *retired is false), or a retire_node_key event sealed at or below it
 * retired the key (*retired is true).  NULL when it may.
 */
extern const char *block_signer_problem(const BlockRow *row, const ChainKeys *keys,
										bool *retired);

/* Why a block cannot be the genesis block; NULL when it can. */
extern const char *chain_genesis_problem(const BlockRow *genesis);

/*
 * Why a version 3 block above genesis does not name the chain whose
 * genesis block hash is chain_id; NULL when it does (or is unsigned).
 */
extern const char *chain_id_problem(const BlockRow *row, const uint8 chain_id[MC_HASH_LEN]);

/*
 * Why a block may not be unsigned: it is of a format before 3, above the
 * signed block at signed_height.  NULL when it may.
 */
extern const char *chain_unsigned_problem(int64 signed_height, const BlockRow *row);

/*
 * The lowest block that seals an announcement of one of the chain's
 * keys, or -1: the chain is signed from there on (a key is announced in
 * the first block it signs).
 */
extern int64 chain_signed_from(const ChainKeys *keys);

/*
 * Why a block may not be unsigned: it is of a format before 3, at or
 * above the block at announced_height (from chain_signed_from()), which
 * seals a key's announcement.  NULL when it may.
 */
extern const char *chain_announced_unsigned_problem(int64 announced_height, const BlockRow *row);

/*
 * Why next is not linked to prev: it is not at the next height, or its
 * prev_hash is not prev's block_hash.  NULL when it is.
 */
extern const char *chain_link_problem(const BlockRow *prev, const BlockRow *next);

/*
 * Why next, linked to prev, may not follow it: a lower difficulty, an
 * older format (an unsigned block after a signed one is left to
 * chain_unsigned_problem), another floor, another chain id.  NULL when it
 * may.
 */
extern const char *chain_step_problem(const BlockRow *prev, const BlockRow *next);

/*
 * For callers that need a yes or no rather than findings (digests,
 * proofs): every rule of a block alone, its signature included; every
 * rule of two consecutive blocks.  NULL when they hold.
 */
extern const char *block_problem(const BlockRow *row, int64 floor);
extern const char *chain_next_problem(const BlockRow *prev, const BlockRow *next);

/*
 * Why a block does not stand in its chain by the rules of a block alone,
 * its chain id (when the genesis hash is known; NULL otherwise) and its
 * signer's standing in the chain's keys.  NULL when it does.
 */
extern const char *block_standing_problem(const BlockRow *row, int64 floor,
										  const uint8 *chain_id, const ChainKeys *keys);

/*
 * Why a block received from a peer cannot follow prev in the chain whose
 * id is chain_id (prev NULL: it must be that chain's genesis block): the
 * rules of two consecutive blocks, the chain id, and every rule of the
 * block alone, its signature included.  NULL when it can.  Whether its
 * signer may sign for the chain is the receiver's to judge: a peer knows
 * the keys it registered, not the origin's journal.
 */
extern const char *chain_received_problem(const BlockRow *prev, const BlockRow *row,
										  int64 floor, const uint8 chain_id[MC_HASH_LEN]);

#endif							/* MEDCHAIN_CHAIN_RULES_H */
