/*-------------------------------------------------------------------------
 *
 * enablement.c
 *	  Enablements of ledger tables, read from the journal's events.
 *
 * Every enablement begins with an enable event and ends, if the table is
 * released, with a disable event.  In format version 2 both say which
 * enablement they are about (an id drawn from the entry sequence before
 * the baseline, which no entry takes as its entry_id), row entries carry
 * the same id, and an enable event names the enablement before it, so
 * neither membership nor order depends on the order of entry ids, which
 * concurrent sessions draw from the sequence's caches out of order.  The
 * enable event is written last, after the baseline, and takes the next
 * entry_id: a block holds it after the baseline entries it closes, as the
 * journal holds it.
 *
 * Version 1 had no such field: a version 1 row entry belongs to the
 * version 1 enablement of its table whose last release came before it,
 * that is, whose entry_id is above the table's latest disable event below
 * the enablement.  That is how 1.0 drew the line, from the same journal.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"

#include "access/table.h"
#include "fmgr.h"
#include "utils/snapmgr.h"

#include "canonical_json.h"
#include "enablement.h"
#include "entry_batches.h"
#include "privileges.h"
#include "journal.h"

PG_FUNCTION_INFO_V1(medchain_rows_recorded);

typedef enum EventAction
{
	EVENT_ENABLE,
	EVENT_DISABLE,
	EVENT_BASELINE_COMPLETE		/* the baseline of a concurrent enable is in */
} EventAction;

typedef struct EventEntry
{
	bool		intact;			/* it hashes to its entry_hash */
	int64		entry_id;
	int			format_version;
	int64		enablement_id;	/* version 2 */
	EventAction action;
	Jsonb	   *detail;
} EventEntry;

JsonbValue *
detail_member(Jsonb *detail, const char *name)
{
	JsonbValue	key;

	if (!JB_ROOT_IS_OBJECT(detail))
		return NULL;
	key.type = jbvString;
	key.val.string.val = (char *) name;
	key.val.string.len = strlen(name);
	return findJsonbValueFromContainer(&detail->root, JB_FOBJECT, &key);
}

/* Is the detail's member name the string expected? */
static bool
detail_member_is(Jsonb *detail, const char *name, const char *expected)
{
	JsonbValue *value = detail_member(detail, name);

	return value != NULL && value->type == jbvString &&
		value->val.string.len == strlen(expected) &&
		memcmp(value->val.string.val, expected, value->val.string.len) == 0;
}

bool
detail_action_is(Jsonb *detail, const char *action)
{
	return detail_member_is(detail, "action", action);
}

/* A member that is there, as JSON null. */
static bool
detail_is_null(Jsonb *detail, const char *name)
{
	JsonbValue *value = detail_member(detail, name);

	return value != NULL && value->type == jbvNull;
}

static int64
detail_integer(Jsonb *detail, const char *name)
{
	JsonbValue *value = detail_member(detail, name);

	if (value == NULL || value->type != jbvNumeric)
		return 0;
	return DatumGetInt64(DirectFunctionCall1(numeric_int8,
											 NumericGetDatum(value->val.numeric)));
}

/* A string member, or NULL. */
static char *
detail_string(Jsonb *detail, const char *name)
{
	JsonbValue *value = detail_member(detail, name);

	if (value == NULL || value->type != jbvString)
		return NULL;
	return pnstrdup(value->val.string.val, value->val.string.len);
}

static List *
detail_strings(Jsonb *detail, const char *name)
{
	JsonbValue *value = detail_member(detail, name);
	List	   *result = NIL;
	JsonbIterator *it;
	JsonbValue	element;
	JsonbIteratorToken token;

	if (value == NULL || value->type != jbvBinary ||
		!JsonContainerIsArray(value->val.binary.data))
		return NIL;
	it = JsonbIteratorInit(value->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE)
		if (token == WJB_ELEM && element.type == jbvString)
			result = lappend(result, pnstrdup(element.val.string.val,
											  element.val.string.len));
	return result;
}

/* The event entries of a relation, in entry_id order. */
static List *
events_load(Relation journal, const AttrNumber *attnums, const char *relation,
			Snapshot snapshot)
{
	TupleDesc	desc = RelationGetDescr(journal);
	JournalScan scan;
	HeapTuple	tuple;
	List	   *events = NIL;
	EntryCheckBuffers buffers;
	Datum	   *all_values;
	bool	   *all_isnull;

	entry_check_buffers_init(&buffers);
	all_values = palloc(sizeof(Datum) * desc->natts);
	all_isnull = palloc(sizeof(bool) * desc->natts);
	journal_scan_relation(&scan, journal, attnums, snapshot, relation, JOURNAL_EVENTS, NULL);
	while ((tuple = journal_scan_next(&scan)) != NULL)
	{
		Datum		values[MC_ENTRY_COLUMNS];
		bool		isnull[MC_ENTRY_COLUMNS];
		EventEntry *event;
		CheckedEntry checked;
		int			col;

		/* the key_hash the objects of 1.4 and before lack is no event's */
		for (col = 0; col < COL_KEY_HASH; col++)
			values[col] = heap_getattr(tuple, attnums[col], desc, &isnull[col]);
		if (isnull[COL_ENTRY_ID] || isnull[COL_KIND] || isnull[COL_DETAIL] ||
			isnull[COL_FORMAT_VERSION] ||
			strcmp(TextDatumGetCString(values[COL_KIND]), MC_KIND_EVENT) != 0)
			continue;
		event = palloc0(sizeof(EventEntry));
		heap_deform_tuple(tuple, desc, all_values, all_isnull);
		event->intact = entry_integrity_problem(attnums, all_values, all_isnull,
												&buffers, &checked) == NULL;
		event->entry_id = DatumGetInt64(values[COL_ENTRY_ID]);
		event->format_version = DatumGetInt16(values[COL_FORMAT_VERSION]);
		event->enablement_id = isnull[COL_ENABLEMENT_ID] ? 0 :
			DatumGetInt64(values[COL_ENABLEMENT_ID]);
		event->detail = DatumGetJsonbPCopy(values[COL_DETAIL]);
		if (detail_action_is(event->detail, "enable"))
			event->action = EVENT_ENABLE;
		else if (detail_action_is(event->detail, "disable"))
			event->action = EVENT_DISABLE;
		else if (detail_action_is(event->detail, "baseline_complete") &&
				 event->format_version >= MC_FORMAT_V2)
			event->action = EVENT_BASELINE_COMPLETE;
		else
			continue;			/* another kind of event: no enablement of its own */
		events = lappend(events, event);
	}
	journal_scan_end(&scan);
	return events;
}

static int
event_id_cmp(const ListCell *a, const ListCell *b)
{
	int64		x = ((EventEntry *) lfirst(a))->entry_id;
	int64		y = ((EventEntry *) lfirst(b))->entry_id;

	return (x > y) - (x < y);
}

Enablement *
ledger_history_find(const LedgerHistory *history, int64 enablement_id)
{
	ListCell   *lc;

	foreach(lc, history->enablements)
	{
		Enablement *e = lfirst(lc);

		if (e->enablement_id == enablement_id)
			return e;
	}
	return NULL;
}

/* A disable event releases the enablement it names (version 1: the last before it). */
static void
release(List *enables, const EventEntry *disable)
{
	Enablement *target = NULL;
	ListCell   *lc;

	foreach(lc, enables)
	{
		Enablement *e = lfirst(lc);

		if (e->disable_entry_id != 0)
			continue;
		if (disable->format_version >= MC_FORMAT_V2 ?
			e->enablement_id == disable->enablement_id :
			(e->format_version == MC_FORMAT_V1 && e->enable_entry_id < disable->entry_id))
			target = e;
	}
	if (target != NULL)
		target->disable_entry_id = disable->entry_id;
}

/*
 * The baseline of a concurrent enable is complete: its event names the
 * enablement and says how many rows the baseline recorded.
 */
static void
baseline_completes(List *enables, const EventEntry *complete)
{
	ListCell   *lc;

	foreach(lc, enables)
	{
		Enablement *e = lfirst(lc);

		if (e->concurrent && e->baseline_entry_id == 0 &&
			e->enablement_id == complete->enablement_id)
		{
			e->baseline_entry_id = complete->entry_id;
			e->baseline_rows = detail_integer(complete->detail, "baseline_rows");
			return;
		}
	}
}

/*
 * Version 1 enablements first, in entry_id order (1.0 drew them so);
 * then version 2 ones, each after the one its enable event names.
 */
static List *
in_order(List *enables)
{
	List	   *ordered = NIL;
	int64		last = 0;
	ListCell   *lc;
	bool		progress = true;

	foreach(lc, enables)
	{
		Enablement *e = lfirst(lc);

		if (e->format_version == MC_FORMAT_V1)
		{
			ordered = lappend(ordered, e);
			last = e->enablement_id;
		}
	}
	while (progress)
	{
		progress = false;
		foreach(lc, enables)
		{
			Enablement *e = lfirst(lc);

			if (e->format_version >= MC_FORMAT_V2 && e->previous_id == last &&
				!list_member_ptr(ordered, e))
			{
				ordered = lappend(ordered, e);
				last = e->enablement_id;
				progress = true;
				break;
			}
		}
	}
	/* whatever a broken link left out, by entry_id */
	foreach(lc, enables)
		if (!list_member_ptr(ordered, lfirst(lc)))
			ordered = lappend(ordered, lfirst(lc));
	return ordered;
}

LedgerHistory *
ledger_history_load(Relation journal, const AttrNumber *attnums, const char *relation,
					Snapshot snapshot)
{
	LedgerHistory *history = palloc0(sizeof(LedgerHistory));
	List	   *events = events_load(journal, attnums, relation, snapshot);
	List	   *enables = NIL;
	ListCell   *lc;

	list_sort(events, event_id_cmp);
	history->relation = pstrdup(relation);
	foreach(lc, events)
	{
		EventEntry *event = lfirst(lc);
		Enablement *e;
		ListCell   *prev;

		if (event->action == EVENT_DISABLE)
		{
			release(enables, event);
			continue;
		}
		if (event->action == EVENT_BASELINE_COMPLETE)
		{
			baseline_completes(enables, event);
			continue;
		}
		e = palloc0(sizeof(Enablement));
		e->enable_entry_id = event->entry_id;
		e->enablement_id = event->format_version >= MC_FORMAT_V2 ?
			event->enablement_id : event->entry_id;
		e->format_version = event->format_version;
		e->event_intact = event->intact;
		e->key_columns = detail_strings(event->detail, "key_columns");
		e->concurrent = detail_is_null(event->detail, "baseline_rows");
		e->baseline_rows = detail_integer(event->detail, "baseline_rows");
		e->previous_id = detail_integer(event->detail, "previous_enablement");
		e->history_table = detail_string(event->detail, "history_table");
		e->versioned = detail_member_is(event->detail, "mode", "versioned") &&
			e->history_table != NULL;
		/* version 1: above the latest release before it */
		foreach(prev, events)
		{
			EventEntry *other = lfirst(prev);

			if (other->action == EVENT_DISABLE && other->entry_id < e->enable_entry_id)
				e->v1_floor = Max(e->v1_floor, other->entry_id);
		}
		enables = lappend(enables, e);
	}

	history->enablements = in_order(enables);
	foreach(lc, history->enablements)
	{
		Enablement *e = lfirst(lc);

		if (e->disable_entry_id == 0)
		{
			history->current = e;
			history->unreleased++;
		}
	}
	return history;
}

bool
enablement_includes(const Enablement *e, int format_version, int64 entry_id,
					int64 entry_enablement_id)
{
	if (format_version >= MC_FORMAT_V2)
		return entry_enablement_id == e->enablement_id;
	return e->format_version == MC_FORMAT_V1 && entry_id > e->v1_floor &&
		(e->disable_entry_id == 0 || entry_id < e->disable_entry_id);
}

/* Does an entry of this kind record a row the table holds (not its removal)? */
static bool
row_version_kind(EntryKind kind)
{
	return kind == ENTRY_KIND_BASELINE || kind == ENTRY_KIND_INSERT ||
		kind == ENTRY_KIND_UPDATE;
}

static bool
row_entry_kind(TextSlice kind)
{
	return row_version_kind(entry_kind_of(kind.data, kind.len));
}

/*
 * The entries of one row key in one enablement, as the lookups meet them:
 * every version (baseline, insert, update) and the ids that updates and
 * deletes supersede.  The row's entry is the version nothing supersedes.
 * Entry ids do not follow the order of recording, so only supersedes
 * links tell which version is current.
 */
typedef struct RowVersions
{
	const Enablement *e;
	List	   *versions;		/* HeapTuple copies */
	List	   *removals;		/* delete entries, HeapTuple copies */
	int64	   *superseded;
	int			nsuperseded;
	int			superseded_size;
} RowVersions;

static void
row_versions_init(RowVersions *v, const Enablement *e)
{
	v->e = e;
	v->versions = NIL;
	v->removals = NIL;
	v->superseded_size = 8;
	v->nsuperseded = 0;
	v->superseded = palloc(sizeof(int64) * v->superseded_size);
}

static void
row_versions_supersede(RowVersions *v, int64 entry_id)
{
	if (v->nsuperseded == v->superseded_size)
	{
		v->superseded_size *= 2;
		v->superseded = repalloc(v->superseded, sizeof(int64) * v->superseded_size);
	}
	v->superseded[v->nsuperseded++] = entry_id;
}

static bool
row_versions_is_superseded(const RowVersions *v, int64 entry_id)
{
	int			i;

	for (i = 0; i < v->nsuperseded; i++)
		if (v->superseded[i] == entry_id)
			return true;
	return false;
}

static int64
entry_tuple_id(HeapTuple tuple, TupleDesc desc, const AttrNumber *attnums)
{
	bool		isnull;

	return DatumGetInt64(heap_getattr(tuple, attnums[COL_ENTRY_ID], desc, &isnull));
}

/* The current version: the latest (by id) that nothing supersedes. */
static HeapTuple
row_versions_current(const RowVersions *v, TupleDesc desc, const AttrNumber *attnums)
{
	HeapTuple	found = NULL;
	int64		found_id = 0;
	ListCell   *lc;

	foreach(lc, v->versions)
	{
		HeapTuple	tuple = lfirst(lc);
		int64		entry_id = entry_tuple_id(tuple, desc, attnums);

		if (!row_versions_is_superseded(v, entry_id) &&
			(found == NULL || entry_id > found_id))
		{
			found = tuple;
			found_id = entry_id;
		}
	}
	return found;
}

/* Looking for one row's entries among the batches. */
typedef struct BatchedRowSearch
{
	Relation	journal;
	const AttrNumber *attnums;
	StringInfoData key;			/* canonical text of the key sought */
	RowVersions *versions;
} BatchedRowSearch;

static void
batched_row_entry(void *arg, EntryBatch *batch)
{
	BatchedRowSearch *search = arg;
	int			i;

	if (batch->malformed != NULL || !row_entry_kind(text_slice(batch->kind)))
		return;
	for (i = 0; i < batch->nentries; i++)
	{
		const BatchEntry *entry = &batch->entries[i];

		if (entry->key_utf8.len == search->key.len &&
			memcmp(entry->key_utf8.data, search->key.data, search->key.len) == 0 &&
			enablement_includes(search->versions->e, batch->format_version, entry->entry_id,
								batch->enablement_id))
			search->versions->versions =
				lappend(search->versions->versions,
						batch_entry_tuple(search->journal, search->attnums, batch, entry, -1, 0));
	}
}

/* Take a journal row of the key into v if it belongs to v's enablement. */
static void
row_versions_consider(RowVersions *v, HeapTuple tuple, TupleDesc desc,
					  const AttrNumber *attnums)
{
	bool		isnull;
	bool		enablement_null;
	int64		entry_id = entry_tuple_id(tuple, desc, attnums);
	int			version = DatumGetInt16(heap_getattr(tuple, attnums[COL_FORMAT_VERSION], desc, &isnull));
	Datum		enablement = heap_getattr(tuple, attnums[COL_ENABLEMENT_ID], desc, &enablement_null);
	text	   *kind_text = DatumGetTextPP(heap_getattr(tuple, attnums[COL_KIND], desc, &isnull));
	EntryKind	kind = entry_kind_of(VARDATA_ANY(kind_text), VARSIZE_ANY_EXHDR(kind_text));
	Datum		supersedes;

	if (!enablement_includes(v->e, version, entry_id,
							 enablement_null ? 0 : DatumGetInt64(enablement)))
		return;
	if (row_version_kind(kind))
		v->versions = lappend(v->versions, heap_copytuple(tuple));
	else if (kind == ENTRY_KIND_DELETE)
		v->removals = lappend(v->removals, heap_copytuple(tuple));
	if ((kind == ENTRY_KIND_UPDATE || kind == ENTRY_KIND_DELETE) &&
		attnums[COL_SUPERSEDES] != InvalidAttrNumber)
	{
		supersedes = heap_getattr(tuple, attnums[COL_SUPERSEDES], desc, &isnull);
		if (!isnull)
			row_versions_supersede(v, DatumGetInt64(supersedes));
	}
}

/* A journal row's columns, by EntryColumn, once deformed. */
#define ENTRY_VALUE(col) values[attnums[col] - 1]
#define ENTRY_ISNULL(col) isnull[attnums[col] - 1]

/* The journal's entries of the key whose canonical text is key_text, through key_hash. */
static bool
row_versions_hashed(RowVersions *v, Relation journal, const AttrNumber *attnums,
					const char *relation, StringInfo key_text, Snapshot snapshot,
					Oid key_hash_index)
{
	TupleDesc	desc = RelationGetDescr(journal);
	Datum	   *values;
	bool	   *isnull;
	int64		key_hash;
	JournalScan scan;
	HeapTuple	tuple;
	StringInfoData entry_key;
	bool		any = false;

	if (attnums[COL_KEY_HASH] == InvalidAttrNumber)
		return false;
	values = palloc(sizeof(Datum) * desc->natts);
	isnull = palloc(sizeof(bool) * desc->natts);
	key_hash = journal_key_hash(relation, key_text->data, key_text->len);
	initStringInfo(&entry_key);
	journal_scan_key_hash(&scan, journal, snapshot, key_hash, key_hash_index);
	while ((tuple = journal_scan_next(&scan)) != NULL)
	{
		heap_deform_tuple(tuple, desc, values, isnull);
		/* key_hash is only a claim: the entry must name this relation and key */
		if (ENTRY_ISNULL(COL_KEY_HASH) || DatumGetInt64(ENTRY_VALUE(COL_KEY_HASH)) != key_hash ||
			ENTRY_ISNULL(COL_RELATION) ||
			!text_slice_is(text_datum_slice(ENTRY_VALUE(COL_RELATION)), relation) ||
			ENTRY_ISNULL(COL_ROW_KEY))
			continue;
		resetStringInfo(&entry_key);
		canonical_json_append(&entry_key, DatumGetJsonbP(ENTRY_VALUE(COL_ROW_KEY)));
		if (entry_key.len == key_text->len &&
			memcmp(entry_key.data, key_text->data, key_text->len) == 0)
		{
			row_versions_consider(v, tuple, desc, attnums);
			any = true;
		}
	}
	journal_scan_end(&scan);
	return any;
}

/* The same through the (relation, row_key) index. */
static void
row_versions_by_key(RowVersions *v, Relation journal, const AttrNumber *attnums,
					const char *relation, Jsonb *key, Snapshot snapshot)
{
	TupleDesc	desc = RelationGetDescr(journal);
	JournalScan scan;
	HeapTuple	tuple;

	journal_scan_relation(&scan, journal, attnums, snapshot, relation, JOURNAL_ROW_KEY, key);
	while ((tuple = journal_scan_next(&scan)) != NULL)
		row_versions_consider(v, tuple, desc, attnums);
	journal_scan_end(&scan);
}

HeapTuple
enablement_row_entry_hashed(Relation journal, const AttrNumber *attnums, const Enablement *e,
							const char *relation, StringInfo key_text, Snapshot snapshot,
							Oid key_hash_index)
{
	RowVersions v;

	row_versions_init(&v, e);
	row_versions_hashed(&v, journal, attnums, relation, key_text, snapshot, key_hash_index);
	return row_versions_current(&v, RelationGetDescr(journal), attnums);
}

HeapTuple
enablement_row_entry_by_key(Relation journal, const AttrNumber *attnums, const Enablement *e,
							const char *relation, Jsonb *key, Snapshot snapshot)
{
	RowVersions v;

	row_versions_init(&v, e);
	row_versions_by_key(&v, journal, attnums, relation, key, snapshot);
	return row_versions_current(&v, RelationGetDescr(journal), attnums);
}

/*
 * Every entry of the key in e: its versions and removals from the
 * journal (through key_hash, or the key index for entries written before
 * 1.5 or whose key_hash was altered) and, with batched, from the batches.
 */
static void
row_versions_load(RowVersions *v, Relation journal, const AttrNumber *attnums,
				  const char *relation, Jsonb *key, Snapshot snapshot, bool batched)
{
	BatchedRowSearch search;

	initStringInfo(&search.key);
	canonical_json_append(&search.key, key);
	if (!row_versions_hashed(v, journal, attnums, relation, &search.key, snapshot, InvalidOid))
		row_versions_by_key(v, journal, attnums, relation, key, snapshot);
	if (!batched)
		return;
	/* a row recorded since the last seal waits in a batch */
	search.journal = journal;
	search.attnums = attnums;
	search.versions = v;
	entry_batches_scan(snapshot, relation, batched_row_entry, &search);
}

#undef ENTRY_VALUE
#undef ENTRY_ISNULL

HeapTuple
enablement_row_entry(Relation journal, const AttrNumber *attnums, const Enablement *e,
					 const char *relation, Jsonb *key, Snapshot snapshot, bool batched)
{
	RowVersions v;

	row_versions_init(&v, e);
	row_versions_load(&v, journal, attnums, relation, key, snapshot, batched);
	return row_versions_current(&v, RelationGetDescr(journal), attnums);
}

List *
enablement_row_entries(Relation journal, const AttrNumber *attnums, const Enablement *e,
					   const char *relation, Jsonb *key, Snapshot snapshot)
{
	RowVersions v;

	row_versions_init(&v, e);
	row_versions_load(&v, journal, attnums, relation, key, snapshot, true);
	return list_concat(v.versions, v.removals);
}

typedef struct BatchedRows
{
	const Enablement *e;
	int64		count;
} BatchedRows;

static void
batched_rows_count(void *arg, EntryBatch *batch)
{
	BatchedRows *rows = arg;
	int			i;

	if (!row_entry_kind(text_slice(batch->kind)))
		return;
	for (i = 0; i < batch->nentries; i++)
		if (enablement_includes(rows->e, batch->format_version, batch->entries[i].entry_id,
								batch->enablement_id))
			rows->count++;
}

/*
 * medchain.rows_recorded(relation text, enablement_id bigint) RETURNS bigint
 *
 * The number of rows the enablement recorded: its baseline and insert
 * entries.  NULL for a relation the caller may not read.
 */
Datum
medchain_rows_recorded(PG_FUNCTION_ARGS)
{
	char	   *relation = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		enablement_id = PG_GETARG_INT64(1);
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	LedgerHistory *history;
	Enablement *e;
	JournalScan scan;
	HeapTuple	tuple;
	int64		count = 0;
	BatchedRows batched;

	if (!may_read_relation(relation))
		PG_RETURN_NULL();
	journal = table_open(medchain_journal_relid(), AccessShareLock);
	entry_columns_find(journal, attnums);
	history = ledger_history_load(journal, attnums, relation, GetActiveSnapshot());
	if ((e = ledger_history_find(history, enablement_id)) == NULL)
	{
		table_close(journal, AccessShareLock);
		PG_RETURN_NULL();
	}
	journal_scan_relation(&scan, journal, attnums, GetActiveSnapshot(), relation,
						  JOURNAL_ALL, NULL);
	while ((tuple = journal_scan_next(&scan)) != NULL)
	{
		TupleDesc	desc = RelationGetDescr(journal);
		bool		isnull;
		bool		enablement_null;
		Datum		enablement = heap_getattr(tuple, attnums[COL_ENABLEMENT_ID], desc, &enablement_null);
		TextSlice	kind = text_datum_slice(heap_getattr(tuple, attnums[COL_KIND], desc, &isnull));

		/* rows, not versions: an update records no new row */
		if ((text_slice_is(kind, MC_KIND_BASELINE) || text_slice_is(kind, MC_KIND_INSERT)) &&
			enablement_includes(e, DatumGetInt16(heap_getattr(tuple, attnums[COL_FORMAT_VERSION], desc, &isnull)),
								DatumGetInt64(heap_getattr(tuple, attnums[COL_ENTRY_ID], desc, &isnull)),
								enablement_null ? 0 : DatumGetInt64(enablement)))
			count++;
	}
	journal_scan_end(&scan);
	batched.e = e;
	batched.count = 0;
	entry_batches_scan(GetActiveSnapshot(), relation, batched_rows_count, &batched);
	table_close(journal, AccessShareLock);
	PG_RETURN_INT64(count + batched.count);
}
