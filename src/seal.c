/*-------------------------------------------------------------------------
 *
 * seal.c
 *	  medchain.seal(): committed pending entries become the next blocks.
 *
 * A queue longer than medchain.block_max_entries becomes several blocks,
 * sealed one on top of the other in one transaction; the background
 * worker seals through the same path (medchain_seal_pending()).
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
 * per-entry memory context.  The nonce search runs last, then the block
 * is signed with the node's key (node_key.c); a cancel during either rolls
 * all of this back.  A key the chain has not recorded yet is announced in
 * the block it first signs: its node_key event is written as a journal row
 * already placed among the block's leaves, in entry_id order, so that no
 * block is signed by a key its chain does not name.
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
#include "catalog/namespace.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "block.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "chain_rules.h"
#include "port/pg_bswap.h"

#include "chain_config.h"
#include "chain_keys.h"
#include "entry_batches.h"
#include "journal.h"
#include "merkle.h"
#include "node_key.h"
#include "pow.h"
#include "privileges.h"
#include "replicate.h"
#include "seal.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(medchain_seal);

/* Batched entries become journal rows this many at a time. */
#define MC_SEAL_INSERT_BATCH 1000

/*
 * An entry waiting to be sealed: queued in medchain.pending (its journal
 * row and its queue row), or packed in a batch (the batch row and its
 * place in it).
 */
typedef struct PendingEntry
{
	int64		entry_id;
	bool		batched;
	int32		batch_index;
	ItemPointerData entry_tid;	/* or the batch's */
	ItemPointerData pending_tid;
	bool		announcement;	/* the node_key event of the block's signer,
								 * written as it is sealed */
} PendingEntry;

/*
 * The pending entries to seal: with a limit, the lowest `limit` entry ids
 * only, kept in a max-heap (the largest kept id on top, replaced when a
 * lower one comes), so that seal(10000) holds 10,000 entries however long
 * the queue; then sorted ascending.
 */
typedef struct PendingList
{
	PendingEntry *entries;
	int64		count;
	int64		allocated;
	int64		limit;
	bool		heaped;			/* entries[] is a max-heap: the limit was reached */
} PendingList;

static void
heap_sift_down(PendingEntry *heap, int64 count, int64 i)
{
	for (;;)
	{
		int64		largest = i;
		int64		left = 2 * i + 1;
		int64		right = left + 1;
		PendingEntry swap;

		if (left < count && heap[left].entry_id > heap[largest].entry_id)
			largest = left;
		if (right < count && heap[right].entry_id > heap[largest].entry_id)
			largest = right;
		if (largest == i)
			return;
		swap = heap[i];
		heap[i] = heap[largest];
		heap[largest] = swap;
		i = largest;
	}
}

/* Below the limit entries are only appended; at it they become a heap. */
static void
pending_keep(PendingList *list, const PendingEntry *entry)
{
	int64		i;

	if (list->count < list->limit)
	{
		if (list->count == list->allocated)
		{
			list->allocated = Min(list->allocated * 2, list->limit);
			list->entries = repalloc_huge(list->entries, sizeof(PendingEntry) * list->allocated);
		}
		list->entries[list->count++] = *entry;
		return;
	}
	if (!list->heaped)
	{
		for (i = list->count / 2 - 1; i >= 0; i--)
			heap_sift_down(list->entries, list->count, i);
		list->heaped = true;
	}
	if (entry->entry_id < list->entries[0].entry_id)
	{
		list->entries[0] = *entry;
		heap_sift_down(list->entries, list->count, 0);
	}
}

static int
pending_entry_cmp(const void *a, const void *b)
{
	int64		x = ((const PendingEntry *) a)->entry_id;
	int64		y = ((const PendingEntry *) b)->entry_id;

	return (x > y) - (x < y);
}

static void
refuse_malformed_batch(const EntryBatch *batch)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("entry batch (%u,%u) of %s cannot be sealed",
					ItemPointerGetBlockNumber(&batch->tid),
					ItemPointerGetOffsetNumber(&batch->tid), batch->relation),
			 errdetail("In medchain.entry_batches, %s.", batch->malformed),
			 errhint("Someone with superuser rights altered the journal; run medchain.verify().")));
}

static void
batch_collect(void *arg, EntryBatch *batch)
{
	PendingList *list = arg;
	int			i;

	if (batch->malformed != NULL)
		refuse_malformed_batch(batch);
	for (i = 0; i < batch->nentries; i++)
	{
		PendingEntry entry;

		entry.entry_id = batch->entries[i].entry_id;
		entry.batched = true;
		entry.batch_index = i;
		entry.entry_tid = batch->tid;
		ItemPointerSetInvalid(&entry.pending_tid);
		entry.announcement = false;
		pending_keep(list, &entry);
	}
}

/*
 * The committed pending entries, queued or batched, at most `limit` (the
 * lowest ids), in id order.
 */
static void
pending_collect(Relation pending, Snapshot snapshot, int64 limit, PendingList *list)
{
	TableScanDesc scan = table_beginscan(pending, snapshot, 0, NULL);
	TupleDesc	desc = RelationGetDescr(pending);
	HeapTuple	tuple;

	list->limit = limit;
	list->heaped = false;
	list->count = 0;
	list->allocated = Min(limit, 1024);
	list->entries = palloc(sizeof(PendingEntry) * list->allocated);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		PendingEntry entry;
		bool		id_null;
		bool		tid_null;
		Datum		id = heap_getattr(tuple, 1, desc, &id_null);
		Datum		tid = heap_getattr(tuple, 2, desc, &tid_null);

		CHECK_FOR_INTERRUPTS();
		if (id_null || tid_null)
			continue;			/* verify() reports such a queue row */
		entry.entry_id = DatumGetInt64(id);
		entry.batched = false;
		entry.batch_index = -1;
		entry.entry_tid = *(ItemPointer) DatumGetPointer(tid);
		entry.pending_tid = tuple->t_self;
		entry.announcement = false;
		pending_keep(list, &entry);
	}
	table_endscan(scan);
	entry_batches_scan(snapshot, NULL, batch_collect, list);
	qsort(list->entries, list->count, sizeof(PendingEntry), pending_entry_cmp);
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

/*
 * A batch some of whose entries this block takes: which, and (while it
 * is among the last few used) its entries unpacked.  Entries are sealed in
 * id order, and a batch's ids run mostly together, so each batch is
 * mostly read once.
 */
typedef struct TouchedBatch
{
	ItemPointerData tid;		/* hash key */
	bool	   *taken;			/* by place in the batch */
	int			ntaken;
	int			nentries;
	EntryBatch *batch;			/* NULL once evicted */
	MemoryContext cxt;
	uint64		last_use;
} TouchedBatch;

#define MC_SEAL_BATCHES_CACHED 8

typedef struct SealState
{
	DirectTable *entries;
	Relation	pkey;
	Relation	pending;
	Relation	batches;
	Snapshot	snapshot;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	MerkleBuilder merkle;
	HTAB	   *touched;
	TouchedBatch *cached[MC_SEAL_BATCHES_CACHED];	/* those unpacked now */
	int			ncached;
	uint64		uses;
	TupleTableSlot *slots[MC_SEAL_INSERT_BATCH];	/* batched entries, placed */
	int			nslots;
	MemoryContext insertcxt;	/* their tuples, until written */
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
 * Drop the unpacked entries of the batch used longest ago; the cached
 * ones are few, and listed apart from the hash of every batch touched.
 */
static void
batch_cache_evict(SealState *state)
{
	int			oldest = 0;
	int			i;

	for (i = 1; i < state->ncached; i++)
		if (state->cached[i]->last_use < state->cached[oldest]->last_use)
			oldest = i;
	MemoryContextDelete(state->cached[oldest]->cxt);
	state->cached[oldest]->cxt = NULL;
	state->cached[oldest]->batch = NULL;
	state->cached[oldest] = state->cached[--state->ncached];
}

static TouchedBatch *
batch_touch(SealState *state, ItemPointer tid)
{
	bool		found;
	TouchedBatch *t = hash_search(state->touched, tid, HASH_ENTER, &found);

	if (!found)
	{
		t->taken = NULL;
		t->ntaken = 0;
		t->batch = NULL;
		t->cxt = NULL;
	}
	if (t->batch == NULL)
	{
		MemoryContext old;

		if (state->ncached == MC_SEAL_BATCHES_CACHED)
			batch_cache_evict(state);
		t->cxt = AllocSetContextCreate(TopTransactionContext, "medchain seal batch",
									   ALLOCSET_DEFAULT_SIZES);
		old = MemoryContextSwitchTo(t->cxt);
		t->batch = palloc(sizeof(EntryBatch));
		if (!entry_batch_fetch(state->batches, state->snapshot, tid, t->batch))
			elog(ERROR, "entry batch (%u,%u) vanished while sealing",
				 ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid));
		MemoryContextSwitchTo(old);
		if (t->batch->malformed != NULL)
			refuse_malformed_batch(t->batch);
		if (t->taken == NULL)
		{
			t->nentries = t->batch->nentries;
			t->taken = MemoryContextAllocZero(TopTransactionContext,
											  sizeof(bool) * t->nentries);
		}
		state->cached[state->ncached++] = t;
	}
	t->last_use = ++state->uses;
	return t;
}

static void
batched_entries_insert(SealState *state)
{
	int			i;

	if (state->nslots == 0)
		return;
	direct_multi_insert(state->entries, state->slots, state->nslots, NULL);
	for (i = 0; i < state->nslots; i++)
		ExecClearTuple(state->slots[i]);
	state->nslots = 0;
	MemoryContextReset(state->insertcxt);
}

/*
 * Seal a batched entry as leaf `leaf` of block `height`: it becomes a row
 * of medchain.entries, already placed.
 */
static void
seal_batched_entry(SealState *state, const PendingEntry *pending, int64 height, int32 leaf)
{
	TouchedBatch *t = batch_touch(state, (ItemPointer) &pending->entry_tid);
	const BatchEntry *entry = &t->batch->entries[pending->batch_index];
	HeapTuple	tuple;
	MemoryContext old;

	if (entry->entry_id != pending->entry_id || t->taken[pending->batch_index])
		elog(ERROR, "entry batch (%u,%u) changed while sealing",
			 ItemPointerGetBlockNumber(&t->tid), ItemPointerGetOffsetNumber(&t->tid));
	t->taken[pending->batch_index] = true;
	t->ntaken++;
	merkle_add_entry(&state->merkle, entry->entry_hash);

	/* formed where it lives until its set of rows is written */
	old = MemoryContextSwitchTo(state->insertcxt);
	tuple = batch_entry_tuple(state->entries->rel, state->attnums, t->batch, entry,
							  height, leaf);
	MemoryContextSwitchTo(TopTransactionContext);
	if (state->slots[state->nslots] == NULL)
		state->slots[state->nslots] =
			MakeSingleTupleTableSlot(RelationGetDescr(state->entries->rel), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(tuple, state->slots[state->nslots], false);
	MemoryContextSwitchTo(old);
	if (++state->nslots == MC_SEAL_INSERT_BATCH)
		batched_entries_insert(state);
}

/* The batches this block took entries from lose them. */
static void
batches_settle(SealState *state)
{
	HASH_SEQ_STATUS seq;
	TouchedBatch *t;

	batched_entries_insert(state);
	hash_seq_init(&seq, state->touched);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		int			i;
		bool	   *keep;

		CHECK_FOR_INTERRUPTS();
		if (t->ntaken == t->nentries)
		{
			simple_heap_delete(state->batches, &t->tid);
			continue;
		}
		if (t->batch == NULL)
			t = batch_touch(state, &t->tid);
		keep = palloc(sizeof(bool) * t->nentries);
		for (i = 0; i < t->nentries; i++)
			keep[i] = !t->taken[i];
		entry_batch_keep_only(state->batches, state->snapshot, t->batch, keep);
	}
}

/*
 * The key this node signs the block with, and whether the chain must
 * learn it first: a key the chain has retired may sign nothing; one it
 * has not announced is announced by an event sealed into this very block,
 * so that no block is ever signed by a key its chain does not name.
 */
static bool
signer_prepare(SealState *state, uint8 public_key[MC_SIGNER_KEY_LEN])
{
	uint8		fingerprint[MC_HASH_LEN];
	ChainKey   *key;

	medchain_node_public_key(public_key);
	medchain_key_fingerprint(public_key, fingerprint);
	key = chain_keys_find(chain_keys_load(state->entries->rel, state->attnums, state->snapshot),
						  fingerprint);
	if (key != NULL && key->retire_entry_id != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("node key %s is retired", mc_hex(fingerprint, MC_HASH_LEN)),
				 errdetail("Entry %lld of this chain retired the key in medchain.node_key_file: %s",
						   (long long) key->retire_entry_id, key->retire_reason),
				 errhint("Give the node a new key: stop the server, move the key file away and start the server again.")));
	return key == NULL || key->announced_height < 0;
}

/* Seal the signer's node_key event as leaf `leaf` of block `height`. */
static void
seal_announcement(SealState *state, JournalWriter *writer, const PendingEntry *pending,
				  const uint8 public_key[MC_SIGNER_KEY_LEN], int64 height, int32 leaf)
{
	JournalRecord record;
	LedgerName	name;
	uint8		row_hash[MC_HASH_LEN];
	uint8		entry_hash[MC_HASH_LEN];

	chain_keys_announcement(&record, &name, public_key, row_hash);
	journal_append_sealed(writer, &record, pending->entry_id, height, leaf, entry_hash);
	merkle_add_entry(&state->merkle, entry_hash);
}

/*
 * The chain id the next block carries: none for genesis (zeros), else
 * its genesis block's hash, which a version 3 head already carries.
 */
static void
chain_id_for_next(const BlockRow *head, Snapshot snapshot, uint8 chain_id[MC_HASH_LEN])
{
	memset(chain_id, 0, MC_HASH_LEN);
	if (head == NULL)
		return;
	if (head->header.format_version >= MC_BLOCK_FORMAT_SIGNED || head->header.height == 0)
		block_chain_id(head, chain_id);
	else if (!block_chain_id_of_chain(snapshot, chain_id))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the chain has no genesis block"),
				 errdetail("A signed block carries its chain's id, the hash of the genesis block."),
				 errhint("Someone with superuser rights altered medchain.blocks; run medchain.verify().")));
}

/*
 * The library seals signed blocks, whose signature 1.2's medchain.blocks
 * has no column for: say so rather than seal what the table cannot hold.
 */
static void
require_signed_blocks(DirectTable *blocks)
{
	if (!block_table_signed(RelationGetDescr(blocks->rel)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("medchain's objects in this database are older than its library"),
				 errdetail("The installed medchain library seals signed blocks of format %d, which medchain.blocks before version 1.3 cannot hold.",
						   MC_BLOCK_FORMAT_CURRENT),
				 errhint("Run ALTER EXTENSION medchain UPDATE in this database.")));
}

/* The signature over the block, by the key whose fingerprint is its node_id. */
static void
block_sign(BlockRow *block, const uint8 signer[MC_SIGNER_KEY_LEN])
{
	uint8		chain_id[MC_HASH_LEN];

	block_chain_id(block, chain_id);
	medchain_node_sign_block(signer, chain_id, block->header.height, block->block_hash,
							 block->signature);
	memcpy(block->signer_key, signer, MC_SIGNER_KEY_LEN);
	block->signer_key_len = MC_SIGNER_KEY_LEN;
	block->signature_len = MC_SIGNATURE_LEN;
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
 * The head of the chain as sealing goes on: the last block, committed or
 * sealed by this call, and what every next block must agree with.
 */
typedef struct SealChain
{
	BlockRow	head;
	bool		have_head;
	int64		floor;
	int			difficulty;
	uint8		signer[MC_SIGNER_KEY_LEN];
	JournalWriter *announcer;	/* set while the signer is to be announced */
} SealChain;

/* Lock the chain, take the snapshot everything is read through, open all. */
static void
seal_state_open(SealState *state, DirectTable **blocks, SealChain *chain)
{
	HASHCTL		ctl;

	*blocks = direct_open(medchain_relation("blocks"), ExclusiveLock);
	require_signed_blocks(*blocks);
	state->snapshot = RegisterSnapshot(GetLatestSnapshot());
	chain->have_head = block_head(state->snapshot, &chain->head);
	chain->difficulty = chain_difficulty();
	chain->floor = floor_for_next(chain->have_head ? &chain->head : NULL, state->snapshot,
								  chain->difficulty);
	check_difficulty(chain->have_head ? &chain->head : NULL, chain->floor, chain->difficulty);

	state->pending = table_open(medchain_relation("pending"), RowExclusiveLock);
	state->entries = direct_open(medchain_journal_relid(), RowExclusiveLock);
	state->pkey = index_open(medchain_relation("entries_pkey"), RowExclusiveLock);
	entry_columns_find(state->entries->rel, state->attnums);
	state->batches = OidIsValid(get_relname_relid("entry_batches", medchain_namespace())) ?
		table_open(medchain_relation("entry_batches"), RowExclusiveLock) : NULL;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(ItemPointerData);
	ctl.entrysize = sizeof(TouchedBatch);
	ctl.hcxt = CurrentMemoryContext;
	state->touched = hash_create("medchain seal batches", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	state->ncached = 0;
	state->uses = 0;
	state->nslots = 0;
	memset(state->slots, 0, sizeof(state->slots));
	state->insertcxt = AllocSetContextCreate(CurrentMemoryContext, "medchain seal rows",
											 ALLOCSET_DEFAULT_SIZES);
}

static void
seal_state_close(SealState *state, DirectTable *blocks)
{
	int			slot;

	for (slot = 0; slot < MC_SEAL_INSERT_BATCH && state->slots[slot] != NULL; slot++)
		ExecDropSingleTupleTableSlot(state->slots[slot]);
	if (state->batches != NULL)
		table_close(state->batches, NoLock);
	index_close(state->pkey, NoLock);
	direct_close(state->entries);
	table_close(state->pending, NoLock);
	direct_close(blocks);
	UnregisterSnapshot(state->snapshot);
}

/*
 * Seal `count` entries (at least one), in entry_id order, as the block
 * after the chain's head, which it then becomes.
 */
static void
seal_block(SealState *state, DirectTable *blocks, SealChain *chain,
		   const PendingEntry *entries, int64 count)
{
	BlockRow	block;
	MemoryContext entrycxt;
	int64		i;

	memset(&block, 0, sizeof(block));
	block.header.format_version = MC_BLOCK_FORMAT_CURRENT;
	block.header.height = chain->have_head ? chain->head.header.height + 1 : 0;
	if (chain->have_head)
		memcpy(block.header.prev_hash, chain->head.block_hash, MC_HASH_LEN);
	merkle_begin(&state->merkle);

	entrycxt = AllocSetContextCreate(CurrentMemoryContext, "medchain seal entry",
									 ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < count; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(entrycxt);

		CHECK_FOR_INTERRUPTS();
		if (entries[i].announcement)
			seal_announcement(state, chain->announcer, &entries[i], chain->signer,
							  block.header.height, (int32) i);
		else if (entries[i].batched)
			seal_batched_entry(state, &entries[i], block.header.height, (int32) i);
		else
			seal_entry(state, &entries[i], block.header.height, (int32) i);
		MemoryContextSwitchTo(old);
		MemoryContextReset(entrycxt);
	}
	MemoryContextDelete(entrycxt);

	block.first_entry_id = entries[0].entry_id;
	block.last_entry_id = entries[count - 1].entry_id;
	merkle_root(&state->merkle, block.header.merkle_root);
	block.header.entry_count = (uint32) count;
	block.header.sealed_at = GetCurrentTimestamp();
	block.header.difficulty = (uint32) chain->difficulty;
	block.header.min_difficulty = (uint32) chain->floor;
	chain_id_for_next(chain->have_head ? &chain->head : NULL, state->snapshot,
					  block.header.chain_id);
	/* a signed block names its node by its key, not by its name */
	medchain_key_fingerprint(chain->signer, block.header.node_id);
	block.node_name = chain_node_name();
	pow_search(&block.header, block.block_hash);
	block_sign(&block, chain->signer);
	direct_insert(blocks, block_row_to_tuple(&block, RelationGetDescr(blocks->rel)));

	chain->head = block;
	chain->have_head = true;
}

/*
 * The first block a new key signs carries its announcement and as many
 * pending entries as leave room for it.  The announcement takes its place
 * among them in entry_id order: its id comes from this backend's cache of
 * ids, which may lie below ids other backends have already used.
 */
static int64
seal_first_signed_block(SealState *state, DirectTable *blocks, SealChain *chain,
						PendingList *pending, int64 per_block)
{
	int64		taken = Min(pending->count, per_block - 1);
	PendingEntry *entries = palloc(sizeof(PendingEntry) * (taken + 1));
	int64		announcement_id;
	int64		at = 0;

	chain->announcer = journal_open();
	announcement_id = journal_next_entry_id(chain->announcer);
	while (at < taken && pending->entries[at].entry_id < announcement_id)
		at++;
	memcpy(entries, pending->entries, sizeof(PendingEntry) * at);
	memset(&entries[at], 0, sizeof(PendingEntry));
	entries[at].entry_id = announcement_id;
	entries[at].announcement = true;
	memcpy(&entries[at + 1], &pending->entries[at], sizeof(PendingEntry) * (taken - at));
	seal_block(state, blocks, chain, entries, taken + 1);
	journal_close(chain->announcer);
	chain->announcer = NULL;
	pfree(entries);
	return taken;
}

void
medchain_seal_pending(int64 max_entries, int64 per_block, SealOutcome *outcome)
{
	SealState	state;
	SealChain	chain;
	DirectTable *blocks;
	PendingList pending;
	int64		done = 0;
	bool		announce;

	Assert(max_entries > 0 && per_block > 0);
	memset(outcome, 0, sizeof(SealOutcome));
	seal_state_open(&state, &blocks, &chain);
	/* after the lock: a halt set while this seal waited for it counts */
	sealing_halt_check();
	chain.announcer = NULL;
	/* a key that may not sign is refused even with nothing to seal */
	announce = signer_prepare(&state, chain.signer);
	pending_collect(state.pending, state.snapshot, max_entries, &pending);
	outcome->limited = (pending.count == max_entries);
	if (pending.count > 0 && announce)
	{
		done = seal_first_signed_block(&state, blocks, &chain, &pending, per_block);
		outcome->blocks++;
		outcome->entries += done + 1;
	}
	while (done < pending.count)
	{
		int64		count = Min(pending.count - done, per_block);

		seal_block(&state, blocks, &chain, &pending.entries[done], count);
		done += count;
		outcome->blocks++;
		outcome->entries += count;
	}
	batches_settle(&state);
	if (outcome->blocks > 0)
	{
		outcome->last_height = chain.head.header.height;
		medchain_replicator_wake_at_commit();
	}
	seal_state_close(&state, blocks);
}

/*
 * medchain.seal(max_entries int DEFAULT NULL) RETURNS bigint
 *
 * Seals committed pending entries, at most max_entries, in entry_id
 * order, into new blocks of at most medchain.block_max_entries each;
 * returns the height of the last, or NULL when nothing is pending.
 */
Datum
medchain_seal(PG_FUNCTION_ARGS)
{
	int64		limit;
	SealOutcome outcome;

	require_admin("seal blocks");
	limit = max_entries_argument(fcinfo);
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot seal blocks during recovery"),
				 errdetail("This server is a standby; its chain comes from the primary."),
				 errhint("Run medchain.seal() on the primary.")));
	medchain_seal_pending(limit, chain_block_max_entries(), &outcome);
	if (outcome.blocks == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(outcome.last_height);
}
