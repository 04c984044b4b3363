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
 * chain's difficulty floor and is 140 bytes ("MCB2"), version 3 adds the
 * chain id and names the node by its key and is 172 bytes ("MCB3").  The
 * nonce comes last in all three, after the first 128 bytes: see pow.c.
 */
#define MC_HEADER_V1_LEN 136
#define MC_HEADER_V2_LEN 140
#define MC_HEADER_V3_LEN 172
#define MC_HEADER_MAX_LEN MC_HEADER_V3_LEN
#define MC_HEADER_CONSTANT_PREFIX 128
#define MC_MAX_DIFFICULTY 64

/* The first block format that is signed. */
#define MC_BLOCK_FORMAT_SIGNED 3

/* Raw Ed25519 sizes (node_key.h has them too, for its callers). */
#define MC_SIGNER_KEY_LEN 32
#define MC_SIGNATURE_LEN 64

/*
 * The message a version 3 block's signature covers: the domain string and
 * its NUL, the chain id, the height as u64, the block hash.
 */
#define MC_SIGNATURE_DOMAIN "MEDCHAIN-BLOCK-SIGNATURE-V1"
#define MC_SIGNATURE_MESSAGE_LEN (sizeof(MC_SIGNATURE_DOMAIN) + MC_HASH_LEN + 8 + MC_HASH_LEN)

/*
 * The message a peer's receipt for a block covers (a witness cosignature):
 * the same fields under another domain string, so that neither can pass
 * for the other.
 */
#define MC_RECEIPT_DOMAIN "MEDCHAIN-BLOCK-RECEIPT-V1"
#define MC_RECEIPT_MESSAGE_LEN (sizeof(MC_RECEIPT_DOMAIN) + MC_HASH_LEN + 8 + MC_HASH_LEN)

/* What a node's key signs: a block it sealed, or a receipt for a peer's. */
typedef enum SignedKind
{
	SIGNED_BLOCK,
	SIGNED_RECEIPT
} SignedKind;

#define MC_SIGNED_MESSAGE_MAX_LEN Max(MC_SIGNATURE_MESSAGE_LEN, MC_RECEIPT_MESSAGE_LEN)

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
	uint8		chain_id[MC_HASH_LEN];	/* version 3: the genesis block's
										 * block_hash; zeros in genesis */
	uint8		node_id[MC_HASH_LEN];	/* SHA-256 of the node name; version 3:
										 * of the signer's public key */
	uint64		nonce;
} BlockHeader;

/*
 * A row of medchain.blocks: the header plus what is stored beside it.  A
 * version 3 block's signer key and signature are not part of the header
 * (the signature covers its hash); their stored lengths are kept, -1 for
 * NULL, and the bytes only when the length is right.
 */
typedef struct BlockRow
{
	BlockHeader header;
	char	   *node_name;
	uint8		block_hash[MC_HASH_LEN];
	int64		first_entry_id;
	int64		last_entry_id;
	int			signer_key_len;
	uint8		signer_key[MC_SIGNER_KEY_LEN];
	int			signature_len;
	uint8		signature[MC_SIGNATURE_LEN];
} BlockRow;

/* The header's bytes; returns their number. */
extern int	block_header_encode(const BlockHeader *header, uint8 out[MC_HEADER_MAX_LEN]);
/*
 * The header that bytes[0..len) encode (block_header_encode()'s inverse):
 * NULL when they are one, else why not.
 */
extern const char *block_header_decode(const uint8 *bytes, int len, BlockHeader *header);
extern void block_header_hash(const BlockHeader *header, uint8 out[MC_HASH_LEN]);
extern int	leading_zero_bits(const uint8 hash[MC_HASH_LEN]);
extern void block_node_id(const char *node_name, uint8 out[MC_HASH_LEN]);

/*
 * The id of the chain a block is on: a version 3 header's chain_id, or
 * the block's own hash for a genesis block, whose chain_id is zeros.
 */
extern void block_chain_id(const BlockRow *row, uint8 out[MC_HASH_LEN]);

/*
 * The bytes a version 3 block's signature, or a receipt for a block,
 * covers; returns their length.
 */
extern int	block_signed_message(SignedKind kind, const uint8 chain_id[MC_HASH_LEN], int64 height,
								 const uint8 block_hash[MC_HASH_LEN],
								 uint8 out[MC_SIGNED_MESSAGE_MAX_LEN]);

extern bool block_table_signed(TupleDesc desc);
extern void block_row_from_tuple(HeapTuple tuple, TupleDesc desc, BlockRow *row);
extern HeapTuple block_row_to_tuple(const BlockRow *row, TupleDesc desc);

/*
 * The chain's difficulty floor, from its genesis block as snapshot sees
 * it; MC_FLOOR_UNKNOWN (chain_rules.h) without one.
 */
extern int64 block_chain_floor(Snapshot snapshot);

/* The chain's id (its genesis block's hash) as snapshot sees it; false without genesis. */
extern bool block_chain_id_of_chain(Snapshot snapshot, uint8 out[MC_HASH_LEN]);

/* The block at a height, or the highest one, as snapshot sees them. */
extern bool block_row_fetch(int64 height, Snapshot snapshot, BlockRow *row);
extern bool block_head(Snapshot snapshot, BlockRow *row);

#endif							/* MEDCHAIN_BLOCK_H */
