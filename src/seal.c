/*-------------------------------------------------------------------------
 *
 * seal.c
 *	  medchain.seal(): committed pending entries become the next block.
 *
 * Sealers take ExclusiveLock on medchain.blocks, so they queue one behind
 * the other while readers go on, and everything is read through the
 * latest snapshot taken after the lock: a sealer that waited sees the
 * block its predecessor committed and the pending rows it removed, so the
 * chain never forks and no entry is sealed twice.  Pending rows of
 * transactions still in progress are invisible and wait for a later
 * block; a rolled-back entry takes its pending row with it.
 *
 * Entries are sealed in entry_id order.  Each is updated in place (a HOT
 * update: block_height and leaf_index are not indexed and entries' pages
 * keep room for it) and its pending row deleted, one entry at a time in a
 * per-entry memory context.  The nonce search runs last; a cancel during
 * it rolls all of this back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "block.h"
#include "chain_config.h"
#include "journal.h"
#include "merkle.h"
#include "pow.h"
#include "privileges.h"

PG_FUNCTION_INFO_V1(medchain_seal);

typedef struct PendingEntry
{
	int64		entry_id;
	ItemPointerData entry_tid;
	ItemPointerData pending_tid;
} PendingEntry;

static int
pending_entry_cmp(const void *a, const void *b)
{
	int64		x = ((const PendingEntry *) a)->entry_id;
	int64		y = ((const PendingEntry *) b)->entry_id;

	return (x > y) - (x < y);
}

/* Committed pending entries, in entry_id order, at most `limit` of them. */
static PendingEntry *
pending_collect(Relation pending, Snapshot snapshot, int64 limit, int64 *count)
{
	TableScanDesc scan = table_beginscan(pending, snapshot, 0, NULL);
	TupleDesc	desc = RelationGetDescr(pending);
	int64		allocated = 1024;
	int64		n = 0;
	PendingEntry *list = palloc(sizeof(PendingEntry) * allocated);
	HeapTuple	tuple;

	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		if (n == allocated)
		{
			allocated *= 2;
			list = repalloc_huge(list, sizeof(PendingEntry) * allocated);
		}
		list[n].entry_id = DatumGetInt64(heap_getattr(tuple, 1, desc, &isnull));
		list[n].entry_tid = *(ItemPointer) DatumGetPointer(heap_getattr(tuple, 2, desc, &isnull));
		list[n].pending_tid = tuple->t_self;
		n++;
	}
	table_endscan(scan);

	qsort(list, n, sizeof(PendingEntry), pending_entry_cmp);
	*count = Min(n, limit);
	return list;
}

/*
 * The entry's current tuple: by its recorded TID, or by its id when a
 * rewrite of the journal (VACUUM FULL, CLUSTER, a restore) moved it.
 */
static HeapTuple
entry_fetch(Relation entries, Relation pkey, Snapshot snapshot,
			const PendingEntry *pending, AttrNumber id_attnum)
{
	HeapTupleData probe;
	Buffer		buffer;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	probe.t_self = pending->entry_tid;
	if (heap_fetch(entries, snapshot, &probe, &buffer, false))
	{
		bool		isnull;
		Datum		id = heap_getattr(&probe, id_attnum, RelationGetDescr(entries), &isnull);

		tuple = (!isnull && DatumGetInt64(id) == pending->entry_id) ?
			heap_copytuple(&probe) : NULL;
		ReleaseBuffer(buffer);
		if (tuple != NULL)
			return tuple;
	}

	ScanKeyInit(&key, id_attnum, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(pending->entry_id));
	scan = systable_beginscan(entries, RelationGetRelid(pkey), true, snapshot, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		tuple = heap_copytuple(tuple);
	systable_endscan(scan);
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("pending entry %lld is missing from medchain.entries",
						(long long) pending->entry_id),
				 errdetail("The entry was recorded, but its row in the journal was removed before it could be sealed."),
				 errhint("Someone with superuser rights altered the journal; report it, then delete the entry's row from medchain.pending to let sealing go on.")));
	return tuple;
}

typedef struct SealState
{
	DirectTable *entries;
	Relation	pkey;
	Relation	pending;
	Snapshot	snapshot;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	MerkleBuilder merkle;
} SealState;

/* Seal one entry as leaf `leaf` of block `height`. */
static void
seal_entry(SealState *state, const PendingEntry *pending, int64 height, int32 leaf)
{
	TupleDesc	desc = RelationGetDescr(state->entries->rel);
	HeapTuple	tuple = entry_fetch(state->entries->rel, state->pkey, state->snapshot,
									pending, state->attnums[COL_ENTRY_ID]);
	int			height_at = state->attnums[COL_BLOCK_HEIGHT] - 1;
	int			leaf_at = state->attnums[COL_LEAF_INDEX] - 1;
	int			hash_at = state->attnums[COL_ENTRY_HASH] - 1;
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *isnull = palloc(sizeof(bool) * desc->natts);
	bytea	   *entry_hash;

	heap_deform_tuple(tuple, desc, values, isnull);
	if (!isnull[height_at])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("pending entry %lld is already sealed in block %lld",
						(long long) pending->entry_id,
						(long long) DatumGetInt64(values[height_at])),
				 errdetail("medchain.pending and medchain.entries disagree."),
				 errhint("Someone with superuser rights altered the journal; run medchain.verify().")));
	entry_hash = isnull[hash_at] ? NULL : DatumGetByteaPP(values[hash_at]);
	if (entry_hash == NULL || VARSIZE_ANY_EXHDR(entry_hash) != MC_HASH_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("entry %lld has no valid entry_hash", (long long) pending->entry_id),
				 errdetail("An entry_hash is 32 bytes."),
				 errhint("Someone with superuser rights altered the journal; run medchain.verify().")));
	merkle_add_entry(&state->merkle, (const uint8 *) VARDATA_ANY(entry_hash));

	values[height_at] = Int64GetDatum(height);
	isnull[height_at] = false;
	values[leaf_at] = Int32GetDatum(leaf);
	isnull[leaf_at] = false;
	direct_update(state->entries, &tuple->t_self, heap_form_tuple(desc, values, isnull));
	simple_heap_delete(state->pending, (ItemPointer) &pending->pending_tid);
}

/* Refuse a difficulty below the chain's: it would make forging cheaper. */
static void
check_difficulty(const BlockRow *head, int difficulty)
{
	if (head != NULL && difficulty < (int) head->header.difficulty)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("medchain.difficulty %d is below the chain's difficulty %u",
						difficulty, head->header.difficulty),
				 errdetail("A block may not be easier to forge than the block before it; verify() reports such a block as modified."),
				 errhint("Set medchain.difficulty to %u or more.", head->header.difficulty)));
}

static int64
max_entries_argument(FunctionCallInfo fcinfo)
{
	int32		max_entries;

	if (PG_ARGISNULL(0))
		return PG_INT64_MAX;
	max_entries = PG_GETARG_INT32(0);
	if (max_entries < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_entries must be at least 1, not %d", max_entries),
				 errdetail("A block holds at least one entry."),
				 errhint("Pass NULL to seal every committed pending entry.")));
	return max_entries;
}

/*
 * medchain.seal(max_entries int DEFAULT NULL) RETURNS bigint
 *
 * Seals committed pending entries, in entry_id order, into one new block;
 * returns its height, or NULL when nothing is pending.
 */
Datum
medchain_seal(PG_FUNCTION_ARGS)
{
	int64		limit;
	BlockRow	head;
	bool		have_head;
	BlockRow	block;
	SealState	state;
	PendingEntry *list;
	int64		count;
	int64		i;
	DirectTable *blocks;
	MemoryContext entrycxt;

	require_admin("seal blocks");
	limit = max_entries_argument(fcinfo);
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot seal blocks during recovery"),
				 errdetail("This server is a standby; its chain comes from the primary."),
				 errhint("Run medchain.seal() on the primary.")));

	blocks = direct_open(medchain_relation("blocks"), ExclusiveLock);
	state.snapshot = RegisterSnapshot(GetLatestSnapshot());
	have_head = block_head(state.snapshot, &head);
	check_difficulty(have_head ? &head : NULL, chain_difficulty());

	state.pending = table_open(medchain_relation("pending"), RowExclusiveLock);
	list = pending_collect(state.pending, state.snapshot, limit, &count);
	if (count == 0)
	{
		table_close(state.pending, NoLock);
		direct_close(blocks);
		UnregisterSnapshot(state.snapshot);
		PG_RETURN_NULL();
	}
	if (count > PG_INT32_MAX)
		count = PG_INT32_MAX;	/* entry_count is a u32 in the header; the rest waits */

	state.entries = direct_open(medchain_relation("entries"), RowExclusiveLock);
	state.pkey = index_open(medchain_relation("entries_pkey"), RowExclusiveLock);
	entry_columns_find(state.entries->rel, state.attnums);
	merkle_begin(&state.merkle);

	memset(&block, 0, sizeof(block));
	block.header.format_version = MC_BLOCK_FORMAT_VERSION;
	block.header.height = have_head ? head.header.height + 1 : 0;
	if (have_head)
		memcpy(block.header.prev_hash, head.block_hash, MC_HASH_LEN);

	entrycxt = AllocSetContextCreate(CurrentMemoryContext, "medchain seal entry",
									 ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < count; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(entrycxt);

		CHECK_FOR_INTERRUPTS();
		seal_entry(&state, &list[i], block.header.height, (int32) i);
		MemoryContextSwitchTo(old);
		MemoryContextReset(entrycxt);
	}
	MemoryContextDelete(entrycxt);

	merkle_root(&state.merkle, block.header.merkle_root);
	block.header.entry_count = (uint32) count;
	block.header.sealed_at = GetCurrentTimestamp();
	block.header.difficulty = (uint32) chain_difficulty();
	block.node_name = chain_node_name();
	block_node_id(block.node_name, block.header.node_id);
	block.first_entry_id = list[0].entry_id;
	block.last_entry_id = list[count - 1].entry_id;
	pow_search(&block.header, block.block_hash);
	direct_insert(blocks, block_row_to_tuple(&block, RelationGetDescr(blocks->rel)));

	index_close(state.pkey, NoLock);
	direct_close(state.entries);
	table_close(state.pending, NoLock);
	direct_close(blocks);
	UnregisterSnapshot(state.snapshot);
	PG_RETURN_INT64(block.header.height);
}
