/*-------------------------------------------------------------------------
 *
 * direct_write.c
 *	  Writing rows of medchain's own tables the way catalog rows are
 *	  written: heap_insert / heap_update and direct index maintenance.
 *
 * The row trigger appends a journal entry per inserted row and seal()
 * updates every entry it seals; going through SQL would plan or at least
 * execute a statement per row.  These tables only carry plain column
 * indexes (the extension script creates nothing else) and no triggers,
 * rules or constraints beyond those indexes, so there is nothing else to
 * maintain.  direct_open() refuses an index it could not maintain rather
 * than corrupt it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "executor/executor.h"

#include "direct_write.h"

static void
open_indexes(DirectTable *table)
{
	List	   *indexoids = RelationGetIndexList(table->rel);
	ListCell   *lc;
	int			i = 0;

	table->nindexes = list_length(indexoids);
	table->indexes = palloc(sizeof(Relation) * Max(table->nindexes, 1));
	table->index_info = palloc(sizeof(IndexInfo *) * Max(table->nindexes, 1));
	foreach(lc, indexoids)
	{
		Relation	index = index_open(lfirst_oid(lc), table->lockmode);
		IndexInfo  *info = BuildIndexInfo(index);

		if (info->ii_Expressions != NIL || info->ii_Predicate != NIL ||
			info->ii_ExclusionOps != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("index \"%s\" on %s is not supported",
							RelationGetRelationName(index),
							RelationGetRelationName(table->rel)),
					 errdetail("medchain writes this table directly and can maintain only plain column indexes."),
					 errhint("Drop the index.")));
		table->indexes[i] = index;
		table->index_info[i] = info;
		i++;
	}
	list_free(indexoids);
}

DirectTable *
direct_open(Oid relid, LOCKMODE lockmode)
{
	DirectTable *table = palloc0(sizeof(DirectTable));

	table->lockmode = lockmode;
	table->rel = table_open(relid, lockmode);
	open_indexes(table);
	table->slot = MakeSingleTupleTableSlot(RelationGetDescr(table->rel),
										   &TTSOpsHeapTuple);
	return table;
}

/* Locks are kept until the end of the transaction, as for any write. */
void
direct_close(DirectTable *table)
{
	int			i;

	ExecDropSingleTupleTableSlot(table->slot);
	for (i = 0; i < table->nindexes; i++)
		index_close(table->indexes[i], NoLock);
	table_close(table->rel, NoLock);
}

/* Index entries for the tuple in slot, stored at tid. */
static void
insert_slot_index_entries(DirectTable *table, TupleTableSlot *slot, ItemPointer tid)
{
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	int			i;

	for (i = 0; i < table->nindexes; i++)
	{
		IndexInfo  *info = table->index_info[i];

		FormIndexDatum(info, slot, NULL, values, isnull);
		index_insert(table->indexes[i], values, isnull, tid, table->rel,
					 info->ii_Unique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 false, info);
	}
}

static void
insert_index_entries(DirectTable *table, HeapTuple tuple)
{
	ExecStoreHeapTuple(tuple, table->slot, false);
	insert_slot_index_entries(table, table->slot, &tuple->t_self);
	ExecClearTuple(table->slot);
}

void
direct_insert(DirectTable *table, HeapTuple tuple)
{
	simple_heap_insert(table->rel, tuple);
	insert_index_entries(table, tuple);
}

/*
 * Insert the tuples of n slots at once: one WAL record and one buffer
 * lock per page instead of per tuple, as COPY does.  Each slot's tts_tid
 * tells where its tuple went.  bistate, if not NULL, writes the pages
 * through a small ring of buffers, as COPY does, so that a large load does
 * not push everything else out of shared buffers.
 */
void
direct_multi_insert(DirectTable *table, TupleTableSlot **slots, int n,
					BulkInsertState bistate)
{
	int			i;

	heap_multi_insert(table->rel, slots, n, GetCurrentCommandId(true), 0, bistate);
	for (i = 0; i < n; i++)
		insert_slot_index_entries(table, slots[i], &slots[i]->tts_tid);
}

/* A HOT update needs no new index entries; any other update does. */
void
direct_update(DirectTable *table, ItemPointer otid, HeapTuple tuple)
{
	simple_heap_update(table->rel, otid, tuple);
	if (!HeapTupleIsHeapOnly(tuple))
		insert_index_entries(table, tuple);
}
