/*-------------------------------------------------------------------------
 *
 * provenance.h
 *	  The columns that say where a recorded row came from and how well it
 *	  is proven: provenance() answers them for a row, history() for each
 *	  version of one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_PROVENANCE_H
#define MEDCHAIN_PROVENANCE_H

#include "postgres.h"

#include "access/htup.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

/* The columns of provenance()'s answer, in order; history() begins with them. */
typedef enum ProvenanceColumn
{
	PC_ENTRY_ID,
	PC_KIND,
	PC_RECORDED_BY,
	PC_RECORDED_AT,
	PC_XACT,
	PC_BLOCK_HEIGHT,
	PC_BLOCK_HASH,
	PC_SEALED_AT,
	PC_CONFIRMATIONS,
	PC_PEERS_HOLDING,
	PC_COSIGNERS,
	PC_INTACT
} ProvenanceColumn;

#define MC_PROVENANCE_COLUMNS (PC_INTACT + 1)

/*
 * What a query learns once about the chain: the head, the peers' heights
 * and, per block met, its hash, time and cosignatures.  Built on first
 * use and kept for the rest of the query (its snapshot does not change).
 */
typedef struct ChainFacts ChainFacts;

extern ChainFacts *chain_facts_create(MemoryContext cxt, Snapshot snapshot);

/*
 * The answer's columns from a journal-shaped entry tuple (NULL: the row
 * has no entry) and whether the row still hashes to it.
 */
extern void provenance_columns(ChainFacts *facts, Relation journal, const AttrNumber *attnums,
							   HeapTuple entry, bool intact, Datum *values, bool *isnull);

#endif							/* MEDCHAIN_PROVENANCE_H */
