/*-------------------------------------------------------------------------
 *
 * triggers.c
 *	  medchain.record_rows(), medchain.record_row() and
 *	  medchain.refuse_change().
 *
 * record_rows runs AFTER INSERT FOR EACH STATEMENT with the statement's
 * new rows as a transition table, so it hashes the rows exactly as stored:
 * after defaults, generated columns and every BEFORE trigger.  It fires at
 * the end of the statement, in the statement's (sub)transaction, so the
 * entries of a rolled-back statement or savepoint go with its rows.  A
 * statement of many rows costs one pass over its transition table, which
 * the server keeps within work_mem and spills beyond it, and multi-inserts
 * into the journal; an AFTER ROW trigger would queue an event per row in
 * memory until the statement ends.
 *
 * record_row, the AFTER INSERT FOR EACH ROW form, records the rows of a
 * partitioned table: installed on it, it is cloned onto every partition,
 * and fires on the partition that takes the row, whether the row came
 * through the partitioned table or straight into the partition (whose
 * statement triggers would not fire for routed rows).  The entry names
 * the partitioned table (ledger_cache.c).
 *
 * refuse_change runs BEFORE UPDATE OR DELETE FOR EACH ROW and BEFORE
 * TRUNCATE.  Being a row trigger, it refuses exactly the statements that
 * would change a row: a MERGE or INSERT ... ON CONFLICT DO UPDATE that ends
 * up only inserting goes through.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "registry.h"
#include "row_key.h"
#include "triggers.h"
#include "versioned.h"

PG_FUNCTION_INFO_V1(medchain_record_rows);
PG_FUNCTION_INFO_V1(medchain_record_row);
PG_FUNCTION_INFO_V1(medchain_refuse_change);
PG_FUNCTION_INFO_V1(medchain_record_version);

bool
is_medchain_trigger_name(const char *name)
{
	return strcmp(name, MC_TRIGGER_RECORD) == 0 ||
		strcmp(name, MC_TRIGGER_APPEND_ONLY) == 0 ||
		strcmp(name, MC_TRIGGER_NO_TRUNCATE) == 0 ||
		strcmp(name, MC_TRIGGER_RECORD_VERSION) == 0;
}

int64
record_row_entry(JournalWriter *writer, LedgerRelation *ledger,
				 const char *kind, int64 enablement_id, Datum *values, bool *isnull)
{
	return record_row_change(writer, ledger, kind, enablement_id, values, isnull, 0, NULL);
}

int64
record_row_change(JournalWriter *writer, LedgerRelation *ledger,
				  const char *kind, int64 enablement_id, Datum *values, bool *isnull,
				  int64 supersedes, const char *reason)
{
	uint8		hash[MC_HASH_LEN];
	JournalRecord record;

	/* the writer's buffer is free until journal_append encodes the entry */
	row_hash_compute(&writer->scratch, ledger->row_layout, values, isnull,
					 MC_FORMAT_CURRENT, hash);
	record.kind = kind;
	record.name = &ledger->name;
	record.enablement_id = enablement_id;
	/* the canonical text of the key's jsonb, written from the values */
	record.has_row_key = true;
	resetStringInfo(&writer->key_text);
	row_key_text(&writer->key_text, ledger->key_layout, values, isnull);
	record.row_hash = hash;
	record.detail = NULL;
	record.supersedes = supersedes;
	record.note = reason;
	/* the version trigger finds a versioned table's entries by key_hash at once */
	record.unbatched = ledger_relation_versioned(ledger);
	return journal_append(writer, &record);
}

/* The same for the row in slot, its work done in rowcxt, reset after it. */
void
record_slot_entry(JournalWriter *writer, LedgerRelation *ledger, const char *kind,
				  int64 enablement_id, TupleTableSlot *slot, MemoryContext rowcxt)
{
	MemoryContext old = MemoryContextSwitchTo(rowcxt);

	slot_getallattrs(slot);
	record_row_entry(writer, ledger, kind, enablement_id, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(old);
	MemoryContextReset(rowcxt);
}

static TriggerData *
trigger_data_checked(FunctionCallInfo fcinfo, const char *funcname)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function %s must be called as a trigger", funcname),
				 errdetail("It is installed on ledger tables by medchain.enable()."),
				 errhint("Do not call it directly.")));
	return (TriggerData *) fcinfo->context;
}

static void
require_after_insert(TriggerData *trigdata, bool for_row, const char *function)
{
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		(TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) != 0) != for_row ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		(!for_row && trigdata->tg_newtable == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must fire AFTER INSERT %s", function,
						for_row ? "FOR EACH ROW" :
						"FOR EACH STATEMENT with a NEW TABLE transition table"),
				 errdetail("It was installed on table \"%s\" in another way.",
						   RelationGetRelationName(trigdata->tg_relation)),
				 errhint("Use medchain.enable() to make a table a ledger table.")));
}

Datum
medchain_record_rows(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data_checked(fcinfo, "medchain.record_rows()");
	Tuplestorestate *rows;
	TupleTableSlot *slot;
	LedgerRelation *ledger;
	JournalWriter *writer;
	MemoryContext rowcxt;
	int64		enablement_id;

	require_after_insert(trigdata, false, "medchain.record_rows()");
	rows = trigdata->tg_newtable;
	if (tuplestore_tuple_count(rows) == 0)
		return PointerGetDatum(NULL);

	ledger = ledger_relation_get(trigdata->tg_relation);
	enablement_id = ledger_relation_enablement(ledger);
	slot = MakeSingleTupleTableSlot(RelationGetDescr(trigdata->tg_relation),
									&TTSOpsMinimalTuple);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "medchain row",
								   ALLOCSET_DEFAULT_SIZES);
	writer = journal_open();
	/* other triggers may read the same transition table: start from the top */
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		CHECK_FOR_INTERRUPTS();
		record_slot_entry(writer, ledger, MC_KIND_INSERT, enablement_id, slot, rowcxt);
	}
	tuplestore_rescan(rows);
	journal_close(writer);
	MemoryContextDelete(rowcxt);
	ExecDropSingleTupleTableSlot(slot);
	return PointerGetDatum(NULL);
}

Datum
medchain_record_row(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data_checked(fcinfo, "medchain.record_row()");
	TupleTableSlot *slot = trigdata->tg_trigslot;
	LedgerRelation *ledger;
	JournalWriter *writer;

	require_after_insert(trigdata, true, "medchain.record_row()");
	ledger = ledger_relation_get(trigdata->tg_relation);
	slot_getallattrs(slot);
	writer = journal_open();
	record_row_entry(writer, ledger, MC_KIND_INSERT, ledger_relation_enablement(ledger),
					 slot->tts_values, slot->tts_isnull);
	journal_close(writer);
	return PointerGetDatum(NULL);
}

/* AFTER UPDATE OR DELETE FOR EACH ROW on a versioned ledger table. */
Datum
medchain_record_version(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data_checked(fcinfo, "medchain.record_version()");

	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		  TRIGGER_FIRED_BY_DELETE(trigdata->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("medchain.record_version() must fire AFTER UPDATE OR DELETE FOR EACH ROW"),
				 errdetail("It was installed on table \"%s\" in another way.",
						   RelationGetRelationName(trigdata->tg_relation)),
				 errhint("Use medchain.enable(tbl, mode => 'versioned') to make a table a versioned ledger table.")));
	versioned_record_change(trigdata);
	return PointerGetDatum(NULL);
}

/*
 * The table a refusal names: the ledger table, or the partition of it
 * that the statement reached, with the ledger table.
 */
static char *
refused_table(Relation rel)
{
	LedgerRelation *ledger;

	if (rel->rd_rel->relispartition)
	{
		ledger = ledger_relation_get(rel);
		if (ledger->ledger_relid != RelationGetRelid(rel))
			return psprintf("partition \"%s\" of ledger table %s",
							RelationGetRelationName(rel), ledger->relation_name);
	}
	return psprintf("ledger table \"%s\"", RelationGetRelationName(rel));
}

Datum
medchain_refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data_checked(fcinfo, "medchain.refuse_change()");
	const char *table = refused_table(trigdata->tg_relation);

	if (registry_history_owner(RelationGetRelid(trigdata->tg_relation), NULL, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot change history table \"%s\"",
						RelationGetRelationName(trigdata->tg_relation)),
				 errdetail("A history table keeps the versions its versioned ledger table replaced; they never change."),
				 errhint("Amend the row in the ledger table itself.")));
	/* an UPDATE that would move a row to another partition is refused here too */
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot update rows of %s", table),
				 trigdata->tg_relation->rd_rel->relispartition ?
				 errdetail("Ledger tables are append-only: a recorded row never changes, nor moves to another partition.") :
				 errdetail("Ledger tables are append-only: a recorded row never changes."),
				 errhint("Insert a new row that supersedes the old one.")));
	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot delete rows from %s", table),
				 errdetail("Ledger tables are append-only: a recorded row is never removed."),
				 errhint("Release the table with medchain.disable() if it must stop being a ledger.")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot truncate %s", table),
			 errdetail("Ledger tables are append-only: recorded rows are never removed."),
			 errhint("Release the table with medchain.disable() if it must stop being a ledger.")));
	PG_RETURN_NULL();			/* keep compiler quiet */
}
