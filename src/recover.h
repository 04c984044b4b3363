/*-------------------------------------------------------------------------
 *
 * recover.h
 *	  Blocks of this node's chain taken back from a peer after a restore
 *	  from an old backup: their rows are lost, their entry hashes kept.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_RECOVER_H
#define MEDCHAIN_RECOVER_H

#include "postgres.h"

#include "block.h"

/*
 * The entry hashes medchain.recovered_blocks keeps for the block at a
 * height, in leaf order, palloc'd in the caller's context (*count of
 * them); NULL when the block was not recovered.
 */
extern uint8 (*recovered_block_leaves(int64 height, uint32 *count))[MC_HASH_LEN];

/*
 * Does the peer prove that it holds this node's chain above head: the
 * block it gives at the next height follows head, by the rules
 * recover_chain() applies?  NULL when it does, or when the link failed
 * (link->error says why); else why not.
 */
struct PeerLink;
extern const char *recover_next_block_problem(struct PeerLink *link,
											  const uint8 chain_id[MC_HASH_LEN],
											  const BlockRow *head);

#endif							/* MEDCHAIN_RECOVER_H */
