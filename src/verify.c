/*-------------------------------------------------------------------------
 *
 * verify.c
 *	  medchain.verify(): integrity checks that name what was altered,
 *	  deleted or slipped in.
 *
 * One sequential pass over the journal does three jobs at once:
 *
 * - each entry is re-hashed and compared with its entry_hash;
 * - each sealed entry's leaf goes into its block's Merkle tree, in
 *   leaf_index order, built as the leaves arrive (merkle.c), so a block is
 *   checked against its root as soon as all its entries are in;
 * - each entry of a checked ledger table is paired with the table's rows,
 *   hashed in heap order by a parallel worker or by this backend
 *   (row_stream.c).  Rows are appended in about the order their entries
 *   are, so pairing by row_hash almost always succeeds at once; what does
 *   not pair waits in a small table and is settled at the end, or earlier
 *   when too much waits, by a lookup by key.  Memory therefore does not
 *   grow with the table.
 *
 * A second, short pass checks the block headers and their links.
 *
 * Each tamper is reported once, where it happened: a row altered behind
 * the triggers is row_modified, not also a broken entry; an entry that no
 * longer hashes right is entry_modified, and its row is not compared with
 * it; a block whose hash was recomputed without proof-of-work is
 * block_modified, and the next block's link to it is not reported too.
 *
 * Everything is read with one snapshot, so a row and its entry (written in
 * one transaction) are seen together or not at all; nothing is written,
 * so verify() runs on a hot standby.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "storage/bufmgr.h"
#include "utils/tuplestore.h"

#include "block.h"
#include "journal.h"
#include "ledger_cache.h"
#include "merkle.h"
#include "privileges.h"
#include "registry.h"
#include "row_stream.h"
#include "rows.h"

PG_FUNCTION_INFO_V1(medchain_verify);

/* Unpaired rows and entries a table check holds (some 10 MB) before settling them. */
#define UNPAIRED_LIMIT 100000

/* ---------- findings ---------- */

typedef struct Findings
{
	Tuplestorestate *store;
	TupleDesc	desc;
} Findings;

/* entry_id and block_height are NULL when negative. */
static void
report(Findings *findings, const char *finding, const char *relation,
	   Jsonb *row_key, int64 entry_id, int64 block_height, const char *detail)
{
	Datum		values[6];
	bool		isnull[6] = {false, relation == NULL, row_key == NULL,
	entry_id < 0, block_height < 0, detail == NULL};

	values[0] = CStringGetTextDatum(finding);
	values[1] = relation ? CStringGetTextDatum(relation) : (Datum) 0;
	values[2] = row_key ? JsonbPGetDatum(row_key) : (Datum) 0;
	values[3] = Int64GetDatum(entry_id);
	values[4] = Int64GetDatum(block_height);
	values[5] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	tuplestore_putvalues(findings->store, findings->desc, values, isnull);
}

/* ---------- row checks of one ledger table ---------- */

typedef struct UnpairedEntry
{
	uint8		row_hash[MC_HASH_LEN];	/* hash key */
	int64		entry_id;
	int64		block_height;
	Jsonb	   *row_key;
} UnpairedEntry;

typedef struct UnpairedRow
{
	uint8		row_hash[MC_HASH_LEN];	/* hash key */
	Jsonb	   *row_key;
} UnpairedRow;

/* A schema-qualified name: two quoted identifiers, a dot, the NUL. */
#define RELATION_NAME_LEN (2 * (2 * NAMEDATALEN + 2) + 2)

typedef struct TableCheck
{
	char		relation[RELATION_NAME_LEN];	/* as in medchain.entries; hash key */
	Oid			relid;
	int64		prior_entry_id; /* entries of the current enablement only */
	Relation	rel;
	LedgerRelation *ledger;
	RowStream  *stream;			/* the table's rows, hashed, in heap order */
	TupleTableSlot *lookup_slot;	/* a row found by its key */
	StringInfoData encoding;
	MemoryContext unpaired_cxt; /* the two tables and the keys they hold */
	HTAB	   *entries;
	HTAB	   *rows;
} TableCheck;

typedef struct VerifyState
{
	Findings	findings;
	Snapshot	snapshot;
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	HTAB	   *tables;			/* TableCheck by relation */
	TableCheck **checks;		/* the same, largest table first */
	TableCheck *last_check;		/* the table of the last entry met */
	int			nchecks;
	RowStreams *streams;
	int64		head_height;	/* -1 without blocks */
	MemoryContext percall;		/* reset for every entry and row */
	EntryCheckBuffers entry_buffers;
	Datum	   *entry_values;	/* a journal tuple, deformed */
	bool	   *entry_isnull;
} VerifyState;

static void
unpaired_tables_create(TableCheck *check)
{
	HASHCTL		ctl;

	ctl.keysize = MC_HASH_LEN;
	ctl.hcxt = check->unpaired_cxt;
	ctl.entrysize = sizeof(UnpairedEntry);
	check->entries = hash_create("medchain verify unpaired entries", 256, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.entrysize = sizeof(UnpairedRow);
	check->rows = hash_create("medchain verify unpaired rows", 256, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * An entry that paired with no row: its row is gone (row_missing) or no
 * longer hashes to the entry's row_hash (row_modified).  A row that is
 * there and hashes right was only further along the scan.
 */
static void
settle_entry(VerifyState *state, TableCheck *check, UnpairedEntry *entry)
{
	ItemPointerData tid;
	uint8		hash[MC_HASH_LEN];

	if (!ledger_key_fits(check->ledger, entry->row_key) ||
		!ledger_row_find(check->rel, check->ledger, entry->row_key, &tid))
	{
		report(&state->findings, "row_missing", check->relation, entry->row_key,
			   entry->entry_id, entry->block_height,
			   "the recorded row's key is gone from the table");
		return;
	}
	if (!table_tuple_fetch_row_version(check->rel, &tid, state->snapshot, check->lookup_slot))
		elog(ERROR, "row of %s vanished during verification", check->relation);
	row_hash_of_slot(check->ledger, check->lookup_slot, &check->encoding, hash);
	ExecClearTuple(check->lookup_slot);
	if (memcmp(hash, entry->row_hash, MC_HASH_LEN) != 0)
		report(&state->findings, "row_modified", check->relation, entry->row_key,
			   entry->entry_id, entry->block_height,
			   "the row no longer hashes to its entry's row_hash");
}

/*
 * A row that paired with no entry: unrecorded unless an entry for its key
 * exists, in which case that entry reports what happened to the row.
 */
static void
settle_row(VerifyState *state, TableCheck *check, UnpairedRow *row)
{
	if (journal_row_entry(state->journal, state->attnums, check->relation, row->row_key,
						  check->prior_entry_id, state->snapshot) == NULL)
		report(&state->findings, "row_unrecorded", check->relation, row->row_key,
			   -1, -1, "the row has no entry in medchain.entries");
}

static void
settle_unpaired(VerifyState *state, TableCheck *check)
{
	HASH_SEQ_STATUS seq;
	UnpairedEntry *entry;
	UnpairedRow *row;

	hash_seq_init(&seq, check->entries);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		settle_entry(state, check, entry);
		MemoryContextReset(state->percall);
	}
	hash_seq_init(&seq, check->rows);
	while ((row = hash_seq_search(&seq)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		settle_row(state, check, row);
		MemoryContextReset(state->percall);
	}
	MemoryContextReset(check->unpaired_cxt);
	unpaired_tables_create(check);
}

static void
settle_if_full(VerifyState *state, TableCheck *check)
{
	if (hash_get_num_entries(check->entries) + hash_get_num_entries(check->rows) >= UNPAIRED_LIMIT)
		settle_unpaired(state, check);
}

static Jsonb *
jsonb_copy_to(MemoryContext cxt, Jsonb *value)
{
	Jsonb	   *copy = MemoryContextAlloc(cxt, VARSIZE(value));

	memcpy(copy, value, VARSIZE(value));
	return copy;
}

/* A row from the stream: pair it with a waiting entry, or let it wait. */
static void
take_row(VerifyState *state, TableCheck *check, const uint8 hash[MC_HASH_LEN])
{
	bool		found;
	UnpairedRow *row;

	if (hash_search(check->entries, hash, HASH_REMOVE, NULL) != NULL)
		return;
	row = hash_search(check->rows, hash, HASH_ENTER, &found);
	if (!found)
	{
		TupleTableSlot *slot = row_stream_current_row(check->stream);

		row->row_key = jsonb_copy_to(check->unpaired_cxt,
									 row_key_build(check->ledger->key_layout,
												   slot->tts_values, slot->tts_isnull));
	}
	settle_if_full(state, check);
}

/*
 * An entry of the table: pair it with a waiting row, else with the next
 * row of the scan (the usual case), else let it wait.
 */
static void
take_entry(VerifyState *state, TableCheck *check, const uint8 row_hash[MC_HASH_LEN],
		   int64 entry_id, int64 block_height, Datum row_key)
{
	uint8		hash[MC_HASH_LEN];
	bool		found;
	UnpairedEntry *entry;

	if (hash_get_num_entries(check->rows) > 0 &&
		hash_search(check->rows, row_hash, HASH_REMOVE, NULL) != NULL)
		return;
	if (row_stream_next(check->stream, hash))
	{
		if (memcmp(hash, row_hash, MC_HASH_LEN) == 0)
			return;
		take_row(state, check, hash);
	}
	entry = hash_search(check->entries, row_hash, HASH_ENTER, &found);
	if (!found)
	{
		entry->entry_id = entry_id;
		entry->block_height = block_height;
		entry->row_key = jsonb_copy_to(check->unpaired_cxt, DatumGetJsonbP(row_key));
	}
	settle_if_full(state, check);
}

/* Rows left after the last entry, then everything still unpaired. */
static void
table_check_finish(VerifyState *state, TableCheck *check)
{
	uint8		hash[MC_HASH_LEN];

	while (row_stream_next(check->stream, hash))
	{
		CHECK_FOR_INTERRUPTS();
		take_row(state, check, hash);
		MemoryContextReset(state->percall);
	}
	settle_unpaired(state, check);
	ExecDropSingleTupleTableSlot(check->lookup_slot);
}

/* ---------- the tables to check ---------- */

/*
 * Active ledger tables (or just tbl), each with the id of the last entry
 * before its current enablement: older entries belong to an earlier
 * enablement and are not compared with today's rows.
 */
static int
check_larger_first(const ListCell *a, const ListCell *b)
{
	BlockNumber x = RelationGetNumberOfBlocks(((TableCheck *) lfirst(a))->rel);
	BlockNumber y = RelationGetNumberOfBlocks(((TableCheck *) lfirst(b))->rel);

	return (x < y) - (x > y);
}

static void
tables_load(VerifyState *state, Oid only)
{
	HASHCTL		ctl;
	List	   *registrations = registry_active_list(state->snapshot, only);
	List	   *checks = NIL;
	Relation   *rels;
	ListCell   *lc;
	int			i;

	ctl.keysize = RELATION_NAME_LEN;
	ctl.entrysize = sizeof(TableCheck);
	ctl.hcxt = CurrentMemoryContext;
	state->tables = hash_create("medchain verify tables", 16, &ctl,
								HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	foreach(lc, registrations)
	{
		Registration *row = lfirst(lc);
		TableCheck *check;
		bool		found;

		if (strlen(row->relation) >= ctl.keysize)
			elog(ERROR, "relation name %s is too long", row->relation);
		check = hash_search(state->tables, row->relation, HASH_ENTER, &found);
		check->relid = row->relid;
		check->prior_entry_id = row->prior_entry_id;
		check->rel = table_open(check->relid, AccessShareLock);
		check->ledger = ledger_relation_get(check->rel);
		check->lookup_slot = table_slot_create(check->rel, NULL);
		check->unpaired_cxt = AllocSetContextCreate(ctl.hcxt, "medchain verify unpaired",
													ALLOCSET_DEFAULT_SIZES);
		unpaired_tables_create(check);
		initStringInfo(&check->encoding);
		checks = lappend(checks, check);
	}

	/* the largest first: they get the parallel workers */
	list_sort(checks, check_larger_first);
	state->nchecks = list_length(checks);
	state->checks = palloc(sizeof(TableCheck *) * Max(state->nchecks, 1));
	rels = palloc(sizeof(Relation) * Max(state->nchecks, 1));
	i = 0;
	foreach(lc, checks)
	{
		state->checks[i] = lfirst(lc);
		rels[i] = state->checks[i]->rel;
		i++;
	}
	state->streams = row_streams_open(rels, state->nchecks, state->snapshot);
	for (i = 0; i < state->nchecks; i++)
		state->checks[i]->stream = &state->streams->streams[i];
}

/* ---------- blocks met during the walk ---------- */

/* Early leaves a block holds before it stops checking its root. */
#define EARLY_LEAF_LIMIT 10000

/*
 * A block whose leaves are arriving.  The journal is read in physical
 * order, which is leaf order for all but a few entries (rows committed out
 * of order, a rewritten table); a leaf that arrives before its turn waits
 * in `early` until the leaves before it are in.
 */
typedef struct OpenBlock
{
	int64		height;			/* hash key */
	bool		exists;
	bool		header_intact;	/* else the chain check reports the block */
	uint32		entry_count;
	uint8		merkle_root[MC_HASH_LEN];
	int64		first_entry_id;
	int64		last_entry_id;
	MerkleBuilder merkle;
	uint32		next_leaf;		/* the leaf_index the builder takes next */
	HTAB	   *early;			/* leaf_index -> entry hash, or NULL */
	bool		scrambled;		/* too many early leaves: recompute by index */
	uint64		leaves;			/* entries met */
	bool		entry_reported; /* an entry of it was already reported */
	int64		misplaced_entry;	/* first entry whose leaf_index is taken or
									 * out of range, or -1 */
} OpenBlock;

typedef struct EarlyLeaf
{
	uint32		leaf_index;		/* hash key */
	uint8		entry_hash[MC_HASH_LEN];
} EarlyLeaf;

typedef struct ChainWalk
{
	HTAB	   *open;
	OpenBlock  *last_block;		/* the open block of the last entry */
	Bitmapset  *seen;			/* heights with at least one entry */
	MemoryContext cxt;			/* outlives the walk, unlike each entry's */
	Snapshot	snapshot;
} ChainWalk;

/* The open block of that height; NULL if the block was complete already. */
static OpenBlock *
block_open_for(ChainWalk *walk, int64 height)
{
	bool		found;
	OpenBlock  *block;
	BlockRow	row;

	if (walk->last_block != NULL && walk->last_block->height == height)
		return walk->last_block;
	block = hash_search(walk->open, &height, HASH_FIND, NULL);
	if (block != NULL)
		return walk->last_block = block;
	if (height <= PG_INT32_MAX && bms_is_member((int) height, walk->seen))
		return NULL;

	block = hash_search(walk->open, &height, HASH_ENTER, &found);
	walk->last_block = block;
	block->exists = block_row_fetch(height, walk->snapshot, &row);
	block->header_intact = block->exists && block_integrity_problem(&row) == NULL;
	block->entry_count = block->exists ? row.header.entry_count : 0;
	if (block->exists)
	{
		memcpy(block->merkle_root, row.header.merkle_root, MC_HASH_LEN);
		block->first_entry_id = row.first_entry_id;
		block->last_entry_id = row.last_entry_id;
	}
	merkle_begin(&block->merkle);
	block->next_leaf = 0;
	block->early = NULL;
	block->scrambled = false;
	block->leaves = 0;
	block->entry_reported = false;
	block->misplaced_entry = -1;
	if (height <= PG_INT32_MAX)
	{
		MemoryContext old = MemoryContextSwitchTo(walk->cxt);

		walk->seen = bms_add_member(walk->seen, (int) height);
		MemoryContextSwitchTo(old);
	}
	return block;
}

static void
early_leaves_drop(OpenBlock *block)
{
	if (block->early != NULL)
		hash_destroy(block->early);
	block->early = NULL;
}

/* Give the builder the leaf at `leaf`, then any early ones it unblocks. */
static void
block_add_leaf(ChainWalk *walk, OpenBlock *block, int32 leaf, int64 entry_id,
			   const uint8 entry_hash[MC_HASH_LEN])
{
	bool		found;
	EarlyLeaf  *early;

	if (block->scrambled)
		return;
	if (leaf < (int32) block->next_leaf || (uint32) leaf >= block->entry_count)
	{
		if (block->misplaced_entry < 0)
			block->misplaced_entry = entry_id;
		return;
	}
	if ((uint32) leaf > block->next_leaf)
	{
		if (block->early == NULL)
		{
			HASHCTL		ctl;

			ctl.keysize = sizeof(uint32);
			ctl.entrysize = sizeof(EarlyLeaf);
			ctl.hcxt = walk->cxt;
			block->early = hash_create("medchain verify early leaves", 64, &ctl,
									   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		}
		early = hash_search(block->early, &leaf, HASH_ENTER, &found);
		if (found && block->misplaced_entry < 0)
			block->misplaced_entry = entry_id;
		memcpy(early->entry_hash, entry_hash, MC_HASH_LEN);
		if (hash_get_num_entries(block->early) > EARLY_LEAF_LIMIT)
		{
			block->scrambled = true;
			early_leaves_drop(block);
		}
		return;
	}
	merkle_add_entry(&block->merkle, entry_hash);
	block->next_leaf++;
	while (block->early != NULL &&
		   (early = hash_search(block->early, &block->next_leaf, HASH_FIND, NULL)) != NULL)
	{
		merkle_add_entry(&block->merkle, early->entry_hash);
		hash_search(block->early, &block->next_leaf, HASH_REMOVE, NULL);
		block->next_leaf++;
	}
}

static void
add_leaf_in_order(void *arg, const uint8 *entry_hash)
{
	static const uint8 no_hash[MC_HASH_LEN];

	/* a malformed hash was reported with its entry; the root will not match */
	merkle_add_entry((MerkleBuilder *) arg, entry_hash ? entry_hash : no_hash);
}

/*
 * The root of a block whose leaves came too far out of order: its entries
 * again, through the primary key, in entry_id order.
 */
static void
block_root_in_id_order(VerifyState *state, const OpenBlock *block, uint8 root[MC_HASH_LEN])
{
	MerkleBuilder merkle;

	merkle_begin(&merkle);
	journal_block_entry_hashes(state->journal, state->attnums, state->snapshot, block->height,
							   block->first_entry_id, block->last_entry_id,
							   add_leaf_in_order, &merkle);
	merkle_root(&merkle, root);
}

/* All its entries are in (or the journal is): compare with the header. */
static void
block_close(VerifyState *state, OpenBlock *block)
{
	uint8		root[MC_HASH_LEN];

	if (!block->exists)
	{
		/* a gap in the chain is reported by the chain check */
		if (block->height > state->head_height)
			report(&state->findings, "chain_broken", NULL, NULL, -1, block->height,
				   psprintf("%llu entries are sealed in block %lld, which does not exist",
							(unsigned long long) block->leaves, (long long) block->height));
		return;
	}
	if (!block->header_intact)
		return;					/* its header no longer says what it held */
	if (block->leaves < block->entry_count)
		report(&state->findings, "entry_missing", NULL, NULL, -1, block->height,
			   psprintf("block %lld has %llu of its %u entries",
						(long long) block->height,
						(unsigned long long) block->leaves, block->entry_count));
	else if (block->entry_reported)
		return;
	else if (block->misplaced_entry >= 0)
		report(&state->findings, "entry_modified", NULL, NULL, block->misplaced_entry,
			   block->height, "its leaf_index is taken or outside the block");
	else
	{
		if (block->scrambled)
			block_root_in_id_order(state, block, root);
		else
			merkle_root(&block->merkle, root);
		if (memcmp(root, block->merkle_root, MC_HASH_LEN) != 0)
			report(&state->findings, "entry_modified", NULL, NULL, -1, block->height,
				   "an entry of this block was altered and its entry_hash recomputed: the leaves no longer give the block's Merkle root");
	}
}

static void
block_close_and_forget(VerifyState *state, ChainWalk *walk, OpenBlock *block)
{
	block_close(state, block);
	early_leaves_drop(block);
	if (walk->last_block == block)
		walk->last_block = NULL;
	hash_search(walk->open, &block->height, HASH_REMOVE, NULL);
}

/* ---------- the walk over the journal ---------- */

/* The check of the entry's table, if it is checked; the last one is kept. */
static TableCheck *
table_check_for(VerifyState *state, Datum relation)
{
	text	   *t = DatumGetTextPP(relation);
	int			len = VARSIZE_ANY_EXHDR(t);
	char	   *name;

	if (state->last_check != NULL && strlen(state->last_check->relation) == len &&
		memcmp(state->last_check->relation, VARDATA_ANY(t), len) == 0)
		return state->last_check;
	if (len >= RELATION_NAME_LEN)
		return NULL;
	name = text_to_cstring(t);
	state->last_check = hash_search(state->tables, name, HASH_FIND, NULL);
	return state->last_check;
}

static void
walk_entry(VerifyState *state, ChainWalk *walk, HeapTuple tuple)
{
	TupleDesc	desc = RelationGetDescr(state->journal);
	Datum	   *values = state->entry_values;
	bool	   *isnull = state->entry_isnull;
	uint8		row_hash[MC_HASH_LEN];
	const char *problem;
	int64		entry_id;
	int64		height;
	OpenBlock  *block = NULL;
	const AttrNumber *a = state->attnums;

	heap_deform_tuple(tuple, desc, values, isnull);
	entry_id = isnull[a[COL_ENTRY_ID] - 1] ? -1 : DatumGetInt64(values[a[COL_ENTRY_ID] - 1]);
	height = isnull[a[COL_BLOCK_HEIGHT] - 1] ? -1 :
		DatumGetInt64(values[a[COL_BLOCK_HEIGHT] - 1]);

	problem = entry_integrity_problem(a, values, isnull, &state->entry_buffers, row_hash);
	if (height >= 0)
	{
		block = block_open_for(walk, height);
		if (block == NULL && problem == NULL)
			problem = psprintf("it is sealed in block %lld, which has all its entries already",
							   (long long) height);
		else if (block != NULL)
		{
			if (problem == NULL && block->exists)
				block_add_leaf(walk, block,
							   isnull[a[COL_LEAF_INDEX] - 1] ? -1 :
							   DatumGetInt32(values[a[COL_LEAF_INDEX] - 1]),
							   entry_id,
							   (const uint8 *) VARDATA_ANY(DatumGetByteaPP(values[a[COL_ENTRY_HASH] - 1])));
			block->leaves++;
			if (problem != NULL)
				block->entry_reported = true;
			if (block->exists && block->leaves == block->entry_count)
				block_close_and_forget(state, walk, block);
		}
	}

	if (problem != NULL)
	{
		report(&state->findings, "entry_modified",
			   isnull[a[COL_RELATION] - 1] ? NULL : TextDatumGetCString(values[a[COL_RELATION] - 1]),
			   isnull[a[COL_ROW_KEY] - 1] ? NULL : DatumGetJsonbP(values[a[COL_ROW_KEY] - 1]),
			   entry_id, height, problem);
		return;
	}

	/* An intact row entry of a checked table: pair it with its row. */
	if (!isnull[a[COL_ROW_KEY] - 1])
	{
		TableCheck *check = table_check_for(state, values[a[COL_RELATION] - 1]);

		if (check != NULL && entry_id > check->prior_entry_id)
			take_entry(state, check, row_hash, entry_id, height, values[a[COL_ROW_KEY] - 1]);
	}
}

/* ---------- the chain of headers ---------- */

static const uint8 zero_hash[MC_HASH_LEN];

/*
 * Headers in height order: each must hash to its block_hash and meet its
 * difficulty (no lower than its predecessor's), link to the block before,
 * and heights must run from 0 without a gap.  A block with entries none
 * of which the walk met lost all of them.
 */
static void
check_chain(VerifyState *state, Bitmapset *seen)
{
	Relation	blocks = table_open(medchain_relation("blocks"), AccessShareLock);
	Relation	pkey = index_open(medchain_relation("blocks_pkey"), AccessShareLock);
	SysScanDesc scan = systable_beginscan_ordered(blocks, pkey, state->snapshot, 0, NULL);
	HeapTuple	tuple;
	BlockRow	previous;
	bool		have_previous = false;
	bool		previous_intact = false;

	while ((tuple = systable_getnext_ordered(scan, ForwardScanDirection)) != NULL)
	{
		BlockRow	row;
		const char *problem;
		int64		h;

		CHECK_FOR_INTERRUPTS();
		block_row_from_tuple(tuple, RelationGetDescr(blocks), &row);
		h = row.header.height;

		problem = block_integrity_problem(&row);
		if (problem == NULL && have_previous &&
			row.header.difficulty < previous.header.difficulty)
			problem = psprintf("its difficulty %u is below the difficulty %u of block %lld",
							   row.header.difficulty, previous.header.difficulty,
							   (long long) previous.header.height);
		if (problem != NULL)
			report(&state->findings, "block_modified", NULL, NULL, -1, h, problem);

		if (!have_previous && h != 0)
			report(&state->findings, "chain_broken", NULL, NULL, -1, h,
				   psprintf("the chain starts at height %lld: genesis block 0 is missing",
							(long long) h));
		else if (have_previous && h != previous.header.height + 1)
			report(&state->findings, "chain_broken", NULL, NULL, -1, h,
				   h == previous.header.height + 2 ?
				   psprintf("block %lld is missing", (long long) h - 1) :
				   psprintf("blocks %lld to %lld are missing",
							(long long) previous.header.height + 1, (long long) h - 1));
		else if (h == 0 && memcmp(row.header.prev_hash, zero_hash, MC_HASH_LEN) != 0)
			report(&state->findings, "chain_broken", NULL, NULL, -1, h,
				   "the genesis block's prev_hash is not 32 zero bytes");
		else if (have_previous && previous_intact &&
				 memcmp(row.header.prev_hash, previous.block_hash, MC_HASH_LEN) != 0)
			report(&state->findings, "chain_broken", NULL, NULL, -1, h,
				   psprintf("its prev_hash is not the block_hash of block %lld",
							(long long) previous.header.height));

		if (row.header.entry_count > 0 &&
			(h > PG_INT32_MAX || !bms_is_member((int) h, seen)))
			report(&state->findings, "entry_missing", NULL, NULL, -1, h,
				   psprintf("none of the block's %u entries is in medchain.entries",
							row.header.entry_count));

		previous = row;
		have_previous = true;
		previous_intact = (problem == NULL);
		MemoryContextReset(state->percall);
	}
	systable_endscan_ordered(scan);
	index_close(pkey, AccessShareLock);
	table_close(blocks, AccessShareLock);
}

/* ---------- medchain.verify() ---------- */

static int64
head_height(Snapshot snapshot)
{
	BlockRow	head;

	return block_head(snapshot, &head) ? head.header.height : -1;
}

static void
walk_journal(VerifyState *state)
{
	TableScanDesc scan = table_beginscan(state->journal, state->snapshot, 0, NULL);
	ChainWalk	walk;
	HASHCTL		ctl;
	HeapTuple	tuple;
	HASH_SEQ_STATUS seq;
	OpenBlock  *block;
	uint64		entries_walked = 0;
	int			i;

	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(OpenBlock);
	ctl.hcxt = CurrentMemoryContext;
	walk.open = hash_create("medchain verify open blocks", 16, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	walk.last_block = NULL;
	walk.seen = NULL;
	walk.cxt = CurrentMemoryContext;
	walk.snapshot = state->snapshot;

	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(state->percall);

		CHECK_FOR_INTERRUPTS();
		walk_entry(state, &walk, tuple);
		MemoryContextSwitchTo(old);
		/* what an entry leaves behind is small: free it in batches */
		if (++entries_walked % 1024 == 0)
			MemoryContextReset(state->percall);
	}
	table_endscan(scan);

	/* blocks still open are missing entries */
	hash_seq_init(&seq, walk.open);
	while ((block = hash_seq_search(&seq)) != NULL)
	{
		block_close(state, block);
		early_leaves_drop(block);
	}

	for (i = 0; i < state->nchecks; i++)
		table_check_finish(state, state->checks[i]);
	row_streams_close(state->streams);
	for (i = 0; i < state->nchecks; i++)
		table_close(state->checks[i]->rel, AccessShareLock);

	check_chain(state, walk.seen);
}

/*
 * medchain.verify(tbl regclass DEFAULT NULL)
 *	RETURNS TABLE (finding text, relation text, row_key jsonb,
 *				   entry_id bigint, block_height bigint, detail text)
 *
 * With a table: that table's rows and entries, every entry and the whole
 * chain.  Without: every ledger table's rows as well.  No rows: clean.
 */
Datum
medchain_verify(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	VerifyState state;
	Oid			only = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);

	require_auditor("verify the ledger");
	if (OidIsValid(only))
		table_close(ledger_table_open(only), AccessShareLock);

	InitMaterializedSRF(fcinfo, 0);
	state.findings.store = rsinfo->setResult;
	state.findings.desc = rsinfo->setDesc;
	state.snapshot = RegisterSnapshot(GetActiveSnapshot());
	state.journal = table_open(medchain_relation("entries"), AccessShareLock);
	entry_columns_find(state.journal, state.attnums);
	state.entry_values = palloc(sizeof(Datum) * RelationGetDescr(state.journal)->natts);
	state.entry_isnull = palloc(sizeof(bool) * RelationGetDescr(state.journal)->natts);
	state.last_check = NULL;
	state.percall = AllocSetContextCreate(CurrentMemoryContext, "medchain verify row",
										  ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&state.entry_buffers.encoding);
	initStringInfo(&state.entry_buffers.row_key);

	state.head_height = head_height(state.snapshot);
	tables_load(&state, only);
	walk_journal(&state);

	MemoryContextDelete(state.percall);
	table_close(state.journal, AccessShareLock);
	UnregisterSnapshot(state.snapshot);
	return (Datum) 0;
}
