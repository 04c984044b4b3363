/*-------------------------------------------------------------------------
 *
 * enable_concurrently.c
 *	  medchain.enable(tbl, concurrently => true): make a live table a
 *	  ledger table while inserts into it go on.
 *
 * The work is done by a background worker, in transactions of its own,
 * while the caller waits for it (and stops it if it is cancelled):
 *
 * 1. Under ShareRowExclusiveLock, which waits for the transactions that
 *    have inserted into the table to end and holds off new ones for that
 *    moment, the worker installs the triggers, registers the table as
 *    enabling, writes the enable event (baseline_rows null) and notes the
 *    dividing line: the next transaction id (the horizon) and the
 *    transactions then in progress, with their subtransactions.  It
 *    commits, and from then on every insert is recorded by the triggers,
 *    as an insert entry, and UPDATE and DELETE are refused.
 *
 * 2. Every row that was committed before that moment was inserted by a
 *    transaction below the horizon that was not in progress then; every
 *    other row was inserted once the triggers were there.  The worker
 *    walks the blocks the table had then, a range at a time, each range in
 *    a transaction that records the first kind as baseline entries and
 *    the progress with them, so a cancel or a crash loses at most one
 *    range, and calling enable(tbl, concurrently => true) again resumes
 *    after the last range committed.  No row is recorded twice: a row's
 *    inserting transaction decides which of the two records it, and the
 *    range it lies in is recorded once.  None is missed: rows from before
 *    lie in those blocks, rows from after were recorded by the triggers.
 *
 * 3. The baseline_complete event gives the count, and the table's state
 *    becomes enabled.  Until then verify() reports the table as
 *    enable_incomplete rather than checking rows against a baseline that
 *    is not all there.
 *
 * Two cases cannot be told by transaction id alone, and are told by
 * looking the row's key up among the enablement's entries: a frozen row
 * whose inserting transaction id lies above the horizon (frozen ids may
 * wrap around), and, after the table was rewritten (VACUUM FULL, CLUSTER)
 * between a failure and the resume, which moves rows between the ranges,
 * every row from before the triggers: the baseline starts over, and the
 * part done before the rewrite may have recorded it (sealed first, so that
 * the journal's index answers).  While the worker runs it holds ShareUpdateExclusiveLock on the
 * table for its session, which keeps such rewrites and other DDL away.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/subtrans.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/bufmgr.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "enable.h"
#include "enablement.h"
#include "entry_batches.h"
#include "journal.h"
#include "ledger_cache.h"
#include "privileges.h"
#include "registry.h"
#include "row_key.h"
#include "security_scope.h"
#include "triggers.h"

PGDLLEXPORT void medchain_enable_worker_main(Datum main_arg);

/* Blocks recorded per transaction: about 2 MB of table. */
#define MC_BASELINE_RANGE_BLOCKS 256

/* What the caller hands the worker. */
typedef struct EnableWorkerArgs
{
	Oid			database;
	Oid			session_user;	/* recorded_by of the baseline entries */
	Oid			current_user;	/* whose privileges the work needs */
	Oid			relid;
} EnableWorkerArgs;

/* One row of medchain.enable_progress. */
typedef struct EnableProgress
{
	int64		registration_id;
	int64		enablement_id;
	TransactionId horizon;
	TransactionId *running;		/* sorted */
	int			nrunning;
	Oid			relfilenode;
	int64		heap_blocks;
	int64		blocks_done;
	bool		probe_all;
	int64		baseline_rows;
	char	   *last_error;
} EnableProgress;

/* ---------- the progress row ---------- */

static TransactionId *
xid8_array_sorted(Datum array, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	TransactionId *xids;
	int			i;

	deconstruct_array(DatumGetArrayTypeP(array), XID8OID, sizeof(FullTransactionId),
					  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, n);
	xids = palloc(sizeof(TransactionId) * Max(*n, 1));
	for (i = 0; i < *n; i++)
		xids[i] = XidFromFullTransactionId(DatumGetFullTransactionId(elems[i]));
	qsort(xids, *n, sizeof(TransactionId), xidComparator);
	return xids;
}

/*
 * The progress of a registration, read directly with the latest snapshot,
 * so the caller sees the worker's commits whatever its isolation level.
 */
static bool
progress_read(int64 registration_id, EnableProgress *out)
{
	Relation	rel = table_open(medchain_relation("enable_progress"), AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	HeapTuple	tuple;
	bool		found = false;

#define COLUMN(name, isnull) heap_getattr(tuple, medchain_attnum(desc, name), desc, isnull)
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		value;

		if (DatumGetInt64(COLUMN("registration_id", &isnull)) != registration_id)
			continue;
		out->registration_id = registration_id;
		out->enablement_id = DatumGetInt64(COLUMN("enablement_id", &isnull));
		out->horizon = XidFromFullTransactionId(DatumGetFullTransactionId(COLUMN("horizon", &isnull)));
		out->running = xid8_array_sorted(COLUMN("running_xids", &isnull), &out->nrunning);
		out->relfilenode = DatumGetObjectId(COLUMN("relfilenode", &isnull));
		out->heap_blocks = DatumGetInt64(COLUMN("heap_blocks", &isnull));
		out->blocks_done = DatumGetInt64(COLUMN("blocks_done", &isnull));
		out->probe_all = DatumGetBool(COLUMN("probe_all", &isnull));
		out->baseline_rows = DatumGetInt64(COLUMN("baseline_rows", &isnull));
		value = COLUMN("last_error", &isnull);
		out->last_error = isnull ? NULL : TextDatumGetCString(value);
		found = true;
		break;
	}
#undef COLUMN
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return found;
}

static void
progress_execute(const char *sql, int nargs, Oid *argtypes, Datum *args, int expected_rc)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	enable_registry_execute(sql, nargs, argtypes, args, expected_rc);
	SPI_finish();
}

/* ---------- step 1: the triggers and the dividing line ---------- */

/* A transaction id of now or a little before, with its epoch. */
static Datum
recent_xid8(TransactionId xid)
{
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		epoch = EpochFromFullTransactionId(next);

	if (xid > XidFromFullTransactionId(next))
		epoch--;
	return FullTransactionIdGetDatum(FullTransactionIdFromEpochAndXid(epoch, xid));
}

/*
 * The transactions in progress in snapshot, with their subtransactions:
 * their rows are inserted after the triggers.  When the snapshot could not
 * list every subtransaction, they are found through pg_subtrans, which
 * this transaction's snapshot keeps from being truncated.
 */
static Datum
running_xids(Snapshot snapshot)
{
	List	   *xids = NIL;
	ListCell   *lc;
	Datum	   *elems;
	int			i = 0;

	for (i = 0; i < snapshot->xcnt; i++)
		xids = lappend(xids, DatumGetPointer(recent_xid8(snapshot->xip[i])));
	if (!snapshot->suboverflowed)
		for (i = 0; i < snapshot->subxcnt; i++)
			xids = lappend(xids, DatumGetPointer(recent_xid8(snapshot->subxip[i])));
	else
	{
		TransactionId xid = snapshot->xmin;
		TransactionId *running = palloc(sizeof(TransactionId) * Max(snapshot->xcnt, 1));

		memcpy(running, snapshot->xip, sizeof(TransactionId) * snapshot->xcnt);
		qsort(running, snapshot->xcnt, sizeof(TransactionId), xidComparator);
		while (TransactionIdPrecedes(xid, snapshot->xmax))
		{
			TransactionId top;

			CHECK_FOR_INTERRUPTS();
			top = SubTransGetTopmostTransaction(xid);
			if (top != xid && bsearch(&top, running, snapshot->xcnt,
									  sizeof(TransactionId), xidComparator) != NULL)
				xids = lappend(xids, DatumGetPointer(recent_xid8(xid)));
			TransactionIdAdvance(xid);
		}
	}
	elems = palloc(sizeof(Datum) * Max(list_length(xids), 1));
	i = 0;
	foreach(lc, xids)
		elems[i++] = PointerGetDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, list_length(xids), XID8OID,
										   sizeof(FullTransactionId), FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
}

static Datum
rows_estimated(Relation rel)
{
	BlockNumber pages;
	double		tuples;
	double		allvisfrac;

	estimate_rel_size(rel, NULL, &pages, &tuples, &allvisfrac);
	return Int64GetDatum((int64) tuples);
}

/*
 * Step 1, in one transaction.  Returns the registration being enabled, or
 * 0 if the table is enabled already (another enable finished first).
 */
static int64
enabling_begin(Oid relid)
{
	Relation	rel;
	LedgerName	name;
	Datum		key_columns;
	Registration registration;
	JournalWriter *writer;
	int64		enablement_id;
	int64		previous;
	Snapshot	snapshot;
	StringInfoData detail;
	Oid			argtypes[8] = {INT8OID, OIDOID, INT8OID, XID8OID, XID8ARRAYOID, OIDOID,
	INT8OID, INT8OID};
	Datum		args[8];

	rel = relation_open(relid, ShareRowExclusiveLock);
	key_columns = enable_check_table(rel, &name);
	if (registry_active(relid, &registration))
	{
		relation_close(rel, NoLock);
		if (!registration.enabling)
			return 0;
		return registration.registration_id;
	}

	/*
	 * The lock is held: every transaction that inserted into the table has
	 * ended, and none can insert before this one commits.  What a snapshot
	 * taken now says is committed is all there is from before the triggers.
	 */
	snapshot = GetLatestSnapshot();
	args[3] = recent_xid8(snapshot->xmax);
	args[4] = running_xids(snapshot);
	args[5] = ObjectIdGetDatum(rel->rd_rel->relfilenode);
	args[6] = Int64GetDatum((int64) RelationGetNumberOfBlocks(rel));
	args[7] = rows_estimated(rel);
	relation_close(rel, NoLock);

	writer = journal_open();
	/* by statement: neither partitions nor partitioned tables get here */
	enablement_id = enable_begin(writer, relid, &name, key_columns, false, true,
								 &enable_mode_append_only, &previous);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!registry_active(relid, &registration))
		elog(ERROR, "registration of %s not found", name.display);
	args[0] = Int64GetDatum(registration.registration_id);
	args[1] = ObjectIdGetDatum(relid);
	args[2] = Int64GetDatum(enablement_id);
	enable_registry_execute("INSERT INTO medchain.enable_progress"
							" (registration_id, relid, enablement_id, horizon, running_xids,"
							" relfilenode, heap_blocks, blocks_done, probe_all, rows_estimated,"
							" baseline_rows, started_at, updated_at, worker_pid)"
							" VALUES ($1, $2, $3, $4, $5, $6, $7, 0, false, $8, 0,"
							" pg_catalog.now(), pg_catalog.now(), pg_catalog.pg_backend_pid())",
							8, argtypes, args, SPI_OK_INSERT);
	SPI_finish();

	initStringInfo(&detail);
	enable_event_detail(&detail, key_columns, previous, -1, &enable_mode_append_only);
	enable_record_event(writer, &name, enablement_id, &detail);
	journal_close(writer);
	return registration.registration_id;
}

/* ---------- step 2: the existing rows, a range of blocks at a time ---------- */

/*
 * Did the transaction that inserted this row insert it once the triggers
 * were there, so that they recorded it?  NULL-free answer for rows that
 * the transaction id decides; *unsure for those the journal must.
 */
static bool
inserted_after_triggers(HeapTupleHeader tuple, const EnableProgress *progress, bool *unsure)
{
	TransactionId xmin = HeapTupleHeaderGetRawXmin(tuple);

	*unsure = false;
	if (!TransactionIdIsNormal(xmin))
		return false;			/* bootstrap or frozen long ago */
	if (TransactionIdFollowsOrEquals(xmin, progress->horizon))
	{
		/* a frozen id may be one that wrapped around since */
		*unsure = HeapTupleHeaderXminFrozen(tuple);
		return true;
	}
	return bsearch(&xmin, progress->running, progress->nrunning, sizeof(TransactionId),
				   xidComparator) != NULL;
}

/*
 * Does the enablement have an entry for this row already: sealed, or with
 * batched, waiting in a batch too?
 */
static bool
journal_has_row(Relation journal, const AttrNumber *attnums, const LedgerRelation *ledger,
				int64 enablement_id, Datum *values, bool *isnull, bool batched)
{
	Enablement	e;
	HeapTuple	entry;

	memset(&e, 0, sizeof(e));
	e.enablement_id = enablement_id;
	e.format_version = MC_FORMAT_CURRENT;
	entry = enablement_row_entry(journal, attnums, &e, ledger->relation_name,
								 row_key_build(ledger->key_layout, values, isnull),
								 GetActiveSnapshot(), batched);
	return entry != NULL;
}

static void
count_batches(void *arg, EntryBatch *batch)
{
	(*(int64 *) arg)++;
}

/*
 * After a rewrite the baseline looks rows up through the journal's index
 * alone: the entries recorded before it must be sealed.
 */
static void
require_no_batches(Relation rel)
{
	int64		batches = 0;

	entry_batches_scan(GetActiveSnapshot(), ledger_relation_name(rel), count_batches, &batches);
	if (batches > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s was rewritten while it was being enabled, and entries of it wait in batches",
						ledger_relation_name(rel)),
				 errdetail("Its baseline starts over, looking each row up in the journal, which it does only for sealed entries."),
				 errhint("Run medchain.seal(), then call medchain.enable() with concurrently => true again.")));
}

/*
 * A table rewritten since: start over, and look up every row that its
 * inserting transaction puts before the triggers, in case the part done
 * before the rewrite recorded it.  Those entries must be sealed by now.
 */
static void
progress_restart(EnableProgress *progress, Relation rel)
{
	Oid			argtypes[3] = {INT8OID, OIDOID, INT8OID};
	Datum		args[3];

	require_no_batches(rel);

	args[0] = Int64GetDatum(progress->registration_id);
	args[1] = ObjectIdGetDatum(rel->rd_rel->relfilenode);
	args[2] = Int64GetDatum((int64) RelationGetNumberOfBlocks(rel));
	progress_execute("UPDATE medchain.enable_progress"
					 " SET relfilenode = $2, heap_blocks = $3, blocks_done = 0, probe_all = true"
					 " WHERE registration_id OPERATOR(pg_catalog.=) $1",
					 3, argtypes, args, SPI_OK_UPDATE);
	ereport(LOG,
			(errmsg("table %s was rewritten while it was being enabled",
					RelationGetRelationName(rel)),
			 errdetail("Its baseline starts over, and each row is looked up in the journal before it is recorded.")));
	progress->relfilenode = rel->rd_rel->relfilenode;
	progress->heap_blocks = RelationGetNumberOfBlocks(rel);
	progress->blocks_done = 0;
	progress->probe_all = true;
}

/*
 * Record the rows of one range of blocks that the triggers did not,
 * then the progress; one transaction.  Returns false once every block is
 * done.
 */
static bool
baseline_range(int64 registration_id, Oid relid)
{
	EnableProgress progress;
	Relation	rel;
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	LedgerRelation *ledger;
	TableScanDesc scan;
	TupleTableSlot *slot;
	ItemPointerData first;
	ItemPointerData last;
	int64		end;
	int64		count = 0;
	JournalWriter *writer;
	MemoryContext rowcxt;
	OwnerScope	owner_scope;
	int			settings_level;
	Oid			argtypes[3] = {INT8OID, INT8OID, INT8OID};
	Datum		args[3];

	if (!progress_read(registration_id, &progress))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the progress of enabling table %s is gone", get_rel_name(relid)),
				 errdetail("medchain.enable_progress has no row for registration %lld.",
						   (long long) registration_id),
				 errhint("Abandon the enable with medchain.disable() and enable the table again.")));
	rel = table_open(relid, ShareUpdateExclusiveLock);
	if (rel->rd_rel->relfilenode != progress.relfilenode)
		progress_restart(&progress, rel);
	if (progress.blocks_done >= progress.heap_blocks)
	{
		table_close(rel, NoLock);
		return false;
	}
	end = Min(progress.blocks_done + MC_BASELINE_RANGE_BLOCKS, progress.heap_blocks);
	ItemPointerSet(&first, (BlockNumber) progress.blocks_done, FirstOffsetNumber);
	ItemPointerSet(&last, (BlockNumber) (end - 1), MaxOffsetNumber);

	ledger = ledger_relation_get(rel);
	journal = table_open(medchain_journal_relid(), AccessShareLock);
	entry_columns_find(journal, attnums);
	writer = journal_open();
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "medchain baseline row",
								   ALLOCSET_DEFAULT_SIZES);
	scan = table_beginscan_tidrange(rel, GetActiveSnapshot(), &first, &last);
	slot = table_slot_create(rel, NULL);
	medchain_become_owner(relid, &owner_scope);
	settings_level = medchain_value_settings_fix();
	while (table_scan_getnextslot_tidrange(scan, ForwardScanDirection, slot))
	{
		HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, false, NULL);
		bool		unsure;
		bool		skip;

		CHECK_FOR_INTERRUPTS();
		skip = inserted_after_triggers(tuple->t_data, &progress, &unsure);
		/*
		 * Rows after the triggers are theirs even in a rewritten table (a
		 * rewrite keeps xmin); before them, the part done before the
		 * rewrite may have recorded the row, and that entry is sealed.
		 */
		if (unsure || (!skip && progress.probe_all))
		{
			MemoryContext old = MemoryContextSwitchTo(rowcxt);

			slot_getallattrs(slot);
			skip = journal_has_row(journal, attnums, ledger, progress.enablement_id,
								   slot->tts_values, slot->tts_isnull, unsure);
			MemoryContextSwitchTo(old);
		}
		if (!skip)
		{
			record_slot_entry(writer, ledger, MC_KIND_BASELINE, progress.enablement_id,
							  slot, rowcxt);
			count++;
		}
		MemoryContextReset(rowcxt);
	}
	if (settings_level >= 0)
		medchain_settings_restore(settings_level);
	medchain_leave_owner(&owner_scope);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	journal_close(writer);
	table_close(journal, AccessShareLock);
	table_close(rel, NoLock);

	args[0] = Int64GetDatum(registration_id);
	args[1] = Int64GetDatum(end);
	args[2] = Int64GetDatum(count);
	progress_execute("UPDATE medchain.enable_progress"
					 " SET blocks_done = $2, baseline_rows = baseline_rows OPERATOR(pg_catalog.+) $3,"
					 " updated_at = pg_catalog.now(), worker_pid = pg_catalog.pg_backend_pid(),"
					 " last_error = NULL"
					 " WHERE registration_id OPERATOR(pg_catalog.=) $1",
					 3, argtypes, args, SPI_OK_UPDATE);
	return end < progress.heap_blocks;
}

/* ---------- step 3: complete ---------- */

static void
enabling_finish(int64 registration_id, Oid relid)
{
	EnableProgress progress;
	Relation	rel = relation_open(relid, ShareUpdateExclusiveLock);
	LedgerName	name;
	JournalWriter *writer;
	StringInfoData detail;
	Oid			idtype = INT8OID;
	Datum		id = Int64GetDatum(registration_id);

	if (!progress_read(registration_id, &progress))
		elog(ERROR, "progress of registration %lld not found", (long long) registration_id);
	ledger_name_of(rel, &name);
	relation_close(rel, NoLock);

	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"action\": \"baseline_complete\", \"baseline_rows\": "
					 INT64_FORMAT "}", progress.baseline_rows);
	writer = journal_open();
	enable_record_event(writer, &name, progress.enablement_id, &detail);
	journal_close(writer);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	enable_registry_execute("UPDATE medchain.ledger_registry SET state = 'enabled'"
							" WHERE registration_id OPERATOR(pg_catalog.=) $1",
							1, &idtype, &id, SPI_OK_UPDATE);
	enable_registry_execute("DELETE FROM medchain.enable_progress"
							" WHERE registration_id OPERATOR(pg_catalog.=) $1",
							1, &idtype, &id, SPI_OK_DELETE);
	SPI_finish();
}

/* ---------- the worker ---------- */

static void
worker_transaction_start(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
worker_transaction_commit(void)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* Leave the error where the caller and medchain.ledger_tables see it. */
static void
worker_failure_record(Oid relid, const char *message)
{
	Registration registration;
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		args[2];

	worker_transaction_start();
	if (registry_active(relid, &registration) && registration.enabling)
	{
		args[0] = Int64GetDatum(registration.registration_id);
		args[1] = CStringGetTextDatum(message);
		progress_execute("UPDATE medchain.enable_progress SET last_error = $2, worker_pid = NULL"
						 " WHERE registration_id OPERATOR(pg_catalog.=) $1",
						 2, argtypes, args, SPI_OK_UPDATE);
	}
	worker_transaction_commit();
}

static void
worker_run(Oid relid)
{
	LockRelId	lockrelid;
	int64		registration_id;
	Relation	rel;
	char	   *relname;

	worker_transaction_start();
	rel = relation_open(relid, AccessShareLock);
	lockrelid = rel->rd_lockInfo.lockRelId;
	relname = MemoryContextStrdup(TopMemoryContext, RelationGetRelationName(rel));
	relation_close(rel, AccessShareLock);
	worker_transaction_commit();

	/* Keeps rewrites and DDL away from the table until the baseline is in. */
	LockRelationIdForSession(&lockrelid, ShareUpdateExclusiveLock);

	worker_transaction_start();
	pgstat_report_activity(STATE_RUNNING, "medchain.enable: installing the triggers");
	registration_id = enabling_begin(relid);
	worker_transaction_commit();
	if (registration_id != 0)
	{
		bool		more = true;

		while (more)
		{
			CHECK_FOR_INTERRUPTS();
			worker_transaction_start();
			pgstat_report_activity(STATE_RUNNING, "medchain.enable: recording existing rows");
			more = baseline_range(registration_id, relid);
			worker_transaction_commit();
		}
		worker_transaction_start();
		enabling_finish(registration_id, relid);
		worker_transaction_commit();
	}
	UnlockRelationIdForSession(&lockrelid, ShareUpdateExclusiveLock);
	pgstat_report_activity(STATE_IDLE, NULL);
	ereport(DEBUG1, (errmsg("table \"%s\" is enabled", relname)));
}

void
medchain_enable_worker_main(Datum main_arg)
{
	EnableWorkerArgs args;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.database, args.session_user, 0);
	SetUserIdAndSecContext(args.current_user, 0);
	pgstat_report_appname("medchain enable");

	PG_TRY();
	{
		worker_run(args.relid);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		worker_failure_record(args.relid, edata->message);
		proc_exit(1);
	}
	PG_END_TRY();
	proc_exit(0);
}

/* ---------- the caller ---------- */

static BackgroundWorkerHandle *
worker_start(Oid relid, const LedgerName *name)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	EnableWorkerArgs args;
	pid_t		pid;

	memset(&worker, 0, sizeof(worker));
	memset(&args, 0, sizeof(args));
	args.database = MyDatabaseId;
	args.session_user = GetSessionUserId();
	args.current_user = GetUserId();
	args.relid = relid;
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "medchain");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "medchain_enable_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "medchain enable %s", name->display);
	snprintf(worker.bgw_type, BGW_MAXLEN, "medchain enable");
	memcpy(worker.bgw_extra, &args, sizeof(args));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a worker to enable table %s", name->display),
				 errdetail("Every background worker slot is in use."),
				 errhint("Raise max_worker_processes, or try again later.")));
	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("the worker to enable table %s did not start", name->display),
				 errdetail("The server may be shutting down."),
				 errhint("Try again once the server is running.")));
	return handle;
}

/* Wait for the worker; a cancel or an error here stops it too. */
static void
worker_wait(BackgroundWorkerHandle *handle)
{
	PG_TRY();
	{
		if (WaitForBackgroundWorkerShutdown(handle) == BGWH_POSTMASTER_DIED)
			ereport(FATAL,
					(errcode(ERRCODE_ADMIN_SHUTDOWN),
					 errmsg("the server stopped while a table was being enabled")));
	}
	PG_CATCH();
	{
		TerminateBackgroundWorker(handle);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/* The baseline count of a completed concurrent enablement. */
static int64
completed_baseline_rows(const LedgerName *name, int64 enablement_id)
{
	Relation	journal = table_open(medchain_journal_relid(), AccessShareLock);
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	LedgerHistory *history;
	Enablement *e;

	entry_columns_find(journal, attnums);
	history = ledger_history_load(journal, attnums, name->display, snapshot);
	e = ledger_history_find(history, enablement_id);
	UnregisterSnapshot(snapshot);
	table_close(journal, AccessShareLock);
	return e != NULL ? e->baseline_rows : 0;
}

int64
enable_concurrently(Oid relid)
{
	Relation	rel;
	LedgerName	name;
	Registration registration;
	EnableProgress progress;

	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("medchain.enable() with concurrently => true cannot run inside a transaction block"),
				 errdetail("It commits its work in steps, each in a transaction of its own, so that inserts into the table go on meanwhile."),
				 errhint("Run it on its own, outside BEGIN ... COMMIT.")));

	/* checked here for a clear error; the worker checks again under its lock */
	rel = relation_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot enable partitioned table %s concurrently",
						ledger_relation_name(rel)),
				 errdetail("The rows from before the triggers are told apart by block ranges of one table, and a partitioned table's rows lie in many."),
				 errhint("Enable it with concurrently => false, at a quiet time: inserts wait until it commits.")));
	(void) enable_check_table(rel, &name);
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot enable table %s concurrently: it does not use the heap access method",
						name.display),
				 errdetail("Telling the rows from before the triggers apart reads their heap tuple headers."),
				 errhint("Enable it with concurrently => false.")));
	/* the worker would wait for this transaction's own lock, forever */
	if (CheckRelationLockedByMe(rel, RowExclusiveLock, true))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot enable table %s concurrently in a statement that writes to it",
						name.display),
				 errdetail("The worker that installs the triggers waits for every transaction that has written to the table to end, this one included."),
				 errhint("Run medchain.enable() in a statement of its own.")));
	if (!registry_active(relid, &registration))
		notice_text_output_columns(rel);
	else
	{
		if (!registration.enabling)
			enable_refuse_registered(&registration, &name);
		if (progress_read(registration.registration_id, &progress))
			ereport(NOTICE,
					(errmsg("resuming the enable of table %s", name.display),
					 errdetail("%lld of its %lld blocks were recorded before.",
							   (long long) progress.blocks_done,
							   (long long) progress.heap_blocks)));
	}
	/* the lock stays: the table cannot be dropped while the worker runs */
	relation_close(rel, NoLock);

	worker_wait(worker_start(relid, &name));

	if (!registry_active(relid, &registration))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s was not enabled", name.display),
				 errdetail("The worker that was to enable it stopped before it installed the triggers."),
				 errhint("See the server log, then try again.")));
	if (registration.enabling)
	{
		char	   *why = progress_read(registration.registration_id, &progress) ?
			progress.last_error : NULL;

		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("enabling table %s did not complete", name.display),
				 why != NULL ? errdetail("%s", why) :
				 errdetail("The worker recording its existing rows stopped before it was done."),
				 errhint("The table stays in state enabling, its inserts recorded and its changes refused; call medchain.enable() with concurrently => true again to resume, or medchain.disable() to abandon it.")));
	}
	return completed_baseline_rows(&name, registration.enablement_id);
}
