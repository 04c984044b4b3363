/*-------------------------------------------------------------------------
 *
 * enable.c
 *	  medchain.enable() and medchain.disable().
 *
 * enable() does everything in the caller's transaction: install the
 * triggers, register the table, record every existing row as a baseline
 * entry.  An error or a cancel anywhere rolls all of it back.
 *
 * The registry and the journal belong to the extension's owner; callers
 * have no privileges on them.  Writes to the registry therefore run as the
 * owner, with SECURITY_LOCAL_USERID_CHANGE, only for the statements that
 * touch it; the triggers are created as the caller, who must own the
 * table.  Every statement runs under the pinned search_path
 * (security_scope.c); the baseline reads the table as its owner.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "enable.h"
#include "enablement.h"
#include "journal.h"
#include "ledger_cache.h"
#include "partitions.h"
#include "row_key.h"
#include "privileges.h"
#include "registry.h"
#include "security_scope.h"
#include "triggers.h"
#include "versioned.h"

PG_FUNCTION_INFO_V1(medchain_enable);
PG_FUNCTION_INFO_V1(medchain_disable);

const EnableMode enable_mode_append_only = {false, InvalidOid, NULL};

/*
 * Run one statement on medchain's own tables (the registry, the enable
 * progress) as their owner.
 */
void
enable_registry_execute(const char *sql, int nargs, Oid *argtypes, Datum *args, int expected_rc)
{
	Oid			owner = medchain_relation_owner(medchain_relation("ledger_registry"));
	Oid			save_userid;
	int			save_sec_context;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	medchain_spi_execute(sql, nargs, argtypes, args, false, 0, expected_rc, -1);
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/* ---------- checks ---------- */

void
enable_check_owner(Relation rel)
{
	if (!pg_class_ownercheck(RelationGetRelid(rel), GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER,
					   get_relkind_objtype(rel->rd_rel->relkind),
					   RelationGetRelationName(rel));
}

static void
check_relkind(Relation rel)
{
	const char *name = RelationGetRelationName(rel);

	switch (rel->rd_rel->relkind)
	{
		case RELKIND_RELATION:
		case RELKIND_PARTITIONED_TABLE:
			return;
		case RELKIND_VIEW:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("cannot enable \"%s\": it is a view", name),
					 errdetail("A view stores no rows of its own."),
					 errhint("Enable the tables the view reads from.")));
			break;
		case RELKIND_MATVIEW:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("cannot enable \"%s\": it is a materialized view", name),
					 errdetail("Its rows are replaced wholesale by REFRESH MATERIALIZED VIEW, which an append-only table cannot allow."),
					 errhint("Enable the tables the materialized view reads from.")));
			break;
		case RELKIND_FOREIGN_TABLE:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("cannot enable \"%s\": it is a foreign table", name),
					 errdetail("Its rows live outside this database, beyond the reach of medchain's triggers."),
					 errhint("Enable the table in the database that stores it.")));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("cannot enable \"%s\": it is not a table", name),
					 errdetail("Only ordinary tables can be ledger tables."),
					 errhint("Pass the name of a table.")));
	}
}

/*
 * A partition is recorded in the ledger of its partitioned table, which
 * takes in every partition it has or will have; a partition enabled alone
 * would leave the rows routed to its siblings unrecorded.
 */
static void
check_not_partition(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			ledger;

	if (!rel->rd_rel->relispartition)
		return;
	ledger = partition_ledger(relid);
	if (OidIsValid(ledger))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table %s is a partition of ledger table %s",
						ledger_relation_name(rel), ledger_relid_name(ledger)),
				 errdetail("Its rows are recorded in the ledger of its partitioned table."),
				 errhint("See medchain.ledger_tables.")));
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("cannot enable partition %s", ledger_relation_name(rel)),
			 errdetail("A partition is recorded in the ledger of its partitioned table, which takes in every partition it has or will have."),
			 errhint("Enable the partitioned table %s.",
					 ledger_relid_name(llast_oid(get_partition_ancestors(relid))))));
}

/* A DO INSTEAD rule would keep inserts away from the row trigger. */
static void
check_no_rules(Relation rel)
{
	if (rel->rd_rules != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot enable table \"%s\": it has rules",
						RelationGetRelationName(rel)),
				 errdetail("A rule can rewrite an insert so that the row trigger never sees it."),
				 errhint("Drop the table's rules first.")));
}

static void
check_persistence(Relation rel)
{
	const char *name = RelationGetRelationName(rel);

	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot enable temporary table \"%s\"", name),
				 errdetail("A temporary table vanishes at the end of its session; its recorded rows would too."),
				 errhint("Use a permanent table.")));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot enable unlogged table \"%s\"", name),
				 errdetail("An unlogged table is emptied after a crash, which would erase recorded rows."),
				 errhint("Run ALTER TABLE ... SET LOGGED first.")));
}

static void
check_not_system(Relation rel)
{
	Oid			nsp = RelationGetNamespace(rel);

	if (IsSystemRelation(rel) || IsCatalogNamespace(nsp) ||
		nsp == get_namespace_oid("information_schema", true))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot enable system catalog \"%s\"",
						RelationGetRelationName(rel)),
				 errdetail("System catalogs are maintained by the server itself."),
				 errhint("Enable tables that hold application data.")));
	if (nsp == medchain_namespace())
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot enable \"medchain.%s\"", RelationGetRelationName(rel)),
				 errdetail("Tables in schema medchain belong to the extension itself."),
				 errhint("Enable tables that hold application data.")));
}

/* Returns the key column names as a text[] datum. */
static Datum
check_key(Relation rel)
{
	Oid			keyindex = ledger_key_index(rel);
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber *attnums;
	Datum	   *names;
	int			nkeys;
	int			i;

	if (!OidIsValid(keyindex))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("table \"%s\" has no primary key", RelationGetRelationName(rel)),
				 errdetail("Every ledger entry names its row by key columns, and this table has neither a primary key nor a REPLICA IDENTITY USING INDEX."),
				 errhint("Add a primary key, or set REPLICA IDENTITY USING INDEX on a unique index over NOT NULL columns.")));

	attnums = ledger_key_attnums(keyindex, &nkeys);
	names = palloc(sizeof(Datum) * nkeys);
	for (i = 0; i < nkeys; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, attnums[i] - 1);

		if (!type_supported_as_key(attr->atttypid))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("key column \"%s\" of table \"%s\" has unsupported type %s",
							NameStr(attr->attname), RelationGetRelationName(rel),
							format_type_be(attr->atttypid)),
					 errdetail("Key values must have an exact JSON form; supported key types are integers, numeric, boolean, text types, uuid, enums and date/time types."),
					 errhint("Use a key of a supported type.")));
		names[i] = CStringGetTextDatum(NameStr(attr->attname));
	}
	return PointerGetDatum(construct_array(names, nkeys, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/* Columns whose values are hashed through their type's text output. */
void
notice_text_output_columns(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);

		if (!attr->attisdropped && type_encoded_as_text_output(attr->atttypid))
			ereport(NOTICE,
					(errmsg("column \"%s\" of type %s is hashed through its text output",
							NameStr(attr->attname), format_type_be(attr->atttypid)),
					 errdetail("medchain has no binary canonical form for this type; its output is taken under fixed settings (DateStyle ISO, TimeZone UTC, extra_float_digits 1, search_path pg_catalog)."),
					 errhint("Make sure the type's output depends on nothing else that can change.")));
	}
}

/*
 * Everything enable() requires of a table: returns its key columns as a
 * text[] datum and its names.
 */
Datum
enable_check_table(Relation rel, LedgerName *name)
{
	Datum		key_columns;

	check_relkind(rel);
	check_not_partition(rel);
	check_no_rules(rel);
	check_persistence(rel);
	check_not_system(rel);
	enable_check_owner(rel);
	key_columns = check_key(rel);
	ledger_name_of(rel, name);
	return key_columns;
}

/* ---------- triggers ---------- */

/*
 * The recording trigger, installed as the extension's own objects are:
 * by statement with a transition table, or by row on a partitioned table,
 * whence it is cloned onto every partition: statement triggers are not
 * cloned, and a partition's do not fire for rows routed through its
 * parent.
 */
static const char *
record_trigger_definition(bool by_row)
{
	return by_row ?
		"CREATE TRIGGER " MC_TRIGGER_RECORD " AFTER INSERT ON %s"
		" FOR EACH ROW EXECUTE FUNCTION medchain.record_row();" :
		"CREATE TRIGGER " MC_TRIGGER_RECORD " AFTER INSERT ON %s"
		" REFERENCING NEW TABLE AS medchain_new_rows"
		" FOR EACH STATEMENT EXECUTE FUNCTION medchain.record_rows();";
}

/*
 * Updates and deletes: refused by an append-only table; recorded, with the
 * replaced version kept, by a versioned one.  Both fire for each row.
 */
static const char *
change_trigger_name(bool versioned)
{
	return versioned ? MC_TRIGGER_RECORD_VERSION : MC_TRIGGER_APPEND_ONLY;
}

void
enable_install_triggers(const char *relation, bool by_row, bool versioned)
{
	StringInfoData sql;
	const char *change = change_trigger_name(versioned);

	initStringInfo(&sql);
	appendStringInfo(&sql, record_trigger_definition(by_row), relation);
	if (versioned)
		appendStringInfo(&sql,
						 "CREATE TRIGGER %s AFTER UPDATE OR DELETE ON %s"
						 " FOR EACH ROW EXECUTE FUNCTION medchain.record_version();",
						 change, relation);
	else
		appendStringInfo(&sql,
						 "CREATE TRIGGER %s BEFORE UPDATE OR DELETE ON %s"
						 " FOR EACH ROW EXECUTE FUNCTION medchain.refuse_change();",
						 change, relation);
	appendStringInfo(&sql,
					 "CREATE TRIGGER " MC_TRIGGER_NO_TRUNCATE " BEFORE TRUNCATE ON %s"
					 " FOR EACH STATEMENT EXECUTE FUNCTION medchain.refuse_change();"
					 "ALTER TABLE %s ENABLE ALWAYS TRIGGER " MC_TRIGGER_RECORD ","
					 " ENABLE ALWAYS TRIGGER %s,"
					 " ENABLE ALWAYS TRIGGER " MC_TRIGGER_NO_TRUNCATE,
					 relation, relation, change);
	medchain_spi_execute(sql.data, 0, NULL, NULL, false, 0, SPI_OK_UTILITY, -1);
}

void
enable_remove_triggers(const char *relation, bool versioned)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "DROP TRIGGER " MC_TRIGGER_RECORD " ON %s;"
					 "DROP TRIGGER %s ON %s;"
					 "DROP TRIGGER " MC_TRIGGER_NO_TRUNCATE " ON %s",
					 relation, change_trigger_name(versioned), relation, relation);
	medchain_spi_execute(sql.data, 0, NULL, NULL, false, 0, SPI_OK_UTILITY, -1);
}

/*
 * The partitions' own TRUNCATE triggers: TRUNCATE of a partition fires
 * its triggers only, and statement triggers are not cloned.  The row
 * triggers come from the partitioned table.  OR REPLACE: a partition
 * met twice (CREATE TABLE IF NOT EXISTS) keeps one.
 */
void
enable_install_partition_triggers(List *partitions)
{
	StringInfoData sql;
	ListCell   *lc;

	if (partitions == NIL)
		return;
	initStringInfo(&sql);
	foreach(lc, partitions)
	{
		char	   *relation = ledger_relid_name(lfirst_oid(lc));

		appendStringInfo(&sql,
						 "CREATE OR REPLACE TRIGGER " MC_TRIGGER_NO_TRUNCATE " BEFORE TRUNCATE ON %s"
						 " FOR EACH STATEMENT EXECUTE FUNCTION medchain.refuse_change();"
						 "ALTER TABLE %s ENABLE ALWAYS TRIGGER " MC_TRIGGER_NO_TRUNCATE ";",
						 relation, relation);
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	medchain_spi_execute(sql.data, 0, NULL, NULL, false, 0, SPI_OK_UTILITY, -1);
	SPI_finish();
}

/* Inside SPI; a partition that lacks its trigger is released all the same. */
static void
remove_partition_triggers(List *partitions)
{
	StringInfoData sql;
	ListCell   *lc;

	if (partitions == NIL)
		return;
	initStringInfo(&sql);
	foreach(lc, partitions)
		appendStringInfo(&sql, "DROP TRIGGER IF EXISTS " MC_TRIGGER_NO_TRUNCATE " ON %s;",
						 ledger_relid_name(lfirst_oid(lc)));
	medchain_spi_execute(sql.data, 0, NULL, NULL, false, 0, SPI_OK_UTILITY, -1);
}

/* ---------- events ---------- */

/*
 * An event entry of the enablement: row_hash is the SHA-256 of the
 * detail's canonical text, so the entry hash covers the detail.
 */
int64
enable_record_event(JournalWriter *writer, const LedgerName *name, int64 enablement_id,
					StringInfo detail_json)
{
	uint8		payload_hash[MC_HASH_LEN];
	JournalRecord record;

	journal_event_record(&record, name, enablement_id, detail_json->data, payload_hash);
	return journal_append(writer, &record);
}

/* The enablement of the table before this one, per the journal; 0 if none. */
int64
enable_previous_enablement(JournalWriter *writer, const char *relation)
{
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	LedgerHistory *history = ledger_history_load(writer->entries->rel, writer->attnums,
												 relation, snapshot);
	int64		previous = 0;

	UnregisterSnapshot(snapshot);
	if (history->enablements != NIL)
		previous = ((Enablement *) llast(history->enablements))->enablement_id;
	return previous;
}

/* ---------- baseline ---------- */

/*
 * Record every row of a table that holds rows as a baseline entry.  The
 * caller holds a lock that excludes writers, so a fresh snapshot taken now
 * sees every row that exists, including rows committed while we waited
 * for the lock.  The rows' output functions are the owner's code: this
 * runs as the owner.
 */
static int64
record_baseline(JournalWriter *writer, Relation rel, int64 enablement_id)
{
	LedgerRelation *ledger = ledger_relation_get(rel);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext,
												 "medchain baseline row",
												 ALLOCSET_DEFAULT_SIZES);
	OwnerScope	owner_scope;
	int			settings_level;
	int64		count = 0;

	medchain_become_owner(RelationGetRelid(rel), &owner_scope);
	settings_level = medchain_value_settings_fix();
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		CHECK_FOR_INTERRUPTS();
		record_slot_entry(writer, ledger, MC_KIND_BASELINE, enablement_id, slot, rowcxt);
		count++;
	}
	if (settings_level >= 0)
		medchain_settings_restore(settings_level);
	medchain_leave_owner(&owner_scope);

	MemoryContextDelete(rowcxt);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	return count;
}

/*
 * The same for every table that holds the rows of rel: itself, or its
 * leaf partitions, which the caller has locked.
 */
int64
enable_record_rows(JournalWriter *writer, Relation rel, int64 enablement_id)
{
	int64		count = 0;
	ListCell   *lc;

	foreach(lc, ledger_leaves(rel, NoLock))
	{
		Relation	leaf = table_open(lfirst_oid(lc), NoLock);

		count += record_baseline(writer, leaf, enablement_id);
		table_close(leaf, NoLock);
	}
	return count;
}

/* ---------- SQL functions ---------- */

/* The table argument, which must not be NULL. */
static Oid
table_argument(FunctionCallInfo fcinfo, const char *usage)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null"),
				 errdetail("The function acts on one named table."),
				 errhint("Pass the table, as in %s.", usage)));
	return PG_GETARG_OID(0);
}

Datum
enable_session_user_name(void)
{
	return DirectFunctionCall1(namein,
							   CStringGetDatum(GetUserNameFromId(GetSessionUserId(), false)));
}

/*
 * The detail of an enable event.  A concurrent enable writes it before its
 * baseline, with baseline_rows null; its baseline_complete event gives the
 * count.
 */
void
enable_event_detail(StringInfo detail, Datum key_columns, int64 previous,
					int64 baseline_rows, const EnableMode *mode)
{
	appendStringInfoString(detail, "{\"action\": \"enable\", \"baseline_rows\": ");
	if (baseline_rows >= 0)
		appendStringInfo(detail, INT64_FORMAT, baseline_rows);
	else
		appendStringInfoString(detail, "null");
	appendStringInfo(detail, ", \"key_columns\": %s, \"previous_enablement\": ",
					 TextDatumGetCString(DirectFunctionCall1(array_to_json, key_columns)));
	if (previous != 0)
		appendStringInfo(detail, INT64_FORMAT, previous);
	else
		appendStringInfoString(detail, "null");
	/* an append-only table's event is what it was before 1.5 */
	if (mode->versioned)
	{
		appendStringInfoString(detail, ", \"mode\": \"versioned\", \"history_table\": ");
		escape_json(detail, mode->history_table);
	}
	appendStringInfoChar(detail, '}');
}

/* The active registration of a table about to be enabled; inside SPI. */
void
enable_register(Oid relid, const LedgerName *name, Datum key_columns,
				int64 enablement_id, bool enabling, const EnableMode *mode)
{
	Oid			argtypes[6] = {REGCLASSOID, TEXTOID, TEXTARRAYOID, NAMEOID, INT8OID, TEXTOID};
	Datum		args[6];
	Oid			history_types[3] = {REGCLASSOID, REGCLASSOID, TEXTOID};
	Datum		history_args[3];

	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(name->display);
	args[2] = key_columns;
	args[3] = enable_session_user_name();
	args[4] = Int64GetDatum(enablement_id);
	args[5] = CStringGetTextDatum("enabling");
	/* state is left to its default when enabled: 1.1's registry has no such column */
	if (enabling)
		enable_registry_execute("INSERT INTO medchain.ledger_registry"
								" (relid, relation, key_columns, enabled_at, enabled_by,"
								" enablement_id, state)"
								" VALUES ($1, $2, $3, pg_catalog.now(), $4, $5, $6)",
								6, argtypes, args, SPI_OK_INSERT);
	else
		enable_registry_execute("INSERT INTO medchain.ledger_registry"
								" (relid, relation, key_columns, enabled_at, enabled_by,"
								" enablement_id)"
								" VALUES ($1, $2, $3, pg_catalog.now(), $4, $5)",
								5, argtypes, args, SPI_OK_INSERT);
	if (!mode->versioned)
		return;
	/* mode and history_table are columns since 1.5 only */
	history_args[0] = ObjectIdGetDatum(relid);
	history_args[1] = ObjectIdGetDatum(mode->history_relid);
	history_args[2] = CStringGetTextDatum(mode->history_table);
	enable_registry_execute("UPDATE medchain.ledger_registry"
							" SET mode = 'versioned', history_relid = $2, history_table = $3"
							" WHERE relid OPERATOR(pg_catalog.=) $1 AND released_at IS NULL",
							3, history_types, history_args, SPI_OK_UPDATE);
}

/*
 * Draw the enablement's id, install the triggers and register the table
 * (enabling: its baseline is recorded concurrently).  *previous is the
 * enablement before, for the enable event.
 */
int64
enable_begin(JournalWriter *writer, Oid relid, const LedgerName *name, Datum key_columns,
			 bool by_row, bool enabling, const EnableMode *mode, int64 *previous)
{
	int64		enablement_id = journal_next_entry_id(writer);

	*previous = enable_previous_enablement(writer, name->display);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	enable_install_triggers(name->display, by_row, mode->versioned);
	enable_register(relid, name, key_columns, enablement_id, enabling, mode);
	SPI_finish();
	return enablement_id;
}

void
enable_refuse_registered(const Registration *registration, const LedgerName *name)
{
	if (registration->enabling)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is being enabled concurrently", name->display),
				 errdetail("Its baseline is not complete: see medchain.ledger_tables."),
				 errhint("Call medchain.enable() with concurrently => true to resume it, or medchain.disable() to abandon it.")));
	ereport(ERROR,
			(errcode(ERRCODE_DUPLICATE_OBJECT),
			 errmsg("table %s is already a ledger table", name->display),
			 errdetail("Its rows are being recorded since it was enabled."),
			 errhint("See medchain.ledger_tables.")));
}

/* The mode argument: 'append-only' (the default) or 'versioned'. */
static bool
mode_argument(FunctionCallInfo fcinfo)
{
	char	   *mode;

	if (PG_NARGS() < 3)
		return false;
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("mode must not be null"),
				 errdetail("It says whether the table's rows may be amended."),
				 errhint("Pass 'append-only' or 'versioned', or leave it out for 'append-only'.")));
	mode = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (strcmp(mode, "versioned") == 0)
		return true;
	if (strcmp(mode, "append-only") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown ledger mode \"%s\"", mode),
				 errdetail("A ledger table is append-only, or versioned: updated and deleted with every replaced version kept."),
				 errhint("Pass 'append-only' or 'versioned'.")));
	return false;
}

/*
 * medchain.enable(tbl regclass, concurrently boolean, mode text) RETURNS bigint
 *
 * Makes tbl a ledger table; returns the number of existing rows recorded.
 * The enablement's id is drawn first, so that every baseline entry can
 * name it; the enable event, written last with the row count, names it too
 * and takes the next entry id, after the baseline's.  With concurrently,
 * enable_concurrently.c does it in steps while inserts go on.  A
 * partitioned table's partitions, at every level, are its ledger's.
 */
Datum
medchain_enable(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Relation	rel;
	LedgerName	name;
	Datum		key_columns;
	bool		partitioned;
	List	   *partitions;
	int64		count;
	int64		enablement_id;
	int64		previous;
	JournalWriter *writer;
	StringInfoData detail;
	Registration registration;
	EnableMode	mode = enable_mode_append_only;

	require_admin("enable a ledger table");
	relid = table_argument(fcinfo, "medchain.enable('schema.table')");
	if (PG_NARGS() > 1 && PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("concurrently must not be null"),
				 errdetail("It says whether inserts may go on while the existing rows are recorded."),
				 errhint("Pass true or false, or leave it out for false.")));
	mode.versioned = mode_argument(fcinfo);
	if (PG_NARGS() > 1 && PG_GETARG_BOOL(1))
	{
		if (mode.versioned)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a versioned ledger table cannot be enabled concurrently"),
					 errdetail("An update while the baseline is being recorded would replace a version that has no entry yet."),
					 errhint("Enable it with concurrently => false, in a quiet period.")));
		PG_RETURN_INT64(enable_concurrently(relid));
	}

	/*
	 * Excludes concurrent writers until commit, of the partitions too (a
	 * row may be inserted into a partition directly); CREATE TRIGGER needs
	 * it too.
	 */
	rel = relation_open(relid, ShareRowExclusiveLock);
	key_columns = enable_check_table(rel, &name);
	partitioned = rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE;
	if (registry_active(relid, &registration))
		enable_refuse_registered(&registration, &name);
	if (mode.versioned)
		versioned_check_table(rel, &name);
	partitions = ledger_partitions_checked(rel, name.display);
	notice_text_output_columns(rel);

	/* ALTER TABLE refuses a table this backend holds open; the lock stays. */
	relation_close(rel, NoLock);

	if (mode.versioned)
		versioned_create_history(relid, &name, key_columns, &mode);
	writer = journal_open();
	enablement_id = enable_begin(writer, relid, &name, key_columns, partitioned, false,
								 &mode, &previous);
	enable_install_partition_triggers(partitions);

	rel = relation_open(relid, ShareRowExclusiveLock);
	count = enable_record_rows(writer, rel, enablement_id);

	initStringInfo(&detail);
	enable_event_detail(&detail, key_columns, previous, count, &mode);
	enable_record_event(writer, &name, enablement_id, &detail);

	journal_close(writer);
	relation_close(rel, NoLock);
	PG_RETURN_INT64(count);
}

/* disable() of a table that is not a ledger table, or only a partition of one */
static void
refuse_not_ledger(Oid relid, const LedgerName *name)
{
	Oid			ledger = partition_ledger(relid);

	if (OidIsValid(ledger))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is a partition of ledger table %s",
						name->display, ledger_relid_name(ledger)),
				 errdetail("A partition is released with its partitioned table, all of whose partitions are one ledger."),
				 errhint("Release ledger table %s.", ledger_relid_name(ledger))));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("table %s is not a ledger table", name->display),
			 errdetail("Only tables enabled with medchain.enable() can be released."),
			 errhint("See medchain.ledger_tables.")));
}

/*
 * medchain.disable(tbl regclass, reason text) RETURNS bigint
 *
 * Releases a ledger table: its triggers go (its partitions' too), its
 * recorded entries stay, and an event entry of the enablement says who
 * released it, when and why.
 * Returns that entry's entry_id.
 */
Datum
medchain_disable(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *reason;
	Relation	rel;
	LedgerName	name;
	Registration registration;
	StringInfoData detail;
	Oid			argtypes[3] = {REGCLASSOID, NAMEOID, TEXTOID};
	Datum		args[3];
	JournalWriter *writer;
	int64		entry_id;
	List	   *partitions;

	require_admin("disable a ledger table");
	relid = table_argument(fcinfo, "medchain.disable('schema.table', 'reason')");
	reason = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (reason == NULL || strspn(reason, " \t\r\n") == strlen(reason))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a reason is required to release a ledger table"),
				 errdetail("The reason is recorded in the journal for auditors."),
				 errhint("Say why the table stops being a ledger, as in medchain.disable('schema.table', 'migrated to archive').")));

	/* DROP TRIGGER takes this lock anyway; take it first to avoid upgrades. */
	rel = relation_open(relid, AccessExclusiveLock);
	ledger_name_of(rel, &name);
	if (!registry_active(relid, &registration))
		refuse_not_ledger(relid, &name);
	enable_check_owner(rel);
	partitions = ledger_partitions(rel, AccessExclusiveLock);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* Leave the registry first, so the DDL guard lets the triggers go. */
	args[0] = ObjectIdGetDatum(relid);
	args[1] = enable_session_user_name();
	args[2] = CStringGetTextDatum(reason);
	enable_registry_execute(registration.versioned ?
							"UPDATE medchain.ledger_registry"
							" SET relid = NULL, history_relid = NULL,"
							" released_at = pg_catalog.now(),"
							" released_by = $2, release_reason = $3"
							" WHERE relid OPERATOR(pg_catalog.=) $1 AND released_at IS NULL" :
							"UPDATE medchain.ledger_registry"
							" SET relid = NULL, released_at = pg_catalog.now(),"
							" released_by = $2, release_reason = $3"
							" WHERE relid OPERATOR(pg_catalog.=) $1 AND released_at IS NULL",
							3, argtypes, args, SPI_OK_UPDATE);
	/* a concurrent enable abandoned midway leaves its progress behind */
	if (registration.enabling)
	{
		Oid			idtype = INT8OID;
		Datum		id = Int64GetDatum(registration.registration_id);

		enable_registry_execute("DELETE FROM medchain.enable_progress"
								" WHERE registration_id OPERATOR(pg_catalog.=) $1",
								1, &idtype, &id, SPI_OK_DELETE);
	}
	enable_remove_triggers(name.display, registration.versioned);
	remove_partition_triggers(partitions);
	if (registration.versioned)
		versioned_release_history(registration.history_relid);
	SPI_finish();

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"action\": \"disable\", \"reason\": ");
	escape_json(&detail, reason);
	appendStringInfoChar(&detail, '}');
	writer = journal_open();
	entry_id = enable_record_event(writer, &name, registration.enablement_id, &detail);
	journal_close(writer);

	relation_close(rel, NoLock);
	PG_RETURN_INT64(entry_id);
}
