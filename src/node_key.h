/*-------------------------------------------------------------------------
 *
 * node_key.h
 *	  This node's Ed25519 key pair and block signatures (docs/FORMAT.md,
 *	  "Block signatures").
 *
 * The private key lives in a file (medchain.node_key_file), never in a
 * table and so never in a dump; it is read for each use and wiped after
 * it.  A node is known by the fingerprint of its public key: the SHA-256
 * of its 32 raw bytes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_NODE_KEY_H
#define MEDCHAIN_NODE_KEY_H

#include "postgres.h"

#include "block.h"

extern void node_key_define_settings(void);

/* The key file's path: medchain.node_key_file, from the data directory. */
extern char *medchain_node_key_path(void);

/*
 * Make sure this node has a usable key: create the key file if there is
 * none (atomically, mode 0600), and error if the one there cannot be used.
 * Needs no transaction and no database: a launcher may call it at startup.
 */
extern void medchain_node_key_ensure(void);

/* The node's public key, raw; the key is made first if there is none. */
extern void medchain_node_public_key(uint8 public_key[MC_SIGNER_KEY_LEN]);

/* The fingerprint of a public key: SHA-256 of its raw bytes. */
extern void medchain_key_fingerprint(const uint8 public_key[MC_SIGNER_KEY_LEN],
									 uint8 fingerprint[MC_HASH_LEN]);

/*
 * Sign a block with the node's key, which must still be `public_key` (the
 * key whose fingerprint the header names): errors otherwise.
 */
extern void medchain_node_sign_block(const uint8 public_key[MC_SIGNER_KEY_LEN],
									 const uint8 chain_id[MC_HASH_LEN], int64 height,
									 const uint8 block_hash[MC_HASH_LEN],
									 uint8 signature[MC_SIGNATURE_LEN]);

/*
 * Sign receipts for n blocks of a peer's chain with the node's key in one
 * reading of it (docs/FORMAT.md, "Receipts"); public_key is set to the key
 * that signed them.
 */
extern void medchain_node_sign_receipts(const uint8 chain_id[MC_HASH_LEN], int n,
										const int64 *heights,
										const uint8 (*block_hashes)[MC_HASH_LEN],
										uint8 (*signatures)[MC_SIGNATURE_LEN],
										uint8 public_key[MC_SIGNER_KEY_LEN]);

/*
 * Does the signature of a block, or of a receipt for one, verify under
 * public_key?  Never errors.
 */
extern bool medchain_signature_valid(SignedKind kind, const uint8 public_key[MC_SIGNER_KEY_LEN],
									 const uint8 chain_id[MC_HASH_LEN], int64 height,
									 const uint8 block_hash[MC_HASH_LEN],
									 const uint8 signature[MC_SIGNATURE_LEN]);

#endif							/* MEDCHAIN_NODE_KEY_H */
