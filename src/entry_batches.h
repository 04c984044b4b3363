/*-------------------------------------------------------------------------
 *
 * entry_batches.h
 *	  medchain.entry_batches: row entries waiting to be sealed, packed.
 *
 * A statement's row entries are written as rows of entry_batches of
 * about 80 entries each instead of one journal row, two index
 * entries and one pending row each: what they share (table, enablement,
 * kind, who, when, transaction) once, and per entry its id, row hash,
 * entry hash and key.  seal() turns them into rows of medchain.entries,
 * already placed in their block.  They are the same entries, hashed the
 * same way (docs/FORMAT.md); only where they wait differs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_ENTRY_BATCHES_H
#define MEDCHAIN_ENTRY_BATCHES_H

#include "postgres.h"

#include "access/heapam.h"
#include "access/htup.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

#include "journal.h"

/*
 * A batch row's packed entries stay within a page (the table's
 * toast_tuple_target keeps such rows inline): about 80 entries a row,
 * written 64 rows at a time with one multi-insert.
 */
#define MC_BATCH_BYTES 7800
#define MC_BATCH_ROWS 64

/* One packed entry. */
typedef struct BatchEntry
{
	int64		entry_id;
	const uint8 *row_hash;		/* MC_HASH_LEN bytes */
	const uint8 *entry_hash;
	TextSlice	key_utf8;		/* the row key's canonical JSON text */
} BatchEntry;

/* One row of medchain.entry_batches, its entries unpacked on demand. */
typedef struct EntryBatch
{
	ItemPointerData tid;
	char	   *relation;
	int64		enablement_id;
	char	   *kind;
	NameData	recorded_by;
	TimestampTz recorded_at;
	FullTransactionId xact;
	int			format_version;
	int			entry_count;	/* as the row says */
	bytea	   *packed;			/* detoasted */
	int			nentries;		/* as many as parse */
	BatchEntry *entries;
	const char *malformed;		/* why the row does not parse, or NULL */
} EntryBatch;

/* What the entries of one batch share, for the writer. */
typedef struct BatchGroup
{
	const LedgerName *name;
	int64		enablement_id;
	const char *kind;
} BatchGroup;

/* Batches being written: the packed entries of the current group. */
typedef struct BatchWriter
{
	DirectTable *table;
	BatchGroup	group;
	int			count;			/* entries in packed */
	StringInfoData packed;
	MemoryContext cxt;			/* the writer's */
	int			nrows;			/* rows formed, not yet written */
	TupleTableSlot *rows[MC_BATCH_ROWS];
	BulkInsertState bistate;	/* once a statement proves a bulk load */
} BatchWriter;

extern void batch_writer_open(BatchWriter *bw);
extern void batch_append(JournalWriter *writer, BatchWriter *bw, const BatchGroup *group,
						 int64 entry_id, const uint8 *row_hash, const uint8 *entry_hash,
						 TextSlice key_utf8);
extern void batch_flush(JournalWriter *writer, BatchWriter *bw);
extern void batch_writer_close(BatchWriter *bw);

/*
 * Call fn for every batch that snapshot sees (only those of relation, if
 * not NULL), with its entries unpacked; the batch lives until fn returns.
 */
typedef void (*EntryBatchFn) (void *arg, EntryBatch *batch);
extern void entry_batches_scan(Snapshot snapshot, const char *relation,
							   EntryBatchFn fn, void *arg);

/* The batch at tid, or false if snapshot does not see one there. */
extern bool entry_batch_fetch(Relation batches, Snapshot snapshot, ItemPointer tid,
							  EntryBatch *batch);

/*
 * A batch entry as a row of medchain.entries would hold it, sealed as
 * leaf `leaf` of block `height` (-1: not sealed).
 */
extern HeapTuple batch_entry_tuple(Relation journal, const AttrNumber *attnums,
								   const EntryBatch *batch, const BatchEntry *entry,
								   int64 height, int32 leaf);

/*
 * Once seal() has taken some of a batch's entries: the batch row keeps
 * only those keep[i] says stay, or goes if none does.
 */
extern void entry_batch_keep_only(Relation batches, Snapshot snapshot,
								  const EntryBatch *batch, const bool *keep);

#endif							/* MEDCHAIN_ENTRY_BATCHES_H */
