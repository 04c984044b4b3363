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
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "chain_rules.h"
#include "port/pg_bswap.h"
#include "sort_compat.h"
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

/*
 * A pending row as a sort key: entry_id big-endian with the sign bit
 * flipped, so that bytewise order is numeric order, then the two TIDs.
 */
#define PENDING_KEY_LEN (8 + 2 * sizeof(ItemPointerData))

static Datum
pending_key(const PendingEntry *entry)
{
	bytea	   *key = palloc(VARHDRSZ + PENDING_KEY_LEN);
	uint64		ordered = pg_hton64((uint64) entry->entry_id ^ (UINT64CONST(1) << 63));
	char	   *p = VARDATA(key);

	SET_VARSIZE(key, VARHDRSZ + PENDING_KEY_LEN);
	memcpy(p, &ordered, 8);
	memcpy(p + 8, &entry->entry_tid, sizeof(ItemPointerData));
	memcpy(p + 8 + sizeof(ItemPointerData), &entry->pending_tid, sizeof(ItemPointerData));
	return PointerGetDatum(key);
}

static void
pending_from_key(Datum datum, PendingEntry *entry)
{
	const char *p = VARDATA_ANY(DatumGetByteaPP(datum));
	uint64		ordered;

	memcpy(&ordered, p, 8);
	entry->entry_id = (int64) (pg_ntoh64(ordered) ^ (UINT64CONST(1) << 63));
	memcpy(&entry->entry_tid, p + 8, sizeof(ItemPointerData));
	memcpy(&entry->pending_tid, p + 8 + sizeof(ItemPointerData), sizeof(ItemPointerData));
}

/*
 * The committed pending entries, sorted by entry_id; with a limit, only
 * the lowest `limit` ids are kept (a bounded heap), and the sort spills
 * to disk past work_mem, so a large backlog costs no more memory than
 * that.  Returns the sort, ready to read.
 */
static Tuplesortstate *
pending_collect(Relation pending, Snapshot snapshot, int64 limit)
{
	TableScanDesc scan = table_beginscan(pending, snapshot, 0, NULL);
	TupleDesc	desc = RelationGetDescr(pending);
	Tuplesortstate *sort = tuplesort_begin_datum(BYTEAOID, ByteaLessOperator, InvalidOid,
												 false, work_mem, NULL, TUPLESORT_NONE);
	MemoryContext keycxt = AllocSetContextCreate(CurrentMemoryContext, "medchain pending key",
												 ALLOCSET_SMALL_SIZES);
	HeapTuple	tuple;

	if (limit < PG_INT64_MAX)
		tuplesort_set_bound(sort, limit);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		PendingEntry entry;
		bool		isnull;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		entry.entry_id = DatumGetInt64(heap_getattr(tuple, 1, desc, &isnull));
		entry.entry_tid = *(ItemPointer) DatumGetPointer(heap_getattr(tuple, 2, desc, &isnull));
		entry.pending_tid = tuple->t_self;
		old = MemoryContextSwitchTo(keycxt);
		tuplesort_putdatum(sort, pending_key(&entry), false);
		MemoryContextSwitchTo(old);
		MemoryContextReset(keycxt);
	}
	table_endscan(scan);
	MemoryContextDelete(keycxt);
	tuplesort_performsort(sort);
	return sort;
}

static bool
pending_next(Tuplesortstate *sort, PendingEntry *entry)
{
	Datum		datum;

	if (!sort_next_datum(sort, &datum))
		return false;
	pending_from_key(datum, entry);
	pfree(DatumGetPointer(datum));
	return true;
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

/*
 * The chain's floor: fixed by its genesis block, or by the difficulty the
 * genesis block is about to be sealed at.
 */
static int64
floor_for_next(const BlockRow *head, Snapshot snapshot, int difficulty)
{
	BlockRow	genesis;

	if (head == NULL)
		return difficulty;
	if (head->header.format_version >= 2)
		return head->header.min_difficulty;
	if (!block_row_fetch(0, snapshot, &genesis))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the chain has no genesis block"),
				 errdetail("The genesis block fixes the chain's difficulty floor, which a new block must meet."),
				 errhint("Someone with superuser rights altered medchain.blocks; run medchain.verify().")));
	return chain_floor(&genesis.header);
}

/*
 * Refuse a difficulty below the chain's or its floor: it would make
 * forging cheaper.
 */
static void
check_difficulty(const BlockRow *head, int64 floor, int difficulty)
{
	int64		least = Max(floor, head != NULL ? (int64) head->header.difficulty : 0);

	if (difficulty < least)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("medchain.difficulty %d is below the chain's difficulty %lld",
						difficulty, (long long) least),
				 errdetail("A block may not be easier to forge than the block before it or than the chain's floor; verify() reports such a block as modified."),
				 errhint("Set medchain.difficulty to %lld or more.", (long long) least)));
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
	Tuplesortstate *sort;
	PendingEntry pending;
	int64		count = 0;
	int64		floor;
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
	floor = floor_for_next(have_head ? &head : NULL, state.snapshot, chain_difficulty());
	check_difficulty(have_head ? &head : NULL, floor, chain_difficulty());

	state.pending = table_open(medchain_relation("pending"), RowExclusiveLock);
	state.entries = direct_open(medchain_relation("entries"), RowExclusiveLock);
	state.pkey = index_open(medchain_relation("entries_pkey"), RowExclusiveLock);
	entry_columns_find(state.entries->rel, state.attnums);
	merkle_begin(&state.merkle);

	memset(&block, 0, sizeof(block));
	block.header.format_version = MC_BLOCK_FORMAT_CURRENT;
	block.header.height = have_head ? head.header.height + 1 : 0;
	if (have_head)
		memcpy(block.header.prev_hash, head.block_hash, MC_HASH_LEN);

	/* entry_count is a u32 in the header; the rest waits for a later block */
	sort = pending_collect(state.pending, state.snapshot, limit);
	entrycxt = AllocSetContextCreate(CurrentMemoryContext, "medchain seal entry",
									 ALLOCSET_DEFAULT_SIZES);
	while (count < Min(limit, (int64) PG_INT32_MAX) && pending_next(sort, &pending))
	{
		MemoryContext old = MemoryContextSwitchTo(entrycxt);

		CHECK_FOR_INTERRUPTS();
		if (count == 0)
			block.first_entry_id = pending.entry_id;
		block.last_entry_id = pending.entry_id;
		seal_entry(&state, &pending, block.header.height, (int32) count);
		MemoryContextSwitchTo(old);
		MemoryContextReset(entrycxt);
		count++;
	}
	MemoryContextDelete(entrycxt);
	tuplesort_end(sort);

	if (count > 0)
	{
		merkle_root(&state.merkle, block.header.merkle_root);
		block.header.entry_count = (uint32) count;
		block.header.sealed_at = GetCurrentTimestamp();
		block.header.difficulty = (uint32) chain_difficulty();
		block.header.min_difficulty = (uint32) floor;
		block.node_name = chain_node_name();
		block_node_id(block.node_name, block.header.node_id);
		pow_search(&block.header, block.block_hash);
		direct_insert(blocks, block_row_to_tuple(&block, RelationGetDescr(blocks->rel)));
	}

	index_close(state.pkey, NoLock);
	direct_close(state.entries);
	table_close(state.pending, NoLock);
	direct_close(blocks);
	UnregisterSnapshot(state.snapshot);
	if (count == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(block.header.height);
}
