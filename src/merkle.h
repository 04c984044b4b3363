/*-------------------------------------------------------------------------
 *
 * merkle.h
 *	  RFC 6962 Merkle tree hashing over a block's entry hashes
 *	  (docs/FORMAT.md, "Merkle tree").
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_MERKLE_H
#define MEDCHAIN_MERKLE_H

#include "postgres.h"

#include "sha256.h"

/* A tree of 2^62 leaves is beyond any block; the stack never overflows. */
#define MC_MERKLE_MAX_DEPTH 64

/* Leaves a builder holds back, to hash them as one perfect subtree. */
#define MC_MERKLE_BATCH 32

/*
 * Root of a tree whose leaves arrive one at a time, in order, in O(log n)
 * memory: the stack holds the roots of the perfect subtrees seen so far,
 * largest first.  Entry hashes wait in `pending` until MC_MERKLE_BATCH of
 * them have come; their subtree is then hashed level by level, two
 * hashes at a time (mc_sha256_x2), and goes onto the stack whole.
 */
typedef struct MerkleBuilder
{
	uint64		leaves;			/* entries added, pending ones included */
	int			depth;
	uint8		stack[MC_MERKLE_MAX_DEPTH][MC_HASH_LEN];
	uint64		sizes[MC_MERKLE_MAX_DEPTH];
	int			npending;
	uint8		pending[MC_MERKLE_BATCH][MC_HASH_LEN];	/* entry hashes */
} MerkleBuilder;

extern void merkle_leaf_hash(const uint8 entry_hash[MC_HASH_LEN], uint8 out[MC_HASH_LEN]);
extern void merkle_node_hash(const uint8 left[MC_HASH_LEN], const uint8 right[MC_HASH_LEN],
							 uint8 out[MC_HASH_LEN]);

extern void merkle_begin(MerkleBuilder *builder);
extern void merkle_add_entry(MerkleBuilder *builder, const uint8 entry_hash[MC_HASH_LEN]);
extern void merkle_root(const MerkleBuilder *builder, uint8 root[MC_HASH_LEN]);
/* Whether these entry hashes, in leaf order, give this Merkle root. */
extern bool merkle_root_matches(const uint8 (*entry_hashes)[MC_HASH_LEN], uint64 count,
								const uint8 root[MC_HASH_LEN]);

/*
 * Audit path of leaf `index` among `count` leaves (RFC 6962, 2.1.1), from
 * the leaf's sibling up; leaves[] are the leaf hashes.  Returns the number
 * of hashes written to path (at most MC_MERKLE_MAX_DEPTH).
 */
extern int	merkle_audit_path(const uint8 (*leaves)[MC_HASH_LEN], uint64 count,
							  uint64 index, uint8 (*path)[MC_HASH_LEN]);

/* Root implied by a leaf hash, its index, the tree size and its audit path. */
extern bool merkle_root_from_path(const uint8 leaf[MC_HASH_LEN], uint64 index,
								  uint64 count, const uint8 (*path)[MC_HASH_LEN],
								  int path_length, uint8 root[MC_HASH_LEN]);

#endif							/* MEDCHAIN_MERKLE_H */
