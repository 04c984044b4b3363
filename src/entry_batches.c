/*-------------------------------------------------------------------------
 *
 * entry_batches.c
 *	  Writing and reading medchain.entry_batches.
 *
 * A batch row holds the fields its entries share as columns and the rest
 * packed into one bytea (stored out of line, uncompressed: hashes do not
 * compress), each entry as
 *
 *	 u64 entry_id | 32 bytes row_hash | 32 bytes entry_hash | u32 n | n bytes key
 *
 * in network byte order, the key being its canonical JSON text in UTF-8,
 * the bytes its entry hash covers.  Batch rows fill up to a page and are
 * written 64 at a time with one multi-insert, with one index entry (the
 * table's name) per row rather than two per entry: that is what lets a
 * bulk load run near the speed of the table alone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relation.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "common/jsonapi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
#include "utils/xid8.h"
#include "funcapi.h"

#include "ledger_cache.h"
#include "privileges.h"

#include "canonical_json.h"
#include "entry_batches.h"
#include "sha256.h"
#include "wire.h"

#define ENTRY_FIXED_LEN (8 + MC_HASH_LEN + MC_HASH_LEN + 4)

PG_FUNCTION_INFO_V1(medchain_batched_entries);

typedef enum BatchColumn
{
	BCOL_RELATION,
	BCOL_ENABLEMENT_ID,
	BCOL_KIND,
	BCOL_RECORDED_BY,
	BCOL_RECORDED_AT,
	BCOL_XACT,
	BCOL_FORMAT_VERSION,
	BCOL_ENTRY_COUNT,
	BCOL_ENTRIES
} BatchColumn;

#define MC_BATCH_COLUMNS (BCOL_ENTRIES + 1)

static const char *const batch_column_names[MC_BATCH_COLUMNS] = {
	"relation", "enablement_id", "kind", "recorded_by", "recorded_at", "xact",
	"format_version", "entry_count", "entries"
};

static void
batch_columns_find(Relation batches, AttrNumber attnums[MC_BATCH_COLUMNS])
{
	int			col;

	for (col = 0; col < MC_BATCH_COLUMNS; col++)
		attnums[col] = medchain_attnum(RelationGetDescr(batches), batch_column_names[col]);
}

/* The batch table, or InvalidOid while the objects are those of 1.1. */
static Oid
entry_batches_relid(void)
{
	return get_relname_relid("entry_batches", medchain_namespace());
}

/* ---------- writing ---------- */

/* Opened with the writer: its rows' work happens in short-lived contexts. */
void
batch_writer_open(BatchWriter *bw)
{
	memset(bw, 0, sizeof(*bw));
	initStringInfo(&bw->packed);
	bw->cxt = CurrentMemoryContext;
	bw->table = direct_open(entry_batches_relid(), RowExclusiveLock);
}

static bool
same_group(const BatchGroup *a, const BatchGroup *b)
{
	return a->enablement_id == b->enablement_id &&
		strcmp(a->kind, b->kind) == 0 &&
		strcmp(a->name->display, b->name->display) == 0;
}

static void batch_row_form(JournalWriter *writer, BatchWriter *bw);
static void batch_rows_write(BatchWriter *bw);

void
batch_append(JournalWriter *writer, BatchWriter *bw, const BatchGroup *group,
			 int64 entry_id, const uint8 *row_hash, const uint8 *entry_hash,
			 TextSlice key_utf8)
{
	char	   *p;

	if (bw->count > 0 && !same_group(&bw->group, group))
		batch_flush(writer, bw);
	else if (bw->count > 0 && bw->packed.len + ENTRY_FIXED_LEN + key_utf8.len > MC_BATCH_BYTES)
		batch_row_form(writer, bw);
	if (bw->count == 0)
		bw->group = *group;
	enlargeStringInfo(&bw->packed, ENTRY_FIXED_LEN + key_utf8.len);
	p = bw->packed.data + bw->packed.len;
	p = wire_write_u64(p, (uint64) entry_id);
	p = wire_write_bytes(p, row_hash, MC_HASH_LEN);
	p = wire_write_bytes(p, entry_hash, MC_HASH_LEN);
	p = wire_write_u32(p, (uint32) key_utf8.len);
	p = wire_write_bytes(p, key_utf8.data, key_utf8.len);
	bw->packed.len = p - bw->packed.data;
	bw->count++;
}

/* The packed entries so far become a batch row, written with the next ones. */
static void
batch_row_form(JournalWriter *writer, BatchWriter *bw)
{
	TupleDesc	desc = RelationGetDescr(bw->table->rel);
	AttrNumber	attnums[MC_BATCH_COLUMNS];
	Datum		values[MC_BATCH_COLUMNS];
	Datum	   *row;
	bool	   *row_null;
	bytea	   *packed;
	MemoryContext old;
	int			col;

	if (bw->count == 0)
		return;
	batch_columns_find(bw->table->rel, attnums);
	packed = palloc(VARHDRSZ + bw->packed.len);
	SET_VARSIZE(packed, VARHDRSZ + bw->packed.len);
	memcpy(VARDATA(packed), bw->packed.data, bw->packed.len);
	values[BCOL_RELATION] = CStringGetTextDatum(bw->group.name->display);
	values[BCOL_ENABLEMENT_ID] = Int64GetDatum(bw->group.enablement_id);
	values[BCOL_KIND] = CStringGetTextDatum(bw->group.kind);
	values[BCOL_RECORDED_BY] = NameGetDatum(&writer->recorded_by);
	values[BCOL_RECORDED_AT] = TimestampTzGetDatum(writer->recorded_at);
	values[BCOL_XACT] = FullTransactionIdGetDatum(writer->xact);
	values[BCOL_FORMAT_VERSION] = Int16GetDatum(MC_FORMAT_CURRENT);
	values[BCOL_ENTRY_COUNT] = Int32GetDatum(bw->count);
	values[BCOL_ENTRIES] = PointerGetDatum(packed);

	row = palloc0(sizeof(Datum) * desc->natts);
	row_null = palloc(sizeof(bool) * desc->natts);
	memset(row_null, true, sizeof(bool) * desc->natts);
	for (col = 0; col < MC_BATCH_COLUMNS; col++)
	{
		row[attnums[col] - 1] = values[col];
		row_null[attnums[col] - 1] = false;
	}
	/* rows are formed in whatever context the caller is in; they outlive it */
	old = MemoryContextSwitchTo(bw->cxt);
	if (bw->rows[bw->nrows] == NULL)
		bw->rows[bw->nrows] = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);
	ExecStoreHeapTuple(heap_form_tuple(desc, row, row_null), bw->rows[bw->nrows], true);
	MemoryContextSwitchTo(old);
	pfree(packed);
	pfree(row);
	pfree(row_null);
	resetStringInfo(&bw->packed);
	bw->count = 0;
	if (++bw->nrows == MC_BATCH_ROWS)
		batch_rows_write(bw);
}

static void
batch_rows_write(BatchWriter *bw)
{
	int			i;

	if (bw->nrows == 0)
		return;
	/* a statement that fills a whole set of rows is a bulk load */
	if (bw->nrows == MC_BATCH_ROWS && bw->bistate == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(bw->cxt);

		bw->bistate = GetBulkInsertState();
		MemoryContextSwitchTo(old);
	}
	direct_multi_insert(bw->table, bw->rows, bw->nrows, bw->bistate);
	for (i = 0; i < bw->nrows; i++)
		ExecClearTuple(bw->rows[i]);
	bw->nrows = 0;
}

/* Write every entry appended so far. */
void
batch_flush(JournalWriter *writer, BatchWriter *bw)
{
	batch_row_form(writer, bw);
	batch_rows_write(bw);
}

void
batch_writer_close(BatchWriter *bw)
{
	int			i;

	for (i = 0; i < MC_BATCH_ROWS && bw->rows[i] != NULL; i++)
		ExecDropSingleTupleTableSlot(bw->rows[i]);
	if (bw->bistate != NULL)
		FreeBulkInsertState(bw->bistate);
	direct_close(bw->table);
}

/* ---------- reading ---------- */

static void
batch_unpack(EntryBatch *batch)
{
	const char *p = VARDATA_ANY(batch->packed);
	const char *end = p + VARSIZE_ANY_EXHDR(batch->packed);
	int			allocated = Max(Min(batch->entry_count, MC_BATCH_BYTES / ENTRY_FIXED_LEN), 1);

	batch->nentries = 0;
	batch->malformed = NULL;
	batch->entries = palloc(sizeof(BatchEntry) * allocated);
	while (p < end)
	{
		BatchEntry *e;
		uint64		id;
		uint32		keylen;

		if (end - p < ENTRY_FIXED_LEN)
		{
			batch->malformed = "its packed entries end in the middle of one";
			return;
		}
		if (batch->nentries == allocated)
		{
			allocated *= 2;
			batch->entries = repalloc(batch->entries, sizeof(BatchEntry) * allocated);
		}
		e = &batch->entries[batch->nentries];
		memcpy(&id, p, 8);
		e->entry_id = (int64) pg_ntoh64(id);
		e->row_hash = (const uint8 *) p + 8;
		e->entry_hash = (const uint8 *) p + 8 + MC_HASH_LEN;
		memcpy(&keylen, p + 8 + 2 * MC_HASH_LEN, 4);
		keylen = pg_ntoh32(keylen);
		p += ENTRY_FIXED_LEN;
		if ((uint32) (end - p) < keylen)
		{
			batch->malformed = "its packed entries end in the middle of one";
			return;
		}
		e->key_utf8.data = p;
		e->key_utf8.len = (int) keylen;
		p += keylen;
		batch->nentries++;
	}
	if (batch->nentries != batch->entry_count)
		batch->malformed = psprintf("it says it holds %d entries but holds %d",
									batch->entry_count, batch->nentries);
}

/* The batch in tuple; NULL columns make it malformed, not an error. */
static void
batch_from_tuple(HeapTuple tuple, TupleDesc desc, const AttrNumber *attnums,
				 EntryBatch *batch)
{
	Datum		values[MC_BATCH_COLUMNS];
	bool		isnull[MC_BATCH_COLUMNS];
	int			col;

	memset(batch, 0, sizeof(*batch));
	batch->tid = tuple->t_self;
	for (col = 0; col < MC_BATCH_COLUMNS; col++)
		values[col] = heap_getattr(tuple, attnums[col], desc, &isnull[col]);
	for (col = 0; col < MC_BATCH_COLUMNS; col++)
		if (isnull[col])
		{
			batch->relation = isnull[BCOL_RELATION] ? pstrdup("") :
				TextDatumGetCString(values[BCOL_RELATION]);
			batch->malformed = psprintf("its %s is NULL", batch_column_names[col]);
			batch->entries = palloc(sizeof(BatchEntry));
			return;
		}
	batch->relation = TextDatumGetCString(values[BCOL_RELATION]);
	batch->enablement_id = DatumGetInt64(values[BCOL_ENABLEMENT_ID]);
	batch->kind = TextDatumGetCString(values[BCOL_KIND]);
	namestrcpy(&batch->recorded_by, NameStr(*DatumGetName(values[BCOL_RECORDED_BY])));
	batch->recorded_at = DatumGetTimestampTz(values[BCOL_RECORDED_AT]);
	batch->xact = DatumGetFullTransactionId(values[BCOL_XACT]);
	batch->format_version = DatumGetInt16(values[BCOL_FORMAT_VERSION]);
	batch->entry_count = DatumGetInt32(values[BCOL_ENTRY_COUNT]);
	batch->packed = DatumGetByteaPP(values[BCOL_ENTRIES]);
	batch_unpack(batch);
}

void
entry_batches_scan(Snapshot snapshot, const char *relation, EntryBatchFn fn, void *arg)
{
	Oid			relid = entry_batches_relid();
	Relation	batches;
	AttrNumber	attnums[MC_BATCH_COLUMNS];
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	MemoryContext batchcxt;

	if (!OidIsValid(relid))
		return;
	batches = table_open(relid, AccessShareLock);
	batch_columns_find(batches, attnums);
	batchcxt = AllocSetContextCreate(CurrentMemoryContext, "medchain entry batch",
									 ALLOCSET_DEFAULT_SIZES);
	/* one table's batches through the index, all of them in heap order */
	if (relation != NULL)
	{
		Relation	index = index_open(medchain_relation("entry_batches_relation_idx"),
									   AccessShareLock);

		ScanKeyEntryInitialize(&key, 0, attnums[BCOL_RELATION], BTEqualStrategyNumber,
							   InvalidOid, index->rd_indcollation[0], F_TEXTEQ,
							   CStringGetTextDatum(relation));
		scan = systable_beginscan(batches, RelationGetRelid(index), true, snapshot, 1, &key);
		index_close(index, AccessShareLock);
	}
	else
		scan = systable_beginscan(batches, InvalidOid, false, snapshot, 0, NULL);
	while ((tuple = systable_getnext(scan)) != NULL)
	{
		MemoryContext old;
		EntryBatch	batch;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(batchcxt);
		batch_from_tuple(tuple, RelationGetDescr(batches), attnums, &batch);
		MemoryContextSwitchTo(old);
		fn(arg, &batch);
		MemoryContextReset(batchcxt);
	}
	systable_endscan(scan);
	MemoryContextDelete(batchcxt);
	table_close(batches, AccessShareLock);
}

bool
entry_batch_fetch(Relation batches, Snapshot snapshot, ItemPointer tid, EntryBatch *batch)
{
	HeapTupleData tuple;
	Buffer		buffer;
	AttrNumber	attnums[MC_BATCH_COLUMNS];
	HeapTuple	copy;

	tuple.t_self = *tid;
	if (!heap_fetch(batches, snapshot, &tuple, &buffer, false))
		return false;
	copy = heap_copytuple(&tuple);
	ReleaseBuffer(buffer);
	batch_columns_find(batches, attnums);
	batch_from_tuple(copy, RelationGetDescr(batches), attnums, batch);
	return true;
}

HeapTuple
batch_entry_tuple(Relation journal, const AttrNumber *attnums, const EntryBatch *batch,
				  const BatchEntry *entry, int64 height, int32 leaf)
{
	TupleDesc	desc = RelationGetDescr(journal);
	Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
	bool	   *isnull = palloc(sizeof(bool) * desc->natts);
	Jsonb	   *row_key;

	memset(isnull, true, sizeof(bool) * desc->natts);
#define SET(col, value) (values[attnums[col] - 1] = (value), isnull[attnums[col] - 1] = false)
	SET(COL_ENTRY_ID, Int64GetDatum(entry->entry_id));
	SET(COL_RELATION, CStringGetTextDatum(batch->relation));
	/* a key that is not JSON leaves row_key NULL, which verify() reports */
	if ((row_key = canonical_json_parse(entry->key_utf8.data, entry->key_utf8.len)) != NULL)
		SET(COL_ROW_KEY, JsonbPGetDatum(row_key));
	SET(COL_ROW_HASH, PointerGetDatum(mc_hash_to_bytea(entry->row_hash)));
	SET(COL_ENTRY_HASH, PointerGetDatum(mc_hash_to_bytea(entry->entry_hash)));
	SET(COL_KIND, CStringGetTextDatum(batch->kind));
	SET(COL_RECORDED_BY, NameGetDatum(&batch->recorded_by));
	SET(COL_RECORDED_AT, TimestampTzGetDatum(batch->recorded_at));
	SET(COL_XACT, FullTransactionIdGetDatum(batch->xact));
	SET(COL_FORMAT_VERSION, Int16GetDatum(batch->format_version));
	SET(COL_ENABLEMENT_ID, Int64GetDatum(batch->enablement_id));
	if (attnums[COL_KEY_HASH] != InvalidAttrNumber)
		SET(COL_KEY_HASH, Int64GetDatum(journal_key_hash(batch->relation, entry->key_utf8.data,
														 entry->key_utf8.len)));
	if (height >= 0)
	{
		SET(COL_BLOCK_HEIGHT, Int64GetDatum(height));
		SET(COL_LEAF_INDEX, Int32GetDatum(leaf));
	}
#undef SET
	return heap_form_tuple(desc, values, isnull);
}

/* The packed bytes of the batch's entries that keep[i] says stay. */
static bytea *
batch_repack(const EntryBatch *batch, const bool *keep, int *kept)
{
	StringInfoData buf;
	bytea	   *packed;
	int			i;

	initStringInfo(&buf);
	*kept = 0;
	for (i = 0; i < batch->nentries; i++)
	{
		const BatchEntry *e = &batch->entries[i];

		if (!keep[i])
			continue;
		/* the entry's bytes run from its id to the end of its key */
		appendBinaryStringInfo(&buf, (const char *) e->row_hash - 8,
							   ENTRY_FIXED_LEN + e->key_utf8.len);
		(*kept)++;
	}
	packed = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(packed, VARHDRSZ + buf.len);
	memcpy(VARDATA(packed), buf.data, buf.len);
	return packed;
}

void
entry_batch_keep_only(Relation batches, Snapshot snapshot, const EntryBatch *batch,
					  const bool *keep)
{
	TupleDesc	desc = RelationGetDescr(batches);
	AttrNumber	attnums[MC_BATCH_COLUMNS];
	HeapTupleData tuple;
	Buffer		buffer;
	Datum	   *values;
	bool	   *isnull;
	bytea	   *packed;
	int			kept;

	packed = batch_repack(batch, keep, &kept);
	if (kept == 0)
	{
		simple_heap_delete(batches, (ItemPointer) &batch->tid);
		return;
	}
	tuple.t_self = batch->tid;
	if (!heap_fetch(batches, snapshot, &tuple, &buffer, false))
		elog(ERROR, "entry batch at (%u,%u) vanished",
			 ItemPointerGetBlockNumber(&batch->tid), ItemPointerGetOffsetNumber(&batch->tid));
	values = palloc(sizeof(Datum) * desc->natts);
	isnull = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(&tuple, desc, values, isnull);
	batch_columns_find(batches, attnums);
	values[attnums[BCOL_ENTRIES] - 1] = PointerGetDatum(packed);
	values[attnums[BCOL_ENTRY_COUNT] - 1] = Int32GetDatum(kept);
	simple_heap_update(batches, (ItemPointer) &batch->tid, heap_form_tuple(desc, values, isnull));
	ReleaseBuffer(buffer);
}

/* ---------- medchain.batched_entries() ---------- */

typedef struct BatchedOut
{
	Tuplestorestate *store;
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	char	   *last_relation;	/* may_read_relation() of the last one */
	bool		last_readable;
} BatchedOut;

static void
batched_out(void *arg, EntryBatch *batch)
{
	BatchedOut *out = arg;
	int			i;

	if (out->last_relation == NULL || strcmp(out->last_relation, batch->relation) != 0)
	{
		if (out->last_relation != NULL)
			pfree(out->last_relation);
		out->last_relation = MemoryContextStrdup(TopTransactionContext, batch->relation);
		out->last_readable = may_read_relation(batch->relation);
	}
	if (!out->last_readable)
		return;
	for (i = 0; i < batch->nentries; i++)
	{
		HeapTuple	tuple = batch_entry_tuple(out->journal, out->attnums, batch,
											  &batch->entries[i], -1, 0);

		CHECK_FOR_INTERRUPTS();
		tuplestore_puttuple(out->store, tuple);
		heap_freetuple(tuple);
	}
}

/*
 * medchain.batched_entries() RETURNS SETOF medchain.journal
 *
 * The entries waiting in batches, as the journal rows seal() will make of
 * them, for the view medchain.entries.  The caller sees those of the
 * tables it may read, as the journal's row-level security decides for
 * its rows.
 */
Datum
medchain_batched_entries(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BatchedOut	out;

	InitMaterializedSRF(fcinfo, 0);
	memset(&out, 0, sizeof(out));
	out.store = rsinfo->setResult;
	out.journal = table_open(medchain_journal_relid(), AccessShareLock);
	entry_columns_find(out.journal, out.attnums);
	entry_batches_scan(GetActiveSnapshot(), NULL, batched_out, &out);
	table_close(out.journal, AccessShareLock);
	return (Datum) 0;
}
