/*-------------------------------------------------------------------------
 *
 * rows.c
 *	  Finding a ledger row by its key, and medchain.row_encoding().
 *
 * row_encoding() gives the exact bytes that a row's row_hash covers, so an
 * analyst or an outside verifier can recompute the hash with any SHA-256
 * tool, and the format documentation can be checked against the server.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "ledger_cache.h"
#include "journal.h"
#include "partitions.h"
#include "rows.h"
#include "security_scope.h"

PG_FUNCTION_INFO_V1(medchain_row_encoding);

static char *
key_columns_list(const RowLayout *keylayout)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < keylayout->ncolumns; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "",
						 keylayout->columns[i].name);
	return buf.data;
}

/* Is the key a JSON object naming exactly the key columns? */
bool
ledger_key_fits(const LedgerRelation *ledger, Jsonb *key)
{
	const RowLayout *keylayout = ledger->key_layout;
	bool		fits = JB_ROOT_IS_OBJECT(key) &&
		JB_ROOT_COUNT(key) == keylayout->ncolumns;
	int			i;

	for (i = 0; fits && i < keylayout->ncolumns; i++)
	{
		JsonbValue	name;
		JsonbValue *value;

		name.type = jbvString;
		name.val.string.val = keylayout->columns[i].name;
		name.val.string.len = strlen(keylayout->columns[i].name);
		value = findJsonbValueFromContainer(&key->root, JB_FOBJECT, &name);
		fits = value != NULL && value->type != jbvNull;
	}
	return fits;
}

void
check_key_shape(const LedgerRelation *ledger, Jsonb *key)
{
	if (!ledger_key_fits(ledger, key))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key does not match the key columns of ledger table %s",
						ledger->relation_name),
				 errdetail("The key must be a JSON object with exactly these non-null members: %s.",
						   key_columns_list(ledger->key_layout)),
				 errhint("Copy the row_key of the row's entry in medchain.entries.")));
}

/*
 * "t.k1 OPERATOR(pg_catalog.=) k.k1 AND ..." over the key columns: the
 * right-hand sides are the columns of a record k, or with by_params the
 * parameters $1, $2, ... in key column order.
 */
void
ledger_key_condition(StringInfo sql, const RowLayout *keylayout, bool by_params)
{
	int			i;

	for (i = 0; i < keylayout->ncolumns; i++)
	{
		const char *column = quote_identifier(keylayout->columns[i].name);

		appendStringInfo(sql, "%st.%s OPERATOR(pg_catalog.=) ", i > 0 ? " AND " : "", column);
		if (by_params)
			appendStringInfo(sql, "$%d", i + 1);
		else
			appendStringInfo(sql, "k.%s", column);
	}
}

/*
 * Locate the row whose key columns equal the members of key, as seen by
 * the active snapshot: the table that holds it (rel, or a partition of
 * it) and its tid.  Returns false if there is none.
 *
 * The key's values are converted to the columns' types, which runs their
 * input functions and domain checks, and compared with the key columns'
 * equality operators: all of it is the table owner's code, so it runs as
 * the owner (security_scope.c).
 */
bool
ledger_row_find(Relation rel, LedgerRelation *ledger, Jsonb *key, Oid *holder,
				ItemPointer tid)
{
	Oid			argtype = JSONBOID;
	Datum		arg = JsonbPGetDatum(key);
	bool		found;
	OwnerScope	scope;

	check_key_shape(ledger, key);
	medchain_become_owner(RelationGetRelid(rel), &scope);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (ledger->find_plan == NULL)
	{
		StringInfoData sql;
		SPIPlanPtr	plan;

		/* a partitioned table's rows are its partitions'; another's children are not its */
		initStringInfo(&sql);
		appendStringInfo(&sql,
						 "SELECT t.tableoid, t.ctid FROM %s%s t,"
						 " pg_catalog.jsonb_populate_record(NULL::%s, $1) k WHERE ",
						 rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
						 ledger->relation_name, ledger->relation_name);
		ledger_key_condition(&sql, ledger->key_layout, false);
		plan = SPI_prepare(sql.data, 1, &argtype);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare row lookup: %s", sql.data);
		ledger->find_plan = plan;
	}
	if (SPI_execute_plan(ledger->find_plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "row lookup in %s failed", ledger->relation_name);
	found = SPI_processed > 0;
	if (found)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		*holder = DatumGetObjectId(SPI_getbinval(tuple, desc, 1, &isnull));
		ItemPointerCopy((ItemPointer) DatumGetPointer(SPI_getbinval(tuple, desc, 2, &isnull)),
						tid);
	}
	SPI_finish();
	medchain_leave_owner(&scope);
	return found;
}

void
require_table_read(Relation rel)
{
	if (pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", RelationGetRelationName(rel)),
				 errdetail("The row's encoding, and a proof, contain the row itself."),
				 errhint("Ask for SELECT on the table.")));
}

/*
 * Open a table the journal has enablements for, current or released, and
 * its history; errors if it has none.  The journal decides, not the
 * registry: a released table's sealed rows still have proofs.  A
 * partition of a ledger table opens that table, whose rows it holds.
 */
Relation
ledger_table_open(Oid relid, Relation journal, const AttrNumber *attnums,
				  LedgerHistory **history)
{
	Relation	rel = table_open(ledger_table_of(relid), AccessShareLock);
	char	   *relation = ledger_relation_name(rel);

	/* nothing about a table, not even whether it is a ledger, to those who may not read it */
	require_table_read(rel);

	*history = ledger_history_load(journal, attnums, relation, GetActiveSnapshot());
	if ((*history)->enablements == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not a ledger table", relation),
				 errdetail("Only ledger tables have recorded rows, and the journal has no enablement of this table."),
				 errhint("See medchain.ledger_tables.")));
	return rel;
}

void
recorded_row_find(Oid relid, Jsonb *key, RecordedRow *row)
{
	row->journal = table_open(medchain_journal_relid(), AccessShareLock);
	entry_columns_find(row->journal, row->attnums);
	row->rel = ledger_table_open(relid, row->journal, row->attnums, &row->history);
	row->ledger = ledger_relation_get(row->rel);
	row->enablement = row->history->current != NULL ? row->history->current :
		llast(row->history->enablements);
	check_key_shape(row->ledger, key);
	row->entry = enablement_row_entry(row->journal, row->attnums, row->enablement,
									  row->ledger->relation_name, key, GetActiveSnapshot(), true);
	row->format_version = MC_FORMAT_CURRENT;
	if (row->entry != NULL)
	{
		bool		isnull;

		row->format_version = DatumGetInt16(heap_getattr(row->entry,
														 row->attnums[COL_FORMAT_VERSION],
														 RelationGetDescr(row->journal),
														 &isnull));
	}
}

void
recorded_row_close(RecordedRow *row)
{
	table_close(row->rel, AccessShareLock);
	table_close(row->journal, AccessShareLock);
}

static void report_no_row(const LedgerRelation *ledger, Jsonb *key) pg_attribute_noreturn();

static void
report_no_row(const LedgerRelation *ledger, Jsonb *key)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("ledger table %s has no row with key %s",
					ledger->relation_name,
					JsonbToCString(NULL, &key->root, VARSIZE(key))),
			 errdetail("No visible row has these key values."),
			 errhint("Check the key against medchain.entries.")));
}

/*
 * The canonical encoding, in the given format version, of the current row
 * with that key, as seen by the active snapshot; errors if there is no
 * such row.
 */
StringInfo
ledger_row_encoding(Relation rel, LedgerRelation *ledger, Jsonb *key, int version)
{
	Oid			holder;
	ItemPointerData tid;
	Relation	leaf;
	TupleTableSlot *slot;
	StringInfo	buf = makeStringInfo();
	OwnerScope	scope;
	int			settings_level;
	bool		fetched;

	if (!ledger_row_find(rel, ledger, key, &holder, &tid))
		report_no_row(ledger, key);
	/* a partition's row, in its own layout, encodes as the ledger table's would */
	leaf = holder == RelationGetRelid(rel) ? rel : table_open(holder, AccessShareLock);
	ledger = ledger_relation_get_in(leaf, RelationGetRelid(rel));
	slot = table_slot_create(leaf, NULL);
	fetched = table_tuple_fetch_row_version(leaf, &tid, GetActiveSnapshot(), slot);
	if (!fetched)
		report_no_row(ledger, key);
	slot_getallattrs(slot);
	/* output functions are the owner's code */
	medchain_become_owner(RelationGetRelid(leaf), &scope);
	settings_level = medchain_value_settings_fix();
	row_encode(buf, ledger->row_layout, slot->tts_values, slot->tts_isnull, version);
	if (settings_level >= 0)
		medchain_settings_restore(settings_level);
	medchain_leave_owner(&scope);
	ExecDropSingleTupleTableSlot(slot);
	if (leaf != rel)
		table_close(leaf, NoLock);
	return buf;
}

/*
 * medchain.row_encoding(tbl regclass, key jsonb) RETURNS bytea
 *
 * The canonical encoding of the current row with that key, in the format
 * version of the row's entry; its SHA-256 is the row_hash that recording
 * it produced.
 */
Datum
medchain_row_encoding(PG_FUNCTION_ARGS)
{
	Jsonb	   *key = PG_GETARG_JSONB_P(1);
	RecordedRow row;
	StringInfo	encoding;
	bytea	   *result;

	recorded_row_find(PG_GETARG_OID(0), key, &row);
	encoding = ledger_row_encoding(row.rel, row.ledger, key, row.format_version);
	recorded_row_close(&row);
	result = (bytea *) palloc(VARHDRSZ + encoding->len);
	SET_VARSIZE(result, VARHDRSZ + encoding->len);
	memcpy(VARDATA(result), encoding->data, encoding->len);
	PG_RETURN_BYTEA_P(result);
}
