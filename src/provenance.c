/*-------------------------------------------------------------------------
 *
 * provenance.c
 *	  medchain.provenance(r record): where one row of a ledger table came
 *	  from and how well it is proven, at the cost of index lookups.
 *
 * An analyst asks for it in the select list of an ordinary query,
 *
 *	  SELECT m.*, (medchain.provenance(m)).* FROM cdm.measurement m WHERE ...
 *
 * so it must cost about what reading the row cost: the row's entry is
 * found through the journal's key_hash index (a hash index: one bucket
 * page), the entries waiting in batches are gathered once per query, and
 * what a query learns about the chain (the head, the peers, each block
 * met) is kept for the rest of it.  PostgreSQL expands (f(m)).* into one
 * call of f per output column; the calls after the first find the same row
 * and return the answer they share (recent_answer below) rather than look
 * it up again.  Planned, each of those calls is provenance_at(m's table,
 * m's ctid) (provenance_plan.c): the calls after the first compare two
 * values rather than a row, which the executor no longer builds anew for
 * each of them, and the first reads the row from its page.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/expandedrecord.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "block.h"
#include "journal.h"
#include "enablement.h"
#include "entry_batches.h"
#include "ledger_cache.h"
#include "provenance.h"
#include "row_key.h"
#include "rows.h"
#include "security_scope.h"

PG_FUNCTION_INFO_V1(medchain_provenance);
PG_FUNCTION_INFO_V1(medchain_provenance_at);

/* ---------- what a query learns about the chain ---------- */

/* provenance.h */
struct ChainFacts
{
	MemoryContext cxt;
	Snapshot	snapshot;		/* the query's */
	int64		head_height;	/* -1: no block yet */
	int			npeers;
	int64	   *peer_heights;	/* how much of this chain each peer holds */
	HTAB	   *blocks;			/* height -> BlockFacts */
};

typedef struct BlockFacts
{
	int64		height;			/* hash key */
	bool		exists;
	uint8		block_hash[MC_HASH_LEN];
	TimestampTz sealed_at;
	int32		cosigners;
} BlockFacts;

/* A bytea column of a heap tuple as a 32-byte hash, or false. */
static bool
hash_column(HeapTuple tuple, TupleDesc desc, AttrNumber attnum, uint8 out[MC_HASH_LEN])
{
	bool		isnull;
	Datum		value = heap_getattr(tuple, attnum, desc, &isnull);
	const uint8 *hash = stored_hash(value, isnull);

	if (hash == NULL)
		return false;
	memcpy(out, hash, MC_HASH_LEN);
	return true;
}

/*
 * How much of this chain each registered peer holds, as the last
 * replication round to it found.  The tables are read here, not by the
 * caller, who may not read them: the heights are not a secret, the
 * conninfos beside them are.
 */
static void
peer_heights_load(ChainFacts *facts)
{
	Relation	peers = table_open(medchain_relation("peers"), AccessShareLock);
	Relation	state = table_open(medchain_relation("peer_state"), AccessShareLock);
	TupleDesc	peers_desc = RelationGetDescr(peers);
	TupleDesc	state_desc = RelationGetDescr(state);
	AttrNumber	peer_id_col = medchain_attnum_if_exists(peers_desc, "node_id");
	AttrNumber	state_id_col = medchain_attnum_if_exists(state_desc, "node_id");
	AttrNumber	height_col = medchain_attnum_if_exists(state_desc, "their_height");
	List	   *ids = NIL;
	TableScanDesc scan;
	HeapTuple	tuple;

	scan = table_beginscan(peers, facts->snapshot, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		uint8	   *id = palloc(MC_HASH_LEN);

		if (hash_column(tuple, peers_desc, peer_id_col, id))
			ids = lappend(ids, id);
	}
	table_endscan(scan);

	facts->peer_heights = palloc0(sizeof(int64) * Max(list_length(ids), 1));
	scan = table_beginscan(state, facts->snapshot, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		uint8		id[MC_HASH_LEN];
		bool		isnull;
		Datum		height;
		ListCell   *lc;

		height = heap_getattr(tuple, height_col, state_desc, &isnull);
		if (isnull || !hash_column(tuple, state_desc, state_id_col, id))
			continue;
		foreach(lc, ids)
		{
			if (memcmp(lfirst(lc), id, MC_HASH_LEN) == 0)
				facts->peer_heights[facts->npeers++] = DatumGetInt64(height);
		}
	}
	table_endscan(scan);
	table_close(state, AccessShareLock);
	table_close(peers, AccessShareLock);
}

ChainFacts *
chain_facts_create(MemoryContext cxt, Snapshot snapshot)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ChainFacts *facts = palloc0(sizeof(ChainFacts));
	BlockRow	head;
	HASHCTL		ctl;

	facts->cxt = cxt;
	facts->snapshot = snapshot;
	facts->head_height = block_head(snapshot, &head) ? head.header.height : -1;
	peer_heights_load(facts);
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(BlockFacts);
	ctl.hcxt = cxt;
	facts->blocks = hash_create("medchain provenance blocks", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	MemoryContextSwitchTo(old);
	return facts;
}

/* The cosignatures kept for the block with that hash. */
static int32
block_cosigners(ChainFacts *facts, int64 height, const uint8 block_hash[MC_HASH_LEN])
{
	Relation	cosignatures = table_open(medchain_relation("cosignatures"), AccessShareLock);
	TupleDesc	desc = RelationGetDescr(cosignatures);
	AttrNumber	height_col = medchain_attnum_if_exists(desc, "height");
	AttrNumber	hash_col = medchain_attnum_if_exists(desc, "block_hash");
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	int32		count = 0;

	ScanKeyInit(&key, height_col, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(height));
	scan = systable_beginscan(cosignatures, medchain_relation("cosignatures_pkey"), true,
							  facts->snapshot, 1, &key);
	while ((tuple = systable_getnext(scan)) != NULL)
	{
		uint8		hash[MC_HASH_LEN];

		/* a receipt for another block at this height vouches for nothing here */
		if (hash_column(tuple, desc, hash_col, hash) &&
			memcmp(hash, block_hash, MC_HASH_LEN) == 0)
			count++;
	}
	systable_endscan(scan);
	table_close(cosignatures, AccessShareLock);
	return count;
}

static BlockFacts *
block_facts(ChainFacts *facts, int64 height)
{
	bool		found;
	BlockFacts *block = hash_search(facts->blocks, &height, HASH_ENTER, &found);

	if (!found)
	{
		BlockRow	row;

		block->exists = block_row_fetch(height, facts->snapshot, &row);
		if (block->exists)
		{
			memcpy(block->block_hash, row.block_hash, MC_HASH_LEN);
			block->sealed_at = row.header.sealed_at;
			block->cosigners = block_cosigners(facts, height, row.block_hash);
		}
	}
	return block;
}

static bytea *
hash_bytea(const uint8 hash[MC_HASH_LEN])
{
	bytea	   *result = palloc(VARHDRSZ + MC_HASH_LEN);

	SET_VARSIZE(result, VARHDRSZ + MC_HASH_LEN);
	memcpy(VARDATA(result), hash, MC_HASH_LEN);
	return result;
}

/*
 * The answer's columns from the columns of a journal-shaped entry, as
 * heap_deform_tuple gives them (NULL: the row has no entry), and whether
 * the row still hashes to it.
 */
static void
provenance_entry_columns(ChainFacts *facts, const AttrNumber *attnums, Datum *entry,
						 bool *entry_isnull, bool intact, Datum *values, bool *isnull)
{
	/* the answer's first columns are the entry's, in this order */
	static const EntryColumn entry_columns[] = {
		COL_ENTRY_ID, COL_KIND, COL_RECORDED_BY, COL_RECORDED_AT, COL_XACT, COL_BLOCK_HEIGHT
	};
	int			i;

	for (i = 0; i < MC_PROVENANCE_COLUMNS; i++)
		isnull[i] = true;
	values[PC_INTACT] = BoolGetDatum(intact);
	isnull[PC_INTACT] = false;
	if (entry == NULL)
		return;
	for (i = 0; i < lengthof(entry_columns); i++)
	{
		values[i] = entry[attnums[entry_columns[i]] - 1];
		isnull[i] = entry_isnull[attnums[entry_columns[i]] - 1];
	}
	if (!isnull[PC_BLOCK_HEIGHT])
	{
		int64		height = DatumGetInt64(values[PC_BLOCK_HEIGHT]);
		BlockFacts *block = block_facts(facts, height);
		int32		holding = 0;

		if (block->exists)
		{
			values[PC_BLOCK_HASH] = PointerGetDatum(hash_bytea(block->block_hash));
			values[PC_SEALED_AT] = TimestampTzGetDatum(block->sealed_at);
			values[PC_COSIGNERS] = Int32GetDatum(block->cosigners);
			isnull[PC_BLOCK_HASH] = isnull[PC_SEALED_AT] = isnull[PC_COSIGNERS] = false;
		}
		values[PC_CONFIRMATIONS] = Int64GetDatum(Max(facts->head_height - height, 0));
		for (i = 0; i < facts->npeers; i++)
			holding += facts->peer_heights[i] >= height ? 1 : 0;
		values[PC_PEERS_HOLDING] = Int32GetDatum(holding);
		isnull[PC_CONFIRMATIONS] = isnull[PC_PEERS_HOLDING] = false;
	}
}

void
provenance_columns(ChainFacts *facts, Relation journal, const AttrNumber *attnums,
				   HeapTuple entry, bool intact, Datum *values, bool *isnull)
{
	TupleDesc	desc = RelationGetDescr(journal);
	Datum	   *entry_values = NULL;
	bool	   *entry_isnull = NULL;

	if (entry != NULL)
	{
		entry_values = palloc(sizeof(Datum) * desc->natts);
		entry_isnull = palloc(sizeof(bool) * desc->natts);
		heap_deform_tuple(entry, desc, entry_values, entry_isnull);
	}
	provenance_entry_columns(facts, attnums, entry_values, entry_isnull, intact, values, isnull);
}

/* ---------- one table's rows ---------- */

/* An entry waiting in a batch, as a journal row would hold it. */
typedef struct BatchedKey
{
	uint64		key_hash;		/* hash key: of the key's canonical text */
	List	   *entries;		/* of BatchedEntryCopy *: keys can collide */
} BatchedKey;

typedef struct BatchedEntryCopy
{
	char	   *key_utf8;
	HeapTuple	entry;
} BatchedEntryCopy;

/* What one query needs to know about one ledger table. */
typedef struct ProvenanceSource
{
	Oid			relid;
	char	   *relation;		/* entries.relation */
	LedgerHistory *history;
	Enablement *enablement;		/* the current one, else the last */
	bool		rls;			/* row security applies to the caller */
	SPIPlanPtr	visible_plan;	/* is the row one the caller may read? */
	HTAB	   *batched;		/* its entries waiting in batches, once read */
	TupleTableSlot *row_slot;	/* a row read by its ctid; empty between calls */
	BlockNumber nblocks;		/* the table's blocks, when last counted */
} ProvenanceSource;

typedef struct ProvenanceState
{
	MemoryContext cxt;
	ChainFacts *facts;
	TupleDesc	result_desc;
	Oid			record_type;	/* the last record's type, a ledger table's */
	Oid			record_relid;	/* and that table */
	Oid			table_relid;	/* the last relation provenance_at() was
								 * given, a table */
	List	   *sources;		/* of ProvenanceSource * */
	Oid			journal_relid;
	Oid			key_hash_index; /* InvalidOid before 1.5's objects */
	Relation	journal;		/* open during one call only */
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	Datum	   *entry_values;	/* the entry found, by the journal's attnum */
	bool	   *entry_isnull;
	StringInfoData scratch;
	StringInfoData key_text;
} ProvenanceState;

static uint64
key_text_hash(const char *text, int len)
{
	return hash_bytes_extended((const unsigned char *) text, len, 0);
}

typedef struct BatchedLoad
{
	ProvenanceState *state;
	ProvenanceSource *source;
} BatchedLoad;

static void
batched_entries_collect(void *arg, EntryBatch *batch)
{
	BatchedLoad *load = arg;
	ProvenanceSource *source = load->source;
	int			i;

	if (batch->malformed != NULL ||
		(strcmp(batch->kind, MC_KIND_BASELINE) != 0 && strcmp(batch->kind, MC_KIND_INSERT) != 0))
		return;
	for (i = 0; i < batch->nentries; i++)
	{
		const BatchEntry *entry = &batch->entries[i];
		uint64		hash;
		bool		found;
		BatchedKey *slot;
		BatchedEntryCopy *copy;

		if (!enablement_includes(source->enablement, batch->format_version,
								 entry->entry_id, batch->enablement_id))
			continue;
		hash = key_text_hash(entry->key_utf8.data, entry->key_utf8.len);
		slot = hash_search(source->batched, &hash, HASH_ENTER, &found);
		if (!found)
			slot->entries = NIL;
		copy = palloc(sizeof(BatchedEntryCopy));
		copy->key_utf8 = pnstrdup(entry->key_utf8.data, entry->key_utf8.len);
		copy->entry = batch_entry_tuple(load->state->journal, load->state->attnums,
										batch, entry, -1, -1);
		slot->entries = lappend(slot->entries, copy);
	}
}

/*
 * The entry waiting in a batch for the row whose key has this canonical
 * text, or NULL.  The table's batches are read at the first row that
 * needs them: they hold the rows recorded since the last seal, which the
 * worker keeps few.
 */
static HeapTuple
batched_entry_find(ProvenanceState *state, ProvenanceSource *source, StringInfo key_text)
{
	uint64		hash = key_text_hash(key_text->data, key_text->len);
	BatchedKey *slot;
	ListCell   *lc;

	if (source->batched == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(state->cxt);
		HASHCTL		ctl;
		BatchedLoad load = {state, source};

		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(BatchedKey);
		ctl.hcxt = state->cxt;
		source->batched = hash_create("medchain provenance batched entries", 256, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		entry_batches_scan(state->facts->snapshot, source->relation,
						   batched_entries_collect, &load);
		MemoryContextSwitchTo(old);
	}
	slot = hash_search(source->batched, &hash, HASH_FIND, NULL);
	if (slot == NULL)
		return NULL;
	foreach(lc, slot->entries)
	{
		BatchedEntryCopy *copy = lfirst(lc);

		if (strcmp(copy->key_utf8, key_text->data) == 0)
			return copy->entry;
	}
	return NULL;
}

/*
 * Row security: a row the caller may not read has no provenance for them,
 * whatever values they put in a record of its type.  The table is asked,
 * as the caller (the policies are the caller's), for a row with this key:
 * the key's values go in as parameters of their own types, so no input
 * function or domain check of the owner's runs for it.
 */
static bool
row_visible(ProvenanceSource *source, const LedgerRelation *ledger, TupleDesc desc,
			Datum *row_values, bool *row_isnull)
{
	const RowLayout *keylayout = ledger->key_layout;
	Datum	   *args = palloc(sizeof(Datum) * keylayout->ncolumns);
	char	   *nulls = palloc(keylayout->ncolumns);
	int			nest_level = medchain_pin_search_path();
	bool		visible;
	int			i;

	for (i = 0; i < keylayout->ncolumns; i++)
	{
		int			idx = keylayout->columns[i].attnum - 1;

		args[i] = row_values[idx];
		nulls[i] = row_isnull[idx] ? 'n' : ' ';
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (source->visible_plan == NULL)
	{
		Oid		   *argtypes = palloc(sizeof(Oid) * keylayout->ncolumns);
		StringInfoData sql;
		SPIPlanPtr	plan;

		for (i = 0; i < keylayout->ncolumns; i++)
			argtypes[i] = TupleDescAttr(desc, keylayout->columns[i].attnum - 1)->atttypid;
		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT 1 FROM %s t WHERE ", ledger->relation_name);
		ledger_key_condition(&sql, keylayout, true);
		plan = SPI_prepare(sql.data, keylayout->ncolumns, argtypes);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare row lookup: %s", sql.data);
		source->visible_plan = plan;
	}
	if (SPI_execute_plan(source->visible_plan, args, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "row lookup in %s failed", ledger->relation_name);
	visible = SPI_processed > 0;
	SPI_finish();
	medchain_settings_restore(nest_level);
	return visible;
}

static ProvenanceSource *
provenance_source(ProvenanceState *state, Oid relid)
{
	ListCell   *lc;
	ProvenanceSource *source;
	MemoryContext old;
	Relation	rel;

	foreach(lc, state->sources)
	{
		source = lfirst(lc);
		if (source->relid == relid)
			return source;
	}
	old = MemoryContextSwitchTo(state->cxt);
	source = palloc0(sizeof(ProvenanceSource));
	source->relid = relid;
	/* a partition's row is looked up in its ledger table, under its policies */
	rel = ledger_table_open(relid, state->journal, state->attnums, &source->history);
	if (RelationGetRelid(rel) != relid)
		LockRelationOid(relid, AccessShareLock);
	source->relation = source->history->relation;
	source->enablement = source->history->current != NULL ? source->history->current :
		llast(source->history->enablements);
	source->rls = check_enable_rls(RelationGetRelid(rel), InvalidOid, true) == RLS_ENABLED;
	/*
	 * With the columns' missing values: a row older than a column has none
	 * stored.  A partition's rows are read in its own layout.
	 */
	{
		Relation	own = RelationGetRelid(rel) == relid ? rel : table_open(relid, NoLock);

		source->row_slot = MakeSingleTupleTableSlot(CreateTupleDescCopyConstr(RelationGetDescr(own)),
												   table_slot_callbacks(own));
		if (own != rel)
			table_close(own, NoLock);
	}
	/* kept until the end of the transaction, as the query's own locks are */
	table_close(rel, NoLock);
	state->sources = lappend(state->sources, source);
	MemoryContextSwitchTo(old);
	return source;
}

/* The state of one call site in a query, made at its first answer, kept in *slot. */
static ProvenanceState *
provenance_state(FunctionCallInfo fcinfo, ProvenanceState **slot)
{
	ProvenanceState *state = *slot;
	MemoryContext old;
	TupleDesc	desc;

	if (state != NULL)
		return state;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	state = palloc0(sizeof(ProvenanceState));
	state->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "medchain provenance",
									   ALLOCSET_DEFAULT_SIZES);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	state->result_desc = BlessTupleDesc(CreateTupleDescCopy(desc));
	state->facts = chain_facts_create(state->cxt, GetActiveSnapshot());
	initStringInfo(&state->scratch);
	initStringInfo(&state->key_text);
	state->journal_relid = medchain_journal_relid();
	/* locked until the end of the transaction: later calls take no lock */
	state->journal = table_open(state->journal_relid, AccessShareLock);
	entry_columns_find(state->journal, state->attnums);
	state->entry_values = palloc(sizeof(Datum) * RelationGetDescr(state->journal)->natts);
	state->entry_isnull = palloc(sizeof(bool) * RelationGetDescr(state->journal)->natts);
	table_close(state->journal, NoLock);
	state->journal = NULL;
	if (state->attnums[COL_KEY_HASH] != InvalidAttrNumber)
	{
		state->key_hash_index = medchain_relation(MC_KEY_HASH_INDEX);
		index_close(index_open(state->key_hash_index, AccessShareLock), NoLock);
	}
	MemoryContextSwitchTo(old);
	*slot = state;
	return state;
}

/* ---------- the answer calls of one expansion share ---------- */

/*
 * (medchain.provenance(m)).* calls the function once per column, with
 * the same row, in the same query: the last answer is kept with what it
 * was an answer to, down to the snapshot and the role asking.  That is a
 * record, or, for provenance_at(), a table and a row's ctid in it.
 */
typedef struct RecentAnswer
{
	MemoryContext cxt;
	bool		valid;
	LocalTransactionId lxid;
	Oid			userid;
	CommandId	curcid;
	TransactionId xmin;
	TransactionId xmax;
	uint64		completion;
	HeapTupleHeader record;		/* NULL: the answer was to a ctid */
	Oid			relid;			/* InvalidOid: the answer was to a record */
	ItemPointerData tid;
	HeapTupleHeader answer;		/* NULL: the answer was NULL */
	ExpandedRecordHeader *shared;	/* the copy the calls of one row return */
	MemoryContext shared_cxt;	/* where it is, until that memory is reset */
} RecentAnswer;

static RecentAnswer recent_answer;

static LocalTransactionId
local_transaction_id(void)
{
#if PG_VERSION_NUM >= 170000
	return MyProc->vxid.lxid;
#else
	return MyProc->lxid;
#endif
}

/* Was the last answer given in this transaction, to this role, under this snapshot? */
static bool
recent_answer_current(Snapshot snapshot)
{
	return recent_answer.valid &&
		recent_answer.lxid == local_transaction_id() &&
		recent_answer.userid == GetUserId() &&
		recent_answer.curcid == snapshot->curcid &&
		recent_answer.xmin == snapshot->xmin &&
		recent_answer.xmax == snapshot->xmax &&
		recent_answer.completion == snapshot->snapXactCompletionCount;
}

static bool
recent_answer_matches(HeapTupleHeader record, Snapshot snapshot)
{
	return recent_answer_current(snapshot) && recent_answer.record != NULL &&
		HeapTupleHeaderGetDatumLength(recent_answer.record) == HeapTupleHeaderGetDatumLength(record) &&
		memcmp(recent_answer.record, record, HeapTupleHeaderGetDatumLength(record)) == 0;
}

/*
 * The same for a row of table relid found by its ctid: within what
 * recent_answer_current() checks (one statement), a ctid names one
 * version of one row.
 */
static bool
recent_answer_matches_tid(Oid relid, ItemPointer tid, Snapshot snapshot)
{
	return recent_answer_current(snapshot) && recent_answer.relid == relid &&
		ItemPointerEquals(&recent_answer.tid, tid);
}

/* Keep the answer to record, or (record NULL) to the row at tid in table relid. */
static void
recent_answer_keep(HeapTupleHeader record, Oid relid, ItemPointer tid, Snapshot snapshot,
				   HeapTupleHeader answer)
{
	MemoryContext old;

	if (recent_answer.cxt == NULL)
		recent_answer.cxt = AllocSetContextCreate(TopMemoryContext, "medchain provenance answer",
												  ALLOCSET_SMALL_SIZES);
	/* what it held is gone: nothing matches it until it holds the new answer */
	recent_answer.valid = false;
	MemoryContextReset(recent_answer.cxt);
	old = MemoryContextSwitchTo(recent_answer.cxt);
	recent_answer.lxid = local_transaction_id();
	recent_answer.userid = GetUserId();
	recent_answer.curcid = snapshot->curcid;
	recent_answer.xmin = snapshot->xmin;
	recent_answer.xmax = snapshot->xmax;
	recent_answer.completion = snapshot->snapXactCompletionCount;
	recent_answer.record = NULL;
	recent_answer.relid = InvalidOid;
	if (record != NULL)
	{
		recent_answer.record = palloc(HeapTupleHeaderGetDatumLength(record));
		memcpy(recent_answer.record, record, HeapTupleHeaderGetDatumLength(record));
	}
	else
	{
		recent_answer.relid = relid;
		recent_answer.tid = *tid;
	}
	recent_answer.answer = NULL;
	recent_answer.shared = NULL;
	if (answer != NULL)
	{
		recent_answer.answer = palloc(HeapTupleHeaderGetDatumLength(answer));
		memcpy(recent_answer.answer, answer, HeapTupleHeaderGetDatumLength(answer));
	}
	recent_answer.valid = true;
	MemoryContextSwitchTo(old);
}

/* ---------- medchain.provenance(r record) ---------- */

/*
 * The ledger table whose row the record is.  state (NULL at a query's
 * first call) keeps the last type met: one query passes rows of one table.
 */
static Oid
record_relation(ProvenanceState *state, HeapTupleHeader record)
{
	Oid			typid = HeapTupleHeaderGetTypeId(record);
	Oid			relid;

	if (state != NULL && state->record_type == typid)
		return state->record_relid;
	relid = typid == RECORDOID ? InvalidOid : get_typ_typrelid(typid);

	if (!OidIsValid(relid) || (get_rel_relkind(relid) != RELKIND_RELATION &&
							   get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("provenance() needs a row of a ledger table"),
				 errdetail("It was given a value of type %s.", format_type_be(typid)),
				 errhint("Pass the table's row as a whole: SELECT (medchain.provenance(t)).* FROM the_table t.")));
	if (state != NULL)
	{
		state->record_type = typid;
		state->record_relid = relid;
	}
	return relid;
}

/*
 * The columns of the row at tid in the table, as the snapshot sees it, in
 * source's slot, with the values stored out of line fetched as a
 * whole-row reference to it would fetch them; false if there is none.
 */
static bool
row_at(ProvenanceSource *source, Relation rel, ItemPointer tid, Snapshot snapshot,
	   Datum **values, bool **isnull)
{
	TupleDesc	desc = RelationGetDescr(rel);
	TupleTableSlot *slot = source->row_slot;
	BlockNumber block = ItemPointerGetBlockNumberNoCheck(tid);
	int			i;

	/* a ctid given by hand can point past the table's end */
	if (block >= source->nblocks)
	{
		source->nblocks = RelationGetNumberOfBlocks(rel);
		if (block >= source->nblocks)
			return false;
	}
	if (!table_tuple_fetch_row_version(rel, tid, snapshot, slot))
		return false;
	slot_getallattrs(slot);
	*values = palloc(sizeof(Datum) * desc->natts);
	*isnull = palloc(sizeof(bool) * desc->natts);
	for (i = 0; i < desc->natts; i++)
	{
		(*values)[i] = slot->tts_values[i];
		(*isnull)[i] = slot->tts_isnull[i];
		if (!slot->tts_isnull[i] && TupleDescAttr(desc, i)->attlen == -1 &&
			VARATT_IS_EXTERNAL(DatumGetPointer(slot->tts_values[i])))
			(*values)[i] = PointerGetDatum(detoast_external_attr((struct varlena *)
																 DatumGetPointer(slot->tts_values[i])));
	}
	return true;
}

/*
 * The answer for one row of table relid, given as a record, or (record
 * NULL) by its ctid: its entry in the table's current enablement (the
 * last one of a released table), and whether the row still hashes to it.
 * NULL for a row under row security that the caller cannot read, or for a
 * ctid at which the query's snapshot sees no row.
 */
static HeapTupleHeader
provenance_answer(ProvenanceState *state, Oid relid, HeapTupleHeader record, ItemPointer tid)
{
	ProvenanceSource *source;
	Relation	rel;
	LedgerRelation *ledger;
	TupleDesc	desc;
	Datum	   *row_values;
	bool	   *row_isnull;
	HeapTupleHeader answer;
	HeapTuple	entry;
	bool		intact = false;
	Datum		values[MC_PROVENANCE_COLUMNS];
	bool		isnull[MC_PROVENANCE_COLUMNS];

	source = provenance_source(state, relid);
	/* provenance_source() took the lock that the query keeps */
	rel = table_open(relid, NoLock);
	ledger = ledger_relation_get(rel);
	desc = RelationGetDescr(rel);
	if (record != NULL)
	{
		HeapTupleData tuple;

		tuple.t_len = HeapTupleHeaderGetDatumLength(record);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = record;
		row_values = palloc(sizeof(Datum) * desc->natts);
		row_isnull = palloc(sizeof(bool) * desc->natts);
		heap_deform_tuple(&tuple, desc, row_values, row_isnull);
	}
	else if (!row_at(source, rel, tid, state->facts->snapshot, &row_values, &row_isnull))
	{
		table_close(rel, NoLock);
		return NULL;
	}

	if (source->rls && !row_visible(source, ledger, desc, row_values, row_isnull))
	{
		ExecClearTuple(source->row_slot);
		table_close(rel, NoLock);
		return NULL;
	}
	resetStringInfo(&state->key_text);
	row_key_text(&state->key_text, ledger->key_layout, row_values, row_isnull);
	entry = enablement_row_entry_hashed(state->journal, state->attnums, source->enablement,
										source->relation, &state->key_text,
										state->facts->snapshot, state->key_hash_index);
	/* entries written before 1.5, or whose key_hash someone altered */
	if (entry == NULL)
		entry = enablement_row_entry_by_key(state->journal, state->attnums, source->enablement,
											source->relation,
											row_key_build(ledger->key_layout, row_values, row_isnull),
											state->facts->snapshot);
	if (entry == NULL)
		entry = batched_entry_find(state, source, &state->key_text);
	if (entry != NULL)
	{
		Datum	   *entry_values = state->entry_values;
		bool	   *entry_isnull = state->entry_isnull;
		AttrNumber	version_at = state->attnums[COL_FORMAT_VERSION] - 1;
		AttrNumber	row_hash_at = state->attnums[COL_ROW_HASH] - 1;
		const uint8 *expected;
		uint8		hash[MC_HASH_LEN];

		heap_deform_tuple(entry, RelationGetDescr(state->journal), entry_values, entry_isnull);
		row_hash_compute(&state->scratch, ledger->row_layout, row_values, row_isnull,
						 DatumGetInt16(entry_values[version_at]), hash);
		expected = stored_hash(entry_values[row_hash_at], entry_isnull[row_hash_at]);
		intact = expected != NULL && memcmp(hash, expected, MC_HASH_LEN) == 0;
	}
	provenance_entry_columns(state->facts, state->attnums,
					   entry != NULL ? state->entry_values : NULL, state->entry_isnull,
					   intact, values, isnull);
	answer = heap_form_tuple(state->result_desc, values, isnull)->t_data;
	/* the row read by its ctid was needed until now: no pin outlives the call */
	ExecClearTuple(source->row_slot);
	table_close(rel, NoLock);
	return answer;
}

/*
 * A new answer, at this call site (its state in *slot), for a row of table
 * relid, as provenance_answer() takes it.
 */
static HeapTupleHeader
answer_row(FunctionCallInfo fcinfo, ProvenanceState **slot, Snapshot snapshot, Oid relid,
		   HeapTupleHeader record, ItemPointer tid)
{
	ProvenanceState *state = provenance_state(fcinfo, slot);
	HeapTupleHeader answer;

	/* the query's snapshot, the same at every call of one query */
	state->facts->snapshot = snapshot;
	state->journal = table_open(state->journal_relid, NoLock);
	answer = provenance_answer(state, relid, record, tid);
	table_close(state->journal, NoLock);
	state->journal = NULL;
	return answer;
}

static void
shared_answer_forget(void *arg)
{
	if (recent_answer.shared_cxt == (MemoryContext) arg)
	{
		recent_answer.shared = NULL;
		recent_answer.shared_cxt = NULL;
	}
}

/*
 * The answer kept, in the caller's memory: one copy there for all the
 * calls that return it while that memory lasts (the calls of one row of
 * the query), an expanded record handed out read-only, whose columns
 * (medchain.provenance(m)).* reads at once rather than by walking the
 * tuple up to each.
 */
static Datum
recent_answer_result(FunctionCallInfo fcinfo)
{
	HeapTupleData tuple;
	MemoryContextCallback *forget;

	if (recent_answer.answer == NULL)
		PG_RETURN_NULL();
	if (recent_answer.shared != NULL && recent_answer.shared_cxt == CurrentMemoryContext)
		PG_RETURN_DATUM(ExpandedRecordGetRODatum(recent_answer.shared));
	tuple.t_len = HeapTupleHeaderGetDatumLength(recent_answer.answer);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = recent_answer.answer;
	recent_answer.shared =
		make_expanded_record_from_typeid(HeapTupleHeaderGetTypeId(recent_answer.answer),
										 HeapTupleHeaderGetTypMod(recent_answer.answer),
										 CurrentMemoryContext);
	expanded_record_set_tuple(recent_answer.shared, &tuple, true, false);
	recent_answer.shared_cxt = CurrentMemoryContext;
	forget = palloc(sizeof(MemoryContextCallback));
	forget->func = shared_answer_forget;
	forget->arg = CurrentMemoryContext;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, forget);
	PG_RETURN_DATUM(ExpandedRecordGetRODatum(recent_answer.shared));
}

/*
 * medchain.provenance(r record) RETURNS record (entry_id, kind,
 *	recorded_by, recorded_at, xact, block_height, block_hash, sealed_at,
 *	confirmations, peers_holding, cosigners, intact)
 *
 * A row without an entry gets NULL entry fields and intact false; a
 * pending one NULL block fields.
 */
Datum
medchain_provenance(PG_FUNCTION_ARGS)
{
	HeapTupleHeader record = PG_GETARG_HEAPTUPLEHEADER(0);
	Snapshot	snapshot = GetActiveSnapshot();

	/* a record answered before was a ledger table's row */
	if (!recent_answer_matches(record, snapshot))
	{
		ProvenanceState **slot = (ProvenanceState **) &fcinfo->flinfo->fn_extra;
		Oid			relid = record_relation(*slot, record);

		recent_answer_keep(record, InvalidOid, NULL, snapshot,
						   answer_row(fcinfo, slot, snapshot, relid, record, NULL));
	}
	return recent_answer_result(fcinfo);
}

/* ---------- medchain.provenance_at(relation regclass, ctid tid) ---------- */

static void
require_table(Oid relid)
{
	if (get_rel_relkind(relid) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("provenance_at() needs a ledger table"),
				 errdetail("It was given %s, which is not a table.",
						   DatumGetCString(DirectFunctionCall1(regclassout,
															   ObjectIdGetDatum(relid))))));
}

/*
 * medchain.provenance_at(relation regclass, ctid tid) RETURNS record, the
 * same as provenance()'s
 *
 * provenance() of the row of relation at ctid, as the query's snapshot
 * sees it; NULL if it sees none there.  What the planner makes of
 * provenance(t) for a table t of a query (provenance_plan.c): the calls of
 * (provenance(t)).* pass t's ctid rather than each build the row t, and
 * the calls after the first compare it with the row just answered.
 */
Datum
medchain_provenance_at(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ItemPointer tid = (ItemPointer) PG_GETARG_POINTER(1);
	Snapshot	snapshot = GetActiveSnapshot();

	if (!recent_answer_matches_tid(relid, tid, snapshot))
	{
		ProvenanceState **slot = (ProvenanceState **) &fcinfo->flinfo->fn_extra;
		HeapTupleHeader answer;

		/* one query asks about one table: checked once */
		if (*slot == NULL || (*slot)->table_relid != relid)
			require_table(relid);
		answer = answer_row(fcinfo, slot, snapshot, relid, NULL, tid);
		(*slot)->table_relid = relid;
		recent_answer_keep(NULL, relid, tid, snapshot, answer);
	}
	return recent_answer_result(fcinfo);
}
