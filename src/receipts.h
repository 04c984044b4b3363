/*-------------------------------------------------------------------------
 *
 * receipts.h
 *	  Witness cosignatures: a peer's signed receipt for a block of this
 *	  node's chain that it checked and keeps (docs/FORMAT.md, "Receipts").
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_RECEIPTS_H
#define MEDCHAIN_RECEIPTS_H

#include "postgres.h"

#include "block.h"

/* Most receipts one call of medchain.block_receipts() signs. */
#define MC_MAX_RECEIPTS 10000

typedef struct Receipt
{
	int64		height;
	uint8		block_hash[MC_HASH_LEN];
	uint8		cosigner_key[MC_SIGNER_KEY_LEN];
	uint8		signature[MC_SIGNATURE_LEN];
} Receipt;

/*
 * Keep a receipt a peer, known by peer_key, gave for this node's block:
 * NULL when it was kept (or was already), else why it was not (it is not
 * the peer's key, not this node's block at that height, or its signature
 * does not verify).  In SPI, as the caller's transaction.
 */
extern const char *receipt_accept(const uint8 peer_key[MC_SIGNER_KEY_LEN],
								  const uint8 chain_id[MC_HASH_LEN], const Receipt *receipt);

#endif							/* MEDCHAIN_RECEIPTS_H */
