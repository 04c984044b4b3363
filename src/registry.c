/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  Reading medchain.ledger_registry.
 *
 * The DDL guard asks on every guarded command whether a table is a ledger
 * table, and the row trigger's cache asks once per table; both read the
 * registry here with a heap scan and C comparisons, so no operator or
 * function of anybody's search_path is involved.  The registry is small:
 * one row per enablement.
 *
 * Columns are found by name, and only those every version of the schema
 * has are required, so the guards keep working in a database whose
 * extension objects are still at an older version.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "journal.h"
#include "registry.h"

typedef struct RegistryColumns
{
	AttrNumber	registration_id;
	AttrNumber	relid;
	AttrNumber	relation;
	AttrNumber	key_columns;
	AttrNumber	enablement_id;	/* missing before version 1.1 */
	AttrNumber	released_at;
	AttrNumber	state;			/* missing before version 1.2 */
	AttrNumber	mode;			/* these three: missing before version 1.5 */
	AttrNumber	history_relid;
	AttrNumber	reason_required;
} RegistryColumns;

static void
registry_columns_find(Relation registry, RegistryColumns *cols)
{
	TupleDesc	desc = RelationGetDescr(registry);

	cols->registration_id = medchain_attnum(desc, "registration_id");
	cols->relid = medchain_attnum(desc, "relid");
	cols->relation = medchain_attnum(desc, "relation");
	cols->key_columns = medchain_attnum(desc, "key_columns");
	cols->enablement_id = medchain_attnum_if_exists(desc, "enablement_id");
	cols->released_at = medchain_attnum(desc, "released_at");
	cols->state = medchain_attnum_if_exists(desc, "state");
	cols->mode = medchain_attnum_if_exists(desc, "mode");
	cols->history_relid = medchain_attnum_if_exists(desc, "history_relid");
	cols->reason_required = medchain_attnum_if_exists(desc, "reason_required");
}

List *
text_array_to_list(Datum array)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			i;
	List	   *result = NIL;

	deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	for (i = 0; i < nelems; i++)
		result = lappend(result, nulls[i] ? pstrdup("") : TextDatumGetCString(elems[i]));
	return result;
}

static void
registration_from_tuple(HeapTuple tuple, TupleDesc desc, const RegistryColumns *cols,
						Registration *out)
{
	bool		isnull;
	Datum		value;

	value = heap_getattr(tuple, cols->registration_id, desc, &isnull);
	out->registration_id = isnull ? 0 : DatumGetInt64(value);
	value = heap_getattr(tuple, cols->relid, desc, &isnull);
	out->relid = isnull ? InvalidOid : DatumGetObjectId(value);
	value = heap_getattr(tuple, cols->relation, desc, &isnull);
	out->relation = isnull ? pstrdup("") : TextDatumGetCString(value);
	value = heap_getattr(tuple, cols->key_columns, desc, &isnull);
	out->key_columns = isnull ? NIL : text_array_to_list(value);
	out->enablement_id = 0;
	if (cols->enablement_id != InvalidAttrNumber)
	{
		value = heap_getattr(tuple, cols->enablement_id, desc, &isnull);
		out->enablement_id = isnull ? 0 : DatumGetInt64(value);
	}
	(void) heap_getattr(tuple, cols->released_at, desc, &isnull);
	out->released = !isnull;
	out->enabling = false;
	if (cols->state != InvalidAttrNumber)
	{
		value = heap_getattr(tuple, cols->state, desc, &isnull);
		out->enabling = !isnull && strcmp(TextDatumGetCString(value), "enabling") == 0;
	}
	out->versioned = false;
	out->history_relid = InvalidOid;
	out->reason_required = false;
	if (cols->mode != InvalidAttrNumber)
	{
		value = heap_getattr(tuple, cols->mode, desc, &isnull);
		out->versioned = !isnull && strcmp(TextDatumGetCString(value), "versioned") == 0;
		value = heap_getattr(tuple, cols->history_relid, desc, &isnull);
		out->history_relid = isnull ? InvalidOid : DatumGetObjectId(value);
		value = heap_getattr(tuple, cols->reason_required, desc, &isnull);
		out->reason_required = !isnull && DatumGetBool(value);
	}
}

typedef bool (*RegistryVisitor) (Registration *row, void *arg);

/* Looking for the registration whose history table is history_relid. */
typedef struct HistoryOwner
{
	Oid			history_relid;
	Registration *out;
} HistoryOwner;

/*
 * Call visit for every active registration (with relid, only for that
 * table; with include_released, released ones too) until it returns
 * false.  Returns false if a visit stopped the scan.  With a NULL
 * snapshot the latest one is used.
 */
static bool
registry_scan(Snapshot snapshot, Oid relid, bool include_released,
			  RegistryVisitor visit, void *arg)
{
	Relation	registry = table_open(medchain_relation("ledger_registry"), AccessShareLock);
	TupleDesc	desc = RelationGetDescr(registry);
	RegistryColumns cols;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		completed = true;
	bool		own_snapshot = (snapshot == NULL);

	registry_columns_find(registry, &cols);
	if (own_snapshot)
		snapshot = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyInit(&key, cols.relid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(registry, InvalidOid, false, snapshot,
							  OidIsValid(relid) ? 1 : 0, &key);
	while ((tuple = systable_getnext(scan)) != NULL)
	{
		Registration row;

		registration_from_tuple(tuple, desc, &cols, &row);
		if (!include_released && (row.released || !OidIsValid(row.relid)))
			continue;
		if (!visit(&row, arg))
		{
			completed = false;
			break;
		}
	}
	systable_endscan(scan);
	if (own_snapshot)
		UnregisterSnapshot(snapshot);
	table_close(registry, AccessShareLock);
	return completed;
}

static bool
copy_first(Registration *row, void *arg)
{
	if (arg != NULL)
		*(Registration *) arg = *row;
	return false;
}

bool
registry_active(Oid relid, Registration *out)
{
	if (!OidIsValid(relid))
		return false;
	return !registry_scan(NULL, relid, false, copy_first, out);
}

static bool
stop_if_in_schema(Registration *row, void *arg)
{
	return get_rel_namespace(row->relid) != *(Oid *) arg;
}

static bool
stop_if_history_is(Registration *row, void *arg)
{
	HistoryOwner *owner = arg;

	if (row->history_relid != owner->history_relid)
		return true;
	if (owner->out != NULL)
		*owner->out = *row;
	return false;
}

bool
registry_history_owner(Oid history_relid, Snapshot snapshot, Registration *out)
{
	HistoryOwner owner = {history_relid, out};

	if (!OidIsValid(history_relid))
		return false;
	return !registry_scan(snapshot, InvalidOid, false, stop_if_history_is, &owner);
}

bool
registry_has_ledger_in_schema(Oid nspid)
{
	return !registry_scan(NULL, InvalidOid, false, stop_if_in_schema, &nspid);
}

bool
registry_has_any_ledger(void)
{
	return !registry_scan(NULL, InvalidOid, false, copy_first, NULL);
}

static bool
append_copy(Registration *row, void *arg)
{
	List	  **list = arg;
	Registration *copy = palloc(sizeof(Registration));

	*copy = *row;
	*list = lappend(*list, copy);
	return true;
}

List *
registry_active_list(Snapshot snapshot, Oid only)
{
	List	   *list = NIL;

	registry_scan(snapshot, only, false, append_copy, &list);
	return list;
}

List *
registry_all(Snapshot snapshot)
{
	List	   *list = NIL;

	registry_scan(snapshot, InvalidOid, true, append_copy, &list);
	return list;
}
