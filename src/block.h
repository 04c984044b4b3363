/*-------------------------------------------------------------------------
 *
 * block.h
 *	  Block headers (docs/FORMAT.md, "Block header"), their hash and
 *	  proof-of-work, and the rows of medchain.blocks.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_BLOCK_H
#define MEDCHAIN_BLOCK_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

#include "sha256.h"

/*
 * Header layouts: version 1 is 136 bytes ("MCB1"), version 2 adds the
 * chain's difficulty floor and is 140 bytes ("MCB2").  The nonce comes
 * last in both, after the first 128 bytes: see pow.c.
 */
#define MC_HEADER_V1_LEN 136
#define MC_HEADER_V2_LEN 140
#define MC_HEADER_MAX_LEN MC_HEADER_V2_LEN
#define MC_HEADER_CONSTANT_PREFIX 128
#define MC_MAX_DIFFICULTY 64

typedef struct BlockHeader
{
	uint32		format_version;
	int64		height;
	uint8		prev_hash[MC_HASH_LEN];
	uint8		merkle_root[MC_HASH_LEN];
	TimestampTz sealed_at;
	uint32		entry_count;
	uint32		difficulty;
	uint32		min_difficulty; /* version 2: the floor fixed at genesis */
	uint8		node_id[MC_HASH_LEN];	/* SHA-256 of the node name */
	uint64		nonce;
} BlockHeader;

/* A row of medchain.blocks: the header plus what is stored beside it. */
typedef struct BlockRow
{
	BlockHeader header;
	char	   *node_name;
	uint8		block_hash[MC_HASH_LEN];
	int64		first_entry_id;
	int64		last_entry_id;
} BlockRow;

/* The header's bytes; returns their number. */
extern int	block_header_encode(const BlockHeader *header, uint8 out[MC_HEADER_MAX_LEN]);
extern void block_header_hash(const BlockHeader *header, uint8 out[MC_HASH_LEN]);
extern int	leading_zero_bits(const uint8 hash[MC_HASH_LEN]);
extern void block_node_id(const char *node_name, uint8 out[MC_HASH_LEN]);

extern void block_row_from_tuple(HeapTuple tuple, TupleDesc desc, BlockRow *row);
extern HeapTuple block_row_to_tuple(const BlockRow *row, TupleDesc desc);

/*
 * The chain's difficulty floor, from its genesis block as snapshot sees
 * it; MC_FLOOR_UNKNOWN (chain_rules.h) without one.
 */
extern int64 block_chain_floor(Snapshot snapshot);

/* The block at a height, or the highest one, as snapshot sees them. */
extern bool block_row_fetch(int64 height, Snapshot snapshot, BlockRow *row);
extern bool block_head(Snapshot snapshot, BlockRow *row);



#endif							/* MEDCHAIN_BLOCK_H */
