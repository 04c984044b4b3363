/*-------------------------------------------------------------------------
 *
 * worker_cycle.c
 *	  The loop of a database's worker and scrubber: attach, connect, and
 *	  run cycles that survive their errors.
 *
 * A process waits on its latch between cycles, so SIGHUP (which sets it)
 * reloads the settings at once, SIGTERM ends the process at the next
 * CHECK_FOR_INTERRUPTS(), and postmaster death ends it too.  A cycle that
 * fails is rolled back, logged and kept in the slot; the wait before the
 * next doubles with each failure in a row, from one second to a minute.
 * A process whose database no longer has the extension says so and
 * leaves, and the launcher does not start it again until CREATE
 * EXTENSION medchain.  A library newer than the extension's objects does
 * nothing but ask for ALTER EXTENSION medchain UPDATE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/resource.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "security_scope.h"
#include "worker_cycle.h"

#define MC_MAX_BACKOFF_MS 60000

/* Niceness (setpriority) of the worker and of the scrubber. */
#define MC_SEALER_NICE 5
#define MC_SCRUBBER_NICE 10

/* The version of this library, which the extension's objects must match. */
#ifndef MEDCHAIN_VERSION
#error "MEDCHAIN_VERSION is set by the Makefile from medchain.control"
#endif

/*
 * Whether the database has the extension, at the library's version; an
 * error if at another version.
 */
static bool
extension_ready(void)
{
	bool		isnull;
	char	   *version;

	if (!OidIsValid(get_extension_oid("medchain", true)))
		return false;
	medchain_spi_execute("SELECT extversion FROM pg_catalog.pg_extension"
						 " WHERE extname OPERATOR(pg_catalog.=) 'medchain'",
						 0, NULL, NULL, true, 0, SPI_OK_SELECT, 1);
	version = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												1, &isnull));
	if (strcmp(version, MEDCHAIN_VERSION) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("medchain's objects in database \"%s\" are at version %s, its library at %s",
						get_database_name(MyDatabaseId), version, MEDCHAIN_VERSION),
				 errdetail("The background worker works only with objects of its own version."),
				 errhint("Run ALTER EXTENSION medchain UPDATE in that database.")));
	return true;
}

/*
 * The extension is not there: leave, and let the launcher know not to
 * come back.  Called in the cycle's transaction, which it ends.
 */
static void
leave_database(uint64 created)
{
	ereport(DEBUG1,
			(errmsg("%s leaves database \"%s\", which does not have the extension",
					MyBgworkerEntry->bgw_type, get_database_name(MyDatabaseId))));
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	medchain_worker_leave(created);
	proc_exit(0);
}

static long
cycle_once(WorkerCycle cycle)
{
	long		wait_ms;

	/*
	 * A CREATE EXTENSION that commits after this read and is not seen by
	 * the check below keeps the process from being marked as left.
	 */
	uint64		created = medchain_worker_created();

	/* now() is the transaction's start, which a worker sets itself */
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!extension_ready())
		leave_database(created);
	wait_ms = RecoveryInProgress() ? MC_MAX_BACKOFF_MS : cycle();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return wait_ms;
}

/* One cycle; an error is logged and kept, and makes the next wait longer. */
static long
cycle_guarded(WorkerCycle cycle, MemoryContext cxt, int *failures)
{
	volatile long wait_ms = 0;

	PG_TRY();
	{
		wait_ms = cycle_once(cycle);
		*failures = 0;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		medchain_worker_note_error(edata->message);
		*failures = Min(*failures + 1, 16);
		wait_ms = Min(MC_MAX_BACKOFF_MS, 1000L << Min(*failures - 1, 10));
	}
	PG_END_TRY();
	return wait_ms;
}

/*
 * Inserts come first: on a server short of CPU the worker and the
 * scrubber take what the inserting backends leave.  The worker less so
 * than the scrubber, so that sealing keeps up with a busy ledger; a
 * process may always lower its own priority.
 */
static void
lower_priority(WorkerKind kind)
{
	int			niceness = (kind == WORKER_SCRUBBER) ? MC_SCRUBBER_NICE : MC_SEALER_NICE;

	if (setpriority(PRIO_PROCESS, 0, niceness) != 0)
		ereport(LOG,
				(errmsg("%s could not lower its CPU priority: %m", MyBgworkerEntry->bgw_type)));
}

void
worker_run(Datum main_arg, WorkerKind kind, WorkerCycle cycle)
{
	Oid			dboid = DatumGetObjectId(main_arg);
	int			slot;
	int			failures = 0;
	MemoryContext cyclecxt;

	memcpy(&slot, MyBgworkerEntry->bgw_extra, sizeof(int));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	/*
	 * A SIGHUP that came between the fork and this handler was ignored, and
	 * the settings inherited from the postmaster may predate it: read the
	 * configuration file once more before the first cycle.
	 */
	ConfigReloadPending = true;
	BackgroundWorkerUnblockSignals();
	/* a database being dropped, or left, is not entered */
	if (!medchain_worker_attach(slot, kind, dboid))
		proc_exit(0);
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname(MyBgworkerEntry->bgw_type);

	lower_priority(kind);
	cyclecxt = AllocSetContextCreate(TopMemoryContext, "medchain worker cycle",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		long		wait_ms;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		old = MemoryContextSwitchTo(cyclecxt);
		wait_ms = cycle_guarded(cycle, cyclecxt, &failures);
		MemoryContextSwitchTo(old);
		MemoryContextReset(cyclecxt);
		pgstat_report_activity(STATE_IDLE, NULL);
		/*
		 * A lock wait in the cycle may have reset the latch a SIGHUP set: the
		 * flag, not the latch, says whether a reload is still to be taken.
		 */
		if (wait_ms > 0 && !ConfigReloadPending)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 wait_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}
