/*-------------------------------------------------------------------------
 *
 * provenance.h
 *	  Where a recorded row came from and how well it is proven: the
 *	  columns that provenance() and history() share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_PROVENANCE_H
#define MEDCHAIN_PROVENANCE_H

#include "postgres.h"

#include "access/htup.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

#include "journal.h"

/*
 * What a query learns once about the chain: the head, the peers' heights
 * and, per block met, its hash, time and cosignatures.  Built on first
 * use and kept for the rest of the query (its snapshot does not change).
 */
typedef struct ChainFacts
{
	MemoryContext cxt;
	Snapshot	snapshot;
	int64		head_height;	/* -1: no block yet */
	int			npeers;
	int64	   *peer_heights;	/* how much of this chain each peer holds */
	struct HTAB *blocks;		/* height -> BlockFacts */
} ChainFacts;

extern ChainFacts *chain_facts_create(MemoryContext cxt, Snapshot snapshot);

/* Number of provenance columns: entry_id .. intact. */
#define MC_PROVENANCE_COLUMNS 12

/*
 * Fill values/isnull[0 .. MC_PROVENANCE_COLUMNS - 1] from a journal-shaped
 * entry tuple (NULL: the row has no entry) and whether the row still
 * hashes to it.
 */
extern void provenance_columns(ChainFacts *facts, Relation journal,
							   const AttrNumber *attnums, HeapTuple entry,
							   bool intact, Datum *values, bool *isnull);

#endif							/* MEDCHAIN_PROVENANCE_H */
