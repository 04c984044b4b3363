/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The launcher: one worker and one scrubber per database that has the
 *	  extension, found without configuration.
 *
 * A background worker binds one database for life and cannot look into
 * another's catalogs, so the launcher cannot tell from outside which
 * databases have the extension.  It starts the processes of every
 * database that accepts connections (or of those medchain.worker_databases
 * names), and a process that finds no extension says so in its slot and
 * leaves; the launcher then leaves the database alone until CREATE
 * EXTENSION medchain commits there (worker_hooks.c wakes it), or a slow
 * re-check finds the extension made some other way.
 *
 * The processes are dynamic workers that are never restarted by the
 * postmaster: the launcher restarts them, after a pause that doubles with
 * each failure that comes soon after a start (1 s up to a minute), and
 * never while a backend holds their database.  After a crash the
 * postmaster restarts the launcher, and the launcher everything else.
 * It starts once recovery is finished, so a hot standby runs none of it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "node_key.h"
#include "worker.h"

/* How often the launcher looks for new and dropped databases. */
#define MC_RESCAN_MS 5000

/* How often a database without the extension is looked at again. */
#define MC_RECHECK_LEFT_MS 60000

/* A process that ran this long before it stopped did not fail at start. */
#define MC_HEALTHY_RUN_MS 60000

#define MC_MAX_RESTART_DELAY_MS 60000

static char *worker_databases_setting = NULL;

/* The launcher's handles on the processes it started, by slot and kind. */
static BackgroundWorkerHandle *handles[MC_MAX_DATABASES][MC_WORKER_KINDS];
static TimestampTz left_since[MC_MAX_DATABASES];
/* Slots of databases gone or no longer listed: stopped, freed once quiet. */
static bool unwanted[MC_MAX_DATABASES];

static const char *const kind_function[MC_WORKER_KINDS] = {
	"medchain_sealer_main", "medchain_scrubber_main", "medchain_replicator_main"
};
static const char *const kind_type[MC_WORKER_KINDS] = {
	"medchain worker", "medchain scrubber", "medchain replicator"
};

void
medchain_launcher_define(void)
{
	DefineCustomStringVariable("medchain.worker_databases",
							   "Databases in which medchain's background worker runs.",
							   "A comma-separated list of database names; empty means every database that has the extension.",
							   &worker_databases_setting,
							   "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   NULL, NULL, NULL);
}

/* Register the launcher; from _PG_init while the library is preloaded. */
void
medchain_launcher_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	strlcpy(worker.bgw_library_name, "medchain", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "medchain_launcher_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "medchain launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "medchain launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

typedef struct DatabaseSeen
{
	Oid			dboid;
	char	   *name;
} DatabaseSeen;

/*
 * The names medchain.worker_databases lists, parsed once per scan; NIL
 * when it is empty (every database).  A list that does not parse is
 * logged and names no database.
 */
static List *
listed_databases(bool *all)
{
	char	   *copy;
	List	   *names;

	*all = (worker_databases_setting == NULL || worker_databases_setting[0] == '\0');
	if (*all)
		return NIL;
	copy = pstrdup(worker_databases_setting);
	if (!SplitIdentifierString(copy, ',', &names))
	{
		ereport(LOG,
				(errmsg("medchain.worker_databases is not a list of database names: \"%s\"",
						worker_databases_setting)));
		return NIL;
	}
	return names;
}

static bool
name_listed(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(lfirst(lc), name) == 0)
			return true;
	return false;
}

/* The databases that accept connections and are not templates. */
static List *
databases_list(void)
{
	List	   *found = NIL;
	MemoryContext caller = CurrentMemoryContext;
	bool		all;
	List	   *listed = listed_databases(&all);
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);
		MemoryContext old;
		DatabaseSeen *seen;

		if (!db->datallowconn || db->datistemplate ||
			(!all && !name_listed(listed, NameStr(db->datname))))
			continue;
		old = MemoryContextSwitchTo(caller);
		seen = palloc(sizeof(DatabaseSeen));
		seen->dboid = db->oid;
		seen->name = pstrdup(NameStr(db->datname));
		found = lappend(found, seen);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return found;
}

static bool
database_listed(List *databases, Oid dboid)
{
	ListCell   *lc;

	foreach(lc, databases)
		if (((DatabaseSeen *) lfirst(lc))->dboid == dboid)
			return true;
	return false;
}

static void
slot_stop_processes(int slot)
{
	int			kind;

	for (kind = 0; kind < MC_WORKER_KINDS; kind++)
		if (handles[slot][kind] != NULL)
			TerminateBackgroundWorker(handles[slot][kind]);
}

/*
 * Slots follow pg_database: a database gone (or no longer wanted) frees
 * its slot once its processes stopped; a new one gets a free slot.
 */
static void
slots_follow(List *databases)
{
	ListCell   *lc;
	int			i;

	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	for (i = 0; i < MC_MAX_DATABASES; i++)
	{
		WorkerSlot *s = &medchain_workers->slots[i];

		unwanted[i] = OidIsValid(s->dboid) && !database_listed(databases, s->dboid);
		if (unwanted[i])
			slot_stop_processes(i);
	}
	foreach(lc, databases)
	{
		DatabaseSeen *db = lfirst(lc);
		int			free_slot = -1;

		for (i = 0; i < MC_MAX_DATABASES; i++)
		{
			if (medchain_workers->slots[i].dboid == db->dboid)
				break;
			if (free_slot < 0 && !OidIsValid(medchain_workers->slots[i].dboid))
				free_slot = i;
		}
		if (i < MC_MAX_DATABASES)
			continue;
		if (free_slot < 0)
		{
			ereport(LOG,
					(errmsg("medchain launcher cannot look after database \"%s\"", db->name),
					 errdetail("It looks after at most %d databases.", MC_MAX_DATABASES),
					 errhint("List the databases that have the extension in medchain.worker_databases.")));
			continue;
		}
		memset(&medchain_workers->slots[free_slot], 0, sizeof(WorkerSlot));
		medchain_workers->slots[free_slot].dboid = db->dboid;
		left_since[free_slot] = 0;
		unwanted[free_slot] = false;
	}
	LWLockRelease(medchain_workers->lock);
}

/* The pause before the next start, after a process stopped. */
static void
note_stopped(WorkerProcess *p, TimestampTz now)
{
	if (p->started_at != 0 &&
		TimestampDifferenceExceeds(p->started_at, now, MC_HEALTHY_RUN_MS))
	{
		p->failures = 0;
		p->restart_after = now;
		return;
	}
	p->failures = Min(p->failures + 1, 16);
	p->restart_after = TimestampTzPlusMilliseconds(now,
												   Min(MC_MAX_RESTART_DELAY_MS,
													   1000L << Min(p->failures - 1, 10)));
}

/* Does the launcher still hold a handle on a process of this slot? */
static bool
slot_has_handles(int slot)
{
	int			kind;

	for (kind = 0; kind < MC_WORKER_KINDS; kind++)
		if (handles[slot][kind] != NULL)
			return true;
	return false;
}

static bool
process_start(int slot, WorkerKind kind, Oid dboid)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "medchain", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, kind_function[kind], BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s for database %u", kind_type[kind], dboid);
	strlcpy(worker.bgw_type, kind_type[kind], BGW_MAXLEN);
	worker.bgw_main_arg = ObjectIdGetDatum(dboid);
	memcpy(worker.bgw_extra, &slot, sizeof(int));
	worker.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&worker, &handles[slot][kind]);
}

/*
 * Reap what stopped, start what should run; returns how long to wait at
 * most before something is due.
 */
static long
processes_tend(TimestampTz now)
{
	long		wait_ms = MC_RESCAN_MS;
	bool		out_of_slots = false;
	int			i;

	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	for (i = 0; i < MC_MAX_DATABASES; i++)
	{
		WorkerSlot *s = &medchain_workers->slots[i];
		int			kind;

		if (!OidIsValid(s->dboid))
			continue;
		/* a holder that is gone releases its hold */
		if (s->held_by != 0 && kill(s->held_by, 0) != 0 && errno == ESRCH)
			s->held_by = 0;
		if (s->left)
		{
			if (left_since[i] == 0)
				left_since[i] = now;
			else if (TimestampDifferenceExceeds(left_since[i], now, MC_RECHECK_LEFT_MS))
			{
				s->left = false;
				left_since[i] = 0;
			}
		}
		for (kind = 0; kind < MC_WORKER_KINDS; kind++)
		{
			WorkerProcess *p = &s->procs[kind];
			pid_t		pid;
			long		secs;
			int			usecs;

			if (handles[i][kind] != NULL &&
				GetBackgroundWorkerPid(handles[i][kind], &pid) == BGWH_STOPPED)
			{
				pfree(handles[i][kind]);
				handles[i][kind] = NULL;
				note_stopped(p, now);
			}
			if (handles[i][kind] != NULL || s->left || s->held_by != 0 || unwanted[i] ||
				out_of_slots)
				continue;
			if (p->restart_after > now)
			{
				TimestampDifference(now, p->restart_after, &secs, &usecs);
				wait_ms = Min(wait_ms, secs * 1000 + usecs / 1000 + 1);
				continue;
			}
			if (!process_start(i, (WorkerKind) kind, s->dboid))
			{
				out_of_slots = true;
				ereport(LOG,
						(errmsg("medchain launcher could not start a %s for database %u",
								kind_type[kind], s->dboid),
						 errdetail("No background worker slot is free."),
						 errhint("Raise max_worker_processes: medchain needs three per database besides its launcher.")));
				p->restart_after = TimestampTzPlusMilliseconds(now, MC_RESCAN_MS);
			}
			else
				p->started_at = now;
		}
		/* a database gone or no longer listed frees its slot once quiet */
		if (unwanted[i] && !slot_has_handles(i) && s->held_by == 0)
		{
			memset(s, 0, sizeof(WorkerSlot));
			unwanted[i] = false;
		}
	}
	LWLockRelease(medchain_workers->lock);
	return wait_ms;
}

static void
launcher_detach(int code, Datum arg)
{
	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	medchain_workers->launcher_pid = 0;
	medchain_workers->launcher_latch = NULL;
	LWLockRelease(medchain_workers->lock);
}

/*
 * The key belongs to the node, not to a database: the launcher makes it
 * on the first start, before any block needs it.  A key file that cannot
 * be used is logged here and refused again by each seal.
 */
static void
node_key_prepare(void)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		medchain_node_key_ensure();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
	}
	PG_END_TRY();
}

void
medchain_launcher_main(Datum arg)
{
	MemoryContext scancxt;
	TimestampTz last_scan = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	/* a SIGHUP before this handler was ignored: read the file once more */
	ConfigReloadPending = true;
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	medchain_workers->launcher_pid = MyProcPid;
	medchain_workers->launcher_started_at = GetCurrentTimestamp();
	medchain_workers->launcher_latch = MyLatch;
	LWLockRelease(medchain_workers->lock);
	on_shmem_exit(launcher_detach, (Datum) 0);
	node_key_prepare();

	scancxt = AllocSetContextCreate(TopMemoryContext, "medchain launcher scan",
									ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			last_scan = 0;
		}
		if (last_scan == 0 || TimestampDifferenceExceeds(last_scan, now, MC_RESCAN_MS))
		{
			MemoryContext old = MemoryContextSwitchTo(scancxt);

			slots_follow(databases_list());
			MemoryContextSwitchTo(old);
			MemoryContextReset(scancxt);
			last_scan = now;
		}
		wait_ms = processes_tend(now);
		pgstat_report_activity(STATE_IDLE, NULL);
		/* as in worker_run(): a reload's latch may have been reset by a wait */
		if (ConfigReloadPending)
			continue;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
