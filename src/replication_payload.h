/*-------------------------------------------------------------------------
 *
 * replication_payload.h
 *	  The bytes a node sends its peers for one sealed block: the header,
 *	  its signature and the entry hashes in leaf order (docs/FORMAT.md,
 *	  "Replication payload").  Never a row, a row key, a relation name or
 *	  a user name.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_REPLICATION_PAYLOAD_H
#define MEDCHAIN_REPLICATION_PAYLOAD_H

#include "postgres.h"

#include "utils/rel.h"

#include "block.h"

#define MC_PAYLOAD_MAGIC "MCR1"

/* A block as a peer receives it; block_hash is computed from the header. */
typedef struct ReplicatedBlock
{
	BlockRow	row;
	uint8		(*entry_hashes)[MC_HASH_LEN];	/* header.entry_count of them */
} ReplicatedBlock;

extern bytea *replication_payload_encode(const BlockRow *row,
										 const uint8 (*entry_hashes)[MC_HASH_LEN]);

/* Errors unless an argument is a chain id: 32 bytes. */
extern void replication_chain_id_check(bytea *chain_id);

/*
 * The payload of this node's block at a height, as the active snapshot
 * sees it; NULL when there is no such block.  A block whose entries in
 * the journal no longer give its Merkle root is an error, not a payload.
 */
extern bytea *replication_payload_of_block(Relation journal, const AttrNumber *attnums,
										   int64 height);

/*
 * Decode a payload: NULL when it is one, else why not (nothing is
 * allocated beyond what its own length accounts for).
 */
extern const char *replication_payload_decode(const bytea *payload, ReplicatedBlock *block);

#endif							/* MEDCHAIN_REPLICATION_PAYLOAD_H */
