/*-------------------------------------------------------------------------
 *
 * worker_hooks.c
 *	  Keeping medchain's background processes out of the way of
 *	  statements that need a database to themselves, and waking the
 *	  launcher when the extension is created.
 *
 * DROP DATABASE, ALTER DATABASE ... RENAME or SET TABLESPACE and CREATE
 * DATABASE ... TEMPLATE refuse to run while another process is connected
 * to the database; DROP EXTENSION would wait for the locks of a seal or a
 * scrub in progress.  Before such a statement runs, the backend holds the
 * database's slot (the launcher starts nothing there while it is held),
 * stops the processes and waits for them to go; the hold ends with the
 * transaction.  When a DROP EXTENSION commits, the database is marked as
 * left; when a CREATE EXTENSION commits, the launcher is woken to start
 * the database's processes within moments.
 *
 * Only backends that loaded the library see these statements; with
 * shared_preload_libraries that is every backend, and without it there
 * are no background processes to keep out of the way.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/memutils.h"

#include "worker.h"

/* How long a statement waits for the processes to stop. */
#define MC_HOLD_WAIT_MS 10000

static ProcessUtility_hook_type prev_process_utility = NULL;

/* What this transaction holds or changed, for its end. */
static List *held_slots = NIL;	/* of int, in TopMemoryContext */
static bool extension_dropped = false;
static Oid	database_dropped = InvalidOid;
static bool extension_created = false;
static bool callback_registered = false;

static WorkerSlot *
slot_of(Oid dboid)
{
	int			i;

	for (i = 0; i < MC_MAX_DATABASES; i++)
		if (medchain_workers->slots[i].dboid == dboid)
			return &medchain_workers->slots[i];
	return NULL;
}

/* Are the slot's processes gone? */
static bool
slot_quiet(WorkerSlot *s)
{
	bool		quiet = true;
	int			kind;

	LWLockAcquire(medchain_workers->lock, LW_SHARED);
	for (kind = 0; kind < MC_WORKER_KINDS; kind++)
		quiet = quiet && s->procs[kind].pid == 0;
	LWLockRelease(medchain_workers->lock);
	return quiet;
}

/*
 * Hold the database's slot and stop its processes.  A database the
 * launcher has no slot for yet gets one, held, so that none starts.
 */
static void
hold_database(Oid dboid)
{
	WorkerSlot *s;
	pid_t		pids[MC_WORKER_KINDS];
	int			kind;
	int			waited = 0;
	MemoryContext old;

	if (!OidIsValid(dboid))
		return;
	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	s = slot_of(dboid);
	if (s == NULL && (s = slot_of(InvalidOid)) != NULL)
	{
		memset(s, 0, sizeof(WorkerSlot));
		s->dboid = dboid;
	}
	if (s == NULL || (s->held_by != 0 && s->held_by != MyProcPid))
	{
		LWLockRelease(medchain_workers->lock);
		return;
	}
	s->held_by = MyProcPid;
	for (kind = 0; kind < MC_WORKER_KINDS; kind++)
		pids[kind] = s->procs[kind].pid;
	LWLockRelease(medchain_workers->lock);

	old = MemoryContextSwitchTo(TopMemoryContext);
	held_slots = lappend_int(held_slots, (int) (s - medchain_workers->slots));
	MemoryContextSwitchTo(old);

	for (kind = 0; kind < MC_WORKER_KINDS; kind++)
		if (pids[kind] != 0)
			(void) kill(pids[kind], SIGTERM);
	while (!slot_quiet(s) && waited < MC_HOLD_WAIT_MS)
	{
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
		waited += 10;
	}
}

static void
slots_release(bool committed)
{
	ListCell   *lc;

	if (held_slots == NIL && !extension_created)
		return;
	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	foreach(lc, held_slots)
	{
		WorkerSlot *s = &medchain_workers->slots[lfirst_int(lc)];

		if (s->held_by != MyProcPid)
			continue;
		s->held_by = 0;
		/* nothing is to start in a database that is gone, or has no extension */
		if (committed && ((extension_dropped && s->dboid == MyDatabaseId) ||
						  s->dboid == database_dropped))
			s->left = true;
	}
	if (committed && extension_created)
	{
		WorkerSlot *s = slot_of(MyDatabaseId);

		if (s != NULL)
		{
			int			kind;

			s->left = false;
			s->created++;
			for (kind = 0; kind < MC_WORKER_KINDS; kind++)
			{
				s->procs[kind].failures = 0;
				s->procs[kind].restart_after = 0;
			}
		}
	}
	if (medchain_workers->launcher_latch != NULL)
		SetLatch(medchain_workers->launcher_latch);
	LWLockRelease(medchain_workers->lock);
	list_free(held_slots);
	held_slots = NIL;
}

static void
worker_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			slots_release(true);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			slots_release(false);
			break;
		default:
			return;
	}
	extension_dropped = false;
	extension_created = false;
	database_dropped = InvalidOid;
}

static bool
names_medchain(List *objects)
{
	ListCell   *lc;

	foreach(lc, objects)
		if (strcmp(strVal(lfirst(lc)), "medchain") == 0)
			return true;
	return false;
}

/* The option of that name in a CREATE or ALTER DATABASE, or NULL. */
static DefElem *
database_option(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
		if (strcmp(((DefElem *) lfirst(lc))->defname, name) == 0)
			return lfirst(lc);
	return NULL;
}

/* Which database, if any, the statement needs without medchain's processes. */
static void
statement_prepare(Node *stmt)
{
	DefElem    *option;

	switch (nodeTag(stmt))
	{
		case T_DropdbStmt:
			database_dropped = get_database_oid(((DropdbStmt *) stmt)->dbname, true);
			hold_database(database_dropped);
			break;
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
				hold_database(get_database_oid(((RenameStmt *) stmt)->subname, true));
			break;
		case T_AlterDatabaseStmt:
			if (database_option(((AlterDatabaseStmt *) stmt)->options, "tablespace") != NULL)
				hold_database(get_database_oid(((AlterDatabaseStmt *) stmt)->dbname, true));
			break;
		case T_CreatedbStmt:
			if ((option = database_option(((CreatedbStmt *) stmt)->options, "template")) != NULL &&
				option->arg != NULL)
				hold_database(get_database_oid(defGetString(option), true));
			break;
		case T_DropStmt:
			if (((DropStmt *) stmt)->removeType == OBJECT_EXTENSION &&
				names_medchain(((DropStmt *) stmt)->objects))
			{
				hold_database(MyDatabaseId);
				extension_dropped = true;
			}
			break;
		case T_CreateExtensionStmt:
			if (strcmp(((CreateExtensionStmt *) stmt)->extname, "medchain") == 0)
				extension_created = true;
			break;
		default:
			break;
	}
}

static void
worker_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					   ProcessUtilityContext context, ParamListInfo params,
					   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (medchain_workers != NULL)
		statement_prepare(pstmt->utilityStmt);
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv,
							 dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv,
								dest, qc);
}

void
medchain_worker_hooks_install(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = worker_process_utility;
	if (!callback_registered)
	{
		RegisterXactCallback(worker_xact_callback, NULL);
		callback_registered = true;
	}
}
