/*-------------------------------------------------------------------------
 *
 * chain_keys.h
 *	  The node keys a chain knows, from its own events (docs/FORMAT.md,
 *	  "Node key events"): a key may sign blocks from the block that seals
 *	  its node_key event on, until the block that seals its retire_node_key
 *	  event.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_CHAIN_KEYS_H
#define MEDCHAIN_CHAIN_KEYS_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

#include "block.h"
#include "journal.h"

/* The events of the chain itself are events of medchain.blocks. */
#define MC_CHAIN_EVENTS_SCHEMA "medchain"
#define MC_CHAIN_EVENTS_TABLE "blocks"
#define MC_CHAIN_EVENTS_RELATION "medchain.blocks"

#define MC_ACTION_NODE_KEY "node_key"
#define MC_ACTION_RETIRE_NODE_KEY "retire_node_key"

typedef struct ChainKey
{
	uint8		fingerprint[MC_HASH_LEN];
	uint8		public_key[MC_SIGNER_KEY_LEN];
	int64		announced_height;	/* lowest block sealing a node_key event, or -1 */
	int64		retired_height; /* lowest block sealing a retirement, or -1 */
	int64		retire_entry_id;	/* that retirement (or a pending one), or 0 */
	char	   *retire_reason;
} ChainKey;

typedef struct ChainKeys
{
	List	   *keys;			/* of ChainKey * */
} ChainKeys;

/*
 * The keys the chain's events name, as snapshot sees them: sealed events
 * give heights, pending retirements count as retirements (with no height).
 * Events whose detail is not what medchain writes are skipped; one altered
 * behind medchain's back is verify()'s finding, not a key.
 */
extern ChainKeys *chain_keys_load(Relation journal, const AttrNumber *attnums,
								  Snapshot snapshot);

extern ChainKey *chain_keys_find(const ChainKeys *keys, const uint8 fingerprint[MC_HASH_LEN]);

/* The chain's events are named so: medchain.blocks. */
extern void chain_events_name(LedgerName *name);

/*
 * The node_key event that announces public_key, under the node's name,
 * as a record for journal_append_sealed(); row_hash is the record's.
 */
extern void chain_keys_announcement(JournalRecord *record, LedgerName *name,
									const uint8 public_key[MC_SIGNER_KEY_LEN],
									uint8 row_hash[MC_HASH_LEN]);

#endif							/* MEDCHAIN_CHAIN_KEYS_H */
