/*-------------------------------------------------------------------------
 *
 * versioned.c
 *	  Versioned ledger tables: the history table, the trigger that keeps
 *	  each replaced version and records the change, medchain.reason and
 *	  medchain.require_reason().
 *
 * The trigger fires AFTER UPDATE OR DELETE FOR EACH ROW, so it sees the
 * old and the new row as stored, after every BEFORE trigger.  The change
 * supersedes the entry of the version it replaces: the one that no update
 * or delete supersedes yet, found with the latest snapshot, because an
 * update that waited for a concurrent one to commit replaces that one's
 * version, which the statement's snapshot does not see.  The copy of the
 * old version goes into the history table as its owner, since the caller
 * may amend the ledger table without any right on its history.
 *
 * A row's key cannot change: versions of a row are linked by their key.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "canonical_json.h"
#include "enablement.h"
#include "ledger_cache.h"
#include "privileges.h"
#include "registry.h"
#include "row_key.h"
#include "security_scope.h"
#include "triggers.h"
#include "versioned.h"

PG_FUNCTION_INFO_V1(medchain_require_reason);

#define HISTORY_SUFFIX "_history"

static char *amendment_reason = NULL;

void
versioned_define_settings(void)
{
	DefineCustomStringVariable("medchain.reason",
							   "Why rows of versioned ledger tables are being updated or deleted.",
							   "Recorded with each update and delete entry; SET LOCAL it in the transaction that amends.",
							   &amendment_reason, NULL, PGC_USERSET, 0, NULL, NULL, NULL);
}

/* The reason set for the change, or NULL when none (or only blanks) is. */
static const char *
reason_given(void)
{
	if (amendment_reason == NULL ||
		strspn(amendment_reason, " \t\r\n") == strlen(amendment_reason))
		return NULL;
	return amendment_reason;
}

/* ---------- the history table ---------- */

static char *
history_table_name(const LedgerName *name)
{
	return psprintf("%s" HISTORY_SUFFIX, name->table);
}

void
versioned_check_table(Relation rel, const LedgerName *name)
{
	char	   *history = history_table_name(name);

	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("partitioned table %s cannot be a versioned ledger table", name->display),
				 errdetail("Versions of its rows are kept only for ordinary tables so far."),
				 errhint("Enable it in mode append-only.")));
	if (strlen(history) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("the name of the history table of %s would be too long", name->display),
				 errdetail("The history table is named \"%s\", which exceeds %d bytes.",
						   history, NAMEDATALEN - 1),
				 errhint("Rename the table to a shorter name first.")));
	if (OidIsValid(get_relname_relid(history, RelationGetNamespace(rel))))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation %s already exists",
						quote_qualified_identifier(name->schema, history)),
				 errdetail("A versioned ledger table keeps replaced versions in a table of that name."),
				 errhint("Rename or drop the existing relation first.")));
}

/* The key columns, quoted, separated by commas. */
static char *
key_column_list(Datum key_columns)
{
	StringInfoData list;
	ListCell   *lc;

	initStringInfo(&list);
	foreach(lc, text_array_to_list(key_columns))
		appendStringInfo(&list, "%s%s", list.len > 0 ? ", " : "",
						 quote_identifier(lfirst(lc)));
	return list.data;
}

/*
 * The history table has the ledger table's columns, in its order, and no
 * constraint but NOT NULL: it holds old versions as they were.  It is
 * append-only like a ledger table, and owned by the ledger table's owner.
 */
void
versioned_create_history(Oid relid, const LedgerName *name, Datum key_columns,
						 EnableMode *mode)
{
	char	   *history = history_table_name(name);
	char	   *qualified = quote_qualified_identifier(name->schema, history);
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TABLE %s (LIKE %s);"
					 "COMMENT ON TABLE %s IS %s;"
					 "CREATE INDEX ON %s (%s);"
					 "CREATE TRIGGER " MC_TRIGGER_APPEND_ONLY " BEFORE UPDATE OR DELETE ON %s"
					 " FOR EACH ROW EXECUTE FUNCTION medchain.refuse_change();"
					 "CREATE TRIGGER " MC_TRIGGER_NO_TRUNCATE " BEFORE TRUNCATE ON %s"
					 " FOR EACH STATEMENT EXECUTE FUNCTION medchain.refuse_change();"
					 "ALTER TABLE %s ENABLE ALWAYS TRIGGER " MC_TRIGGER_APPEND_ONLY ","
					 " ENABLE ALWAYS TRIGGER " MC_TRIGGER_NO_TRUNCATE ";"
					 "ALTER TABLE %s OWNER TO %s",
					 qualified, name->display,
					 qualified,
					 quote_literal_cstr(psprintf("Versions of %s that updates and deletes replaced, kept by medchain",
												 name->display)),
					 qualified, key_column_list(key_columns),
					 qualified, qualified, qualified,
					 qualified, quote_identifier(GetUserNameFromId(medchain_relation_owner(relid), false)));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	medchain_spi_execute(sql.data, 0, NULL, NULL, false, 0, SPI_OK_UTILITY, -1);
	SPI_finish();
	CommandCounterIncrement();
	mode->history_relid = get_relname_relid(history, get_rel_namespace(relid));
	mode->history_table = qualified;
}

void
versioned_release_history(Oid history_relid)
{
	char	   *qualified;

	if (!OidIsValid(history_relid) || get_rel_name(history_relid) == NULL)
		return;
	qualified = quote_qualified_identifier(get_namespace_name(get_rel_namespace(history_relid)),
										   get_rel_name(history_relid));
	medchain_spi_execute(psprintf("DROP TRIGGER " MC_TRIGGER_APPEND_ONLY " ON %s;"
								  "DROP TRIGGER " MC_TRIGGER_NO_TRUNCATE " ON %s",
								  qualified, qualified),
						 0, NULL, NULL, false, 0, SPI_OK_UTILITY, -1);
}

AttrNumber *
versioned_history_key_attnums(Relation rel, int *nkeys)
{
	Registration owner;
	AttrNumber *attnums;
	ListCell   *lc;
	int			i = 0;

	/*
	 * verify()'s parallel workers hash history tables too; they may not
	 * take a new snapshot, and the leader's is the one that counts.
	 */
	if (!registry_history_owner(RelationGetRelid(rel),
								IsInParallelMode() ? GetActiveSnapshot() : NULL, &owner))
		return NULL;
	*nkeys = list_length(owner.key_columns);
	attnums = palloc(sizeof(AttrNumber) * Max(*nkeys, 1));
	foreach(lc, owner.key_columns)
	{
		attnums[i] = get_attnum(RelationGetRelid(rel), lfirst(lc));
		if (attnums[i] == InvalidAttrNumber)
			return NULL;
		i++;
	}
	return attnums;
}

/* ---------- the trigger ---------- */

/* The active registration of a versioned table, which its trigger needs. */
static void
versioned_registration(LedgerRelation *ledger, Registration *reg)
{
	if (!registry_active(ledger->relid, reg) || !reg->versioned ||
		!OidIsValid(reg->history_relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s has medchain's version trigger but is no versioned ledger table",
						ledger->relation_name),
				 errdetail("medchain.ledger_registry was altered: the change cannot be recorded."),
				 errhint("Run medchain.verify() and restore the registry from the journal's events.")));
}

/* The entry of the row's current version, or 0 if it has none. */
static int64
current_version(JournalWriter *writer, LedgerRelation *ledger, StringInfo key_text)
{
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	LedgerHistory *history = ledger_history_load(writer->entries->rel, writer->attnums,
												 ledger->relation_name, snapshot);
	HeapTuple	entry = NULL;
	bool		isnull;

	if (history->current != NULL)
		entry = enablement_row_entry(writer->entries->rel, writer->attnums, history->current,
									 ledger->relation_name,
									 canonical_json_parse(key_text->data, key_text->len),
									 snapshot, true);
	UnregisterSnapshot(snapshot);
	if (entry == NULL)
		return 0;
	return DatumGetInt64(heap_getattr(entry, writer->attnums[COL_ENTRY_ID],
									  RelationGetDescr(writer->entries->rel), &isnull));
}

/* Copy the replaced version into the history table, as its owner. */
static void
history_keep(Relation rel, Oid history_relid, TupleTableSlot *old)
{
	HeapTuple	tuple = ExecFetchSlotHeapTuple(old, false, NULL);
	Datum		row = heap_copy_tuple_as_datum(tuple, RelationGetDescr(rel));
	Oid			rowtype = rel->rd_rel->reltype;
	char	   *history = quote_qualified_identifier(get_namespace_name(get_rel_namespace(history_relid)),
													 get_rel_name(history_relid));
	OwnerScope	scope;

	medchain_become_owner(history_relid, &scope);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	medchain_spi_execute(psprintf("INSERT INTO %s SELECT ($1).*", history),
						 1, &rowtype, &row, false, 0, SPI_OK_INSERT, 1);
	SPI_finish();
	medchain_leave_owner(&scope);
}

void
versioned_record_change(TriggerData *trigdata)
{
	Relation	rel = trigdata->tg_relation;
	bool		is_update = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event);
	LedgerRelation *ledger = ledger_relation_get(rel);
	TupleTableSlot *old = trigdata->tg_trigslot;
	TupleTableSlot *new = trigdata->tg_newslot;
	const char *reason = reason_given();
	Registration reg;
	StringInfoData old_key;
	JournalWriter *writer;
	int64		supersedes;

	versioned_registration(ledger, &reg);
	if (reason == NULL && reg.reason_required)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a reason is required to %s rows of ledger table %s",
						is_update ? "update" : "delete", ledger->relation_name),
				 errdetail("Amendments of this table are recorded with the reason set in medchain.reason, which is empty."),
				 errhint("SET LOCAL medchain.reason = '...' in the transaction that amends the row.")));
	slot_getallattrs(old);
	initStringInfo(&old_key);
	row_key_text(&old_key, ledger->key_layout, old->tts_values, old->tts_isnull);
	if (is_update)
	{
		StringInfoData new_key;

		slot_getallattrs(new);
		initStringInfo(&new_key);
		row_key_text(&new_key, ledger->key_layout, new->tts_values, new->tts_isnull);
		if (new_key.len != old_key.len || memcmp(new_key.data, old_key.data, old_key.len) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot change the key of a row of ledger table %s",
							ledger->relation_name),
					 errdetail("The versions of a row are linked by its key: %s would become %s.",
							   old_key.data, new_key.data),
					 errhint("Delete the row and insert it with the new key.")));
	}

	writer = journal_open();
	supersedes = current_version(writer, ledger, &old_key);
	history_keep(rel, reg.history_relid, old);
	if (is_update)
		record_row_change(writer, ledger, MC_KIND_UPDATE, reg.enablement_id,
						  new->tts_values, new->tts_isnull, supersedes, reason);
	else
		record_row_change(writer, ledger, MC_KIND_DELETE, reg.enablement_id,
						  old->tts_values, old->tts_isnull, supersedes, reason);
	journal_close(writer);
}

/* ---------- medchain.require_reason() ---------- */

/*
 * medchain.require_reason(tbl regclass, required boolean) RETURNS void
 *
 * Whether updates and deletes of a versioned table need medchain.reason.
 */
Datum
medchain_require_reason(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		required = PG_GETARG_BOOL(1);
	Relation	rel;
	Registration reg;
	Oid			argtypes[2] = {REGCLASSOID, BOOLOID};
	Datum		args[2];

	require_admin("change whether amendments need a reason");
	rel = relation_open(relid, ShareRowExclusiveLock);
	if (!registry_active(relid, &reg) || !reg.versioned)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not a versioned ledger table", ledger_relation_name(rel)),
				 errdetail("Only versioned ledger tables take updates and deletes, with their reasons."),
				 errhint("Enable the table with medchain.enable(tbl, mode => 'versioned').")));
	enable_check_owner(rel);
	args[0] = ObjectIdGetDatum(relid);
	args[1] = BoolGetDatum(required);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	enable_registry_execute("UPDATE medchain.ledger_registry SET reason_required = $2"
							" WHERE relid OPERATOR(pg_catalog.=) $1 AND released_at IS NULL",
							2, argtypes, args, SPI_OK_UPDATE);
	SPI_finish();
	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}
