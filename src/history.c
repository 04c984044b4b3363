/*-------------------------------------------------------------------------
 *
 * history.c
 *	  medchain.history(tbl, key): every recorded version of one row.
 *
 * The versions are the row's entries in each enablement of the table, in
 * the order their supersedes links give: a baseline or insert, then each
 * update that replaced it, and the delete that removed it, if any.  Entry
 * ids do not follow the order of recording, so the links decide; versions
 * that no link orders (a row deleted and inserted again) follow each other
 * by recorded_at.
 *
 * Each version is shown with provenance()'s columns and the data it
 * recorded where that is still stored: the table's row for the current
 * version, a row of the history table for a replaced one, matched by its
 * hash, so what is shown is exactly what the entry recorded.  A version
 * whose data is gone or altered has no row_data and is not intact.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "enablement.h"
#include "journal.h"
#include "ledger_cache.h"
#include "provenance.h"
#include "rows.h"
#include "security_scope.h"

PG_FUNCTION_INFO_V1(medchain_history);

/* history()'s columns after provenance()'s. */
typedef enum HistoryColumn
{
	HC_SUPERSEDES = MC_PROVENANCE_COLUMNS,
	HC_REASON,
	HC_CURRENT,
	HC_ROW_DATA
} HistoryColumn;

#define MC_HISTORY_COLUMNS (HC_ROW_DATA + 1)

/* A version of the row as a table stores it. */
typedef struct StoredVersion
{
	uint8		hash[MC_HASH_LEN];	/* its row hash */
	Jsonb	   *data;
	bool		current;		/* the table's row, not a kept version */
	bool		claimed;		/* shown as the data of an entry already */
} StoredVersion;

/* One entry of the row, with what orders it. */
typedef struct RowEntry
{
	HeapTuple	tuple;
	int64		entry_id;
	int64		supersedes;
	TimestampTz recorded_at;
	EntryKind	kind;
	uint8		row_hash[MC_HASH_LEN];
	bool		superseded;
	bool		shown;
	/* what the tables still store of it */
	StoredVersion *version;
	bool		intact;
	bool		current;
} RowEntry;

/*
 * Rows hidden by a policy must stay hidden, and the versions are read as
 * the table's owner: under row-level security, history() is refused.
 */
static void
refuse_under_row_security(Relation rel)
{
	if (check_enable_rls(RelationGetRelid(rel), InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("history() is not available for table %s under row-level security",
						ledger_relation_name(rel)),
				 errdetail("Its kept versions are not subject to the table's policies."),
				 errhint("Use medchain.provenance() on the rows you can read, or a role that bypasses the policies.")));
}

/* The version in slot, hashed and as JSON; the owner's code runs as the owner. */
static StoredVersion *
stored_version(Relation rel, TupleTableSlot *slot, bool current)
{
	LedgerRelation *ledger = ledger_relation_get(rel);
	StoredVersion *version = palloc0(sizeof(StoredVersion));
	StringInfoData scratch;
	HeapTuple	tuple;
	Datum		json;
	OwnerScope	scope;
	int			settings_level;

	slot_getallattrs(slot);
	initStringInfo(&scratch);
	medchain_become_owner(RelationGetRelid(rel), &scope);
	settings_level = medchain_value_settings_fix();
	row_hash_compute(&scratch, ledger->row_layout, slot->tts_values, slot->tts_isnull,
					 MC_FORMAT_CURRENT, version->hash);
	if (settings_level >= 0)
		medchain_settings_restore(settings_level);
	tuple = ExecFetchSlotHeapTuple(slot, false, NULL);
	json = DirectFunctionCall1(row_to_json, heap_copy_tuple_as_datum(tuple, RelationGetDescr(rel)));
	version->data = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
													   CStringGetDatum(TextDatumGetCString(json))));
	medchain_leave_owner(&scope);
	version->current = current;
	return version;
}

/* A history table's rows with the key (ctids), found as its owner. */
static List *
rows_with_key(Relation rel, const LedgerRelation *ledger, Jsonb *key)
{
	Oid			argtype = JSONBOID;
	Datum		arg = JsonbPGetDatum(key);
	StringInfoData sql;
	OwnerScope	scope;
	List	   *tids = NIL;
	uint64		i;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT t.ctid FROM ONLY %s t,"
					 " pg_catalog.jsonb_populate_record(NULL::%s, $1) k WHERE ",
					 ledger_relation_name(rel), ledger->relation_name);
	ledger_key_condition(&sql, ledger->key_layout, false);
	medchain_become_owner(RelationGetRelid(rel), &scope);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	medchain_spi_execute(sql.data, 1, &argtype, &arg, true, 0, SPI_OK_SELECT, -1);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		ItemPointer tid = palloc(sizeof(ItemPointerData));

		ItemPointerCopy((ItemPointer) DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc, 1, &isnull)),
						tid);
		tids = lappend(tids, tid);
	}
	SPI_finish();
	medchain_leave_owner(&scope);
	return tids;
}

/* The kept versions with the key in a history table. */
static List *
kept_versions_in(List *stored, Relation rel, const LedgerRelation *ledger, Jsonb *key)
{
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	ListCell   *lc;

	foreach(lc, rows_with_key(rel, ledger, key))
	{
		if (table_tuple_fetch_row_version(rel, lfirst(lc), GetActiveSnapshot(), slot))
			stored = lappend(stored, stored_version(rel, slot, false));
	}
	ExecDropSingleTupleTableSlot(slot);
	return stored;
}

/* The table's row with the key (in whichever partition holds it), if any. */
static List *
current_row_version(Relation rel, LedgerRelation *ledger, Jsonb *key)
{
	Oid			holder;
	ItemPointerData tid;
	Relation	held;
	TupleTableSlot *slot;
	List	   *stored = NIL;

	if (!ledger_row_find(rel, ledger, key, &holder, &tid))
		return NIL;
	held = table_open(holder, AccessShareLock);
	slot = table_slot_create(held, NULL);
	if (table_tuple_fetch_row_version(held, &tid, GetActiveSnapshot(), slot))
		stored = list_make1(stored_version(held, slot, true));
	ExecDropSingleTupleTableSlot(slot);
	table_close(held, AccessShareLock);
	return stored;
}

/*
 * Every stored version of the row: the table's row, and the rows with its
 * key of each history table its enablements kept versions in.
 */
static List *
stored_versions(Relation rel, LedgerRelation *ledger, LedgerHistory *history, Jsonb *key)
{
	List	   *stored = current_row_version(rel, ledger, key);
	List	   *seen = NIL;
	ListCell   *lc;

	foreach(lc, history->enablements)
	{
		Enablement *e = lfirst(lc);
		Oid			relid;
		Relation	kept;

		if (!e->versioned || list_member(seen, makeString(e->history_table)))
			continue;
		seen = lappend(seen, makeString(e->history_table));
		relid = ledger_relid_by_name(e->history_table);
		if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION)
			continue;			/* verify() reports it */
		kept = table_open(relid, AccessShareLock);
		stored = kept_versions_in(stored, kept, ledger, key);
		table_close(kept, AccessShareLock);
	}
	return stored;
}

/* The stored version that hashes to hash and is not shown yet, or NULL. */
static StoredVersion *
claim_version(List *stored, const uint8 *hash, bool current)
{
	ListCell   *lc;

	foreach(lc, stored)
	{
		StoredVersion *version = lfirst(lc);

		if (!version->claimed && version->current == current &&
			memcmp(version->hash, hash, MC_HASH_LEN) == 0)
		{
			version->claimed = true;
			return version;
		}
	}
	return NULL;
}

/* Any stored version that hashes to hash (a delete's removed version). */
static bool
version_kept(List *stored, const uint8 *hash)
{
	ListCell   *lc;

	foreach(lc, stored)
		if (memcmp(((StoredVersion *) lfirst(lc))->hash, hash, MC_HASH_LEN) == 0)
			return true;
	return false;
}

static RowEntry *
row_entry_from_tuple(HeapTuple tuple, TupleDesc desc, const AttrNumber *attnums)
{
	RowEntry   *entry = palloc0(sizeof(RowEntry));
	bool		isnull;
	Datum		value;
	text	   *kind;
	bytea	   *hash;

	entry->tuple = tuple;
	entry->entry_id = DatumGetInt64(heap_getattr(tuple, attnums[COL_ENTRY_ID], desc, &isnull));
	entry->recorded_at = DatumGetTimestampTz(heap_getattr(tuple, attnums[COL_RECORDED_AT],
														  desc, &isnull));
	kind = DatumGetTextPP(heap_getattr(tuple, attnums[COL_KIND], desc, &isnull));
	entry->kind = entry_kind_of(VARDATA_ANY(kind), VARSIZE_ANY_EXHDR(kind));
	if (attnums[COL_SUPERSEDES] != InvalidAttrNumber)
	{
		value = heap_getattr(tuple, attnums[COL_SUPERSEDES], desc, &isnull);
		entry->supersedes = isnull ? 0 : DatumGetInt64(value);
	}
	value = heap_getattr(tuple, attnums[COL_ROW_HASH], desc, &isnull);
	hash = isnull ? NULL : DatumGetByteaPP(value);
	if (hash != NULL && VARSIZE_ANY_EXHDR(hash) == MC_HASH_LEN)
		memcpy(entry->row_hash, VARDATA_ANY(hash), MC_HASH_LEN);
	return entry;
}

static RowEntry *
entry_with_id(List *entries, int64 entry_id)
{
	ListCell   *lc;

	foreach(lc, entries)
		if (((RowEntry *) lfirst(lc))->entry_id == entry_id)
			return lfirst(lc);
	return NULL;
}

static int
entry_recorded_first(const ListCell *a, const ListCell *b)
{
	const RowEntry *x = lfirst(a);
	const RowEntry *y = lfirst(b);

	if (x->recorded_at != y->recorded_at)
		return x->recorded_at < y->recorded_at ? -1 : 1;
	return (x->entry_id > y->entry_id) - (x->entry_id < y->entry_id);
}

/*
 * The entries in the order their links give: each chain from its first
 * version (one that supersedes nothing of this row), chains by when they
 * began; an entry no chain reaches (a link that forks) comes last.
 */
static List *
entries_in_order(List *entries)
{
	List	   *ordered = NIL;
	List	   *starts = NIL;
	ListCell   *lc;

	list_sort(entries, entry_recorded_first);
	foreach(lc, entries)
	{
		RowEntry   *entry = lfirst(lc);
		RowEntry   *target = entry->supersedes != 0 ?
			entry_with_id(entries, entry->supersedes) : NULL;

		if (target == NULL)
			starts = lappend(starts, entry);
		else
			target->superseded = true;
	}
	foreach(lc, starts)
	{
		RowEntry   *entry = lfirst(lc);

		while (entry != NULL && !entry->shown)
		{
			ListCell   *next;
			RowEntry   *successor = NULL;

			entry->shown = true;
			ordered = lappend(ordered, entry);
			foreach(next, entries)
			{
				RowEntry   *candidate = lfirst(next);

				if (candidate->supersedes == entry->entry_id && !candidate->shown)
				{
					successor = candidate;
					break;
				}
			}
			entry = successor;
		}
	}
	foreach(lc, entries)
		if (!((RowEntry *) lfirst(lc))->shown)
			ordered = lappend(ordered, lfirst(lc));
	return ordered;
}

/*
 * The stored data of an entry: for the live version of the current
 * enablement the table's row, else a kept version that hashes alike.
 */
static void
entry_data_find(RowEntry *entry, List *stored, bool may_be_current)
{
	if (entry->kind == ENTRY_KIND_DELETE)
	{
		entry->intact = version_kept(stored, entry->row_hash);
		return;
	}
	if (may_be_current && !entry->superseded)
	{
		entry->version = claim_version(stored, entry->row_hash, true);
		entry->current = entry->version != NULL;
	}
	if (entry->version == NULL)
		entry->version = claim_version(stored, entry->row_hash, false);
	entry->intact = entry->version != NULL;
}

static void
history_row(ReturnSetInfo *rsinfo, ChainFacts *facts, Relation journal,
			const AttrNumber *attnums, RowEntry *entry)
{
	Datum		values[MC_HISTORY_COLUMNS];
	bool		isnull[MC_HISTORY_COLUMNS];
	StoredVersion *version = entry->version;
	TupleDesc	desc = RelationGetDescr(journal);

	provenance_columns(facts, journal, attnums, entry->tuple, entry->intact, values, isnull);
	values[HC_SUPERSEDES] = Int64GetDatum(entry->supersedes);
	isnull[HC_SUPERSEDES] = entry->supersedes == 0;
	values[HC_REASON] = attnums[COL_NOTE] == InvalidAttrNumber ? (Datum) 0 :
		heap_getattr(entry->tuple, attnums[COL_NOTE], desc, &isnull[HC_REASON]);
	if (attnums[COL_NOTE] == InvalidAttrNumber)
		isnull[HC_REASON] = true;
	values[HC_CURRENT] = BoolGetDatum(entry->current);
	isnull[HC_CURRENT] = false;
	values[HC_ROW_DATA] = version != NULL ? JsonbPGetDatum(version->data) : (Datum) 0;
	isnull[HC_ROW_DATA] = version == NULL;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
}

/*
 * medchain.history(tbl regclass, key jsonb) RETURNS SETOF record
 */
Datum
medchain_history(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Jsonb	   *key = PG_GETARG_JSONB_P(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	Relation	rel;
	LedgerHistory *history;
	LedgerRelation *ledger;
	ChainFacts *facts;
	List	   *stored;
	List	   *versions = NIL;	/* per enablement, a List of RowEntry */
	ListCell   *lc;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	journal = table_open(medchain_journal_relid(), AccessShareLock);
	entry_columns_find(journal, attnums);
	rel = ledger_table_open(relid, journal, attnums, &history);
	refuse_under_row_security(rel);
	ledger = ledger_relation_get(rel);
	check_key_shape(ledger, key);
	facts = chain_facts_create(CurrentMemoryContext, GetActiveSnapshot());
	stored = stored_versions(rel, ledger, history, key);

	foreach(lc, history->enablements)
	{
		Enablement *e = lfirst(lc);
		List	   *entries = NIL;
		ListCell   *le;

		foreach(le, enablement_row_entries(journal, attnums, e, ledger->relation_name, key,
										   GetActiveSnapshot()))
			entries = lappend(entries, row_entry_from_tuple(lfirst(le), RelationGetDescr(journal),
															attnums));
		versions = lappend(versions, entries_in_order(entries));
	}
	/*
	 * A history table of the same name may have served earlier enablements
	 * (and been dropped and made anew since): what it holds is the latest
	 * enablement's first.
	 */
	for (i = list_length(versions) - 1; i >= 0; i--)
	{
		Enablement *e = list_nth(history->enablements, i);

		foreach(lc, list_nth(versions, i))
			entry_data_find(lfirst(lc), stored, e == history->current);
	}
	foreach(lc, versions)
	{
		ListCell   *le;

		foreach(le, lfirst(lc))
		{
			CHECK_FOR_INTERRUPTS();
			history_row(rsinfo, facts, journal, attnums, lfirst(le));
		}
	}
	table_close(rel, AccessShareLock);
	table_close(journal, AccessShareLock);
	return (Datum) 0;
}
