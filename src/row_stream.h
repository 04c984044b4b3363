/*-------------------------------------------------------------------------
 *
 * row_stream.h
 *	  The row hashes of ledger tables in heap order, computed by parallel
 *	  workers where the server can spare them, else by this backend.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_ROW_STREAM_H
#define MEDCHAIN_ROW_STREAM_H

#include "postgres.h"

#include "access/tableam.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "storage/shm_mq.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

#include "ledger_cache.h"
#include "sha256.h"

/* What a worker sends for each row. */
typedef struct RowHashRecord
{
	uint8		row_hash[MC_HASH_LEN];
	ItemPointerData tid;
} RowHashRecord;

typedef struct RowStream
{
	Relation	rel;
	LedgerRelation *ledger;
	Snapshot	snapshot;
	ItemPointerData current;	/* the row last returned */
	TupleTableSlot *slot;		/* its values, when they are needed */
	bool		slot_current;	/* slot holds them already */
	/* fed by a worker */
	shm_mq_handle *queue;
	const RowHashRecord *batch;
	Size		batch_rows;
	Size		batch_next;
	/* or scanned here */
	TableScanDesc scan;
	StringInfoData encoding;
	bool		done;
} RowStream;

typedef struct RowStreams
{
	struct ParallelContext *pcxt;	/* NULL when no worker was launched */
	int			count;
	RowStream  *streams;
} RowStreams;

extern RowStreams *row_streams_open(Relation *rels, int count, Snapshot snapshot);
extern bool row_stream_next(RowStream *stream, uint8 row_hash[MC_HASH_LEN]);
extern TupleTableSlot *row_stream_current_row(RowStream *stream);
extern void row_streams_close(RowStreams *streams);

/* Hash the row in slot, as the row trigger did. */
extern void row_hash_of_slot(const LedgerRelation *ledger, TupleTableSlot *slot,
							 StringInfo buf, uint8 row_hash[MC_HASH_LEN]);

#endif							/* MEDCHAIN_ROW_STREAM_H */
