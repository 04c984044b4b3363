/*-------------------------------------------------------------------------
 *
 * worker_slots.c
 *	  The shared memory of medchain's background processes, and
 *	  medchain.worker_processes(), which shows it.
 *
 * One slot per database: the launcher assigns it, its processes attach to
 * it and record what they do, backends hold it.  A single LWLock guards
 * all slots; everything done under it is a few stores, never I/O.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "privileges.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(medchain_worker_processes);

WorkerShared *medchain_workers = NULL;
WorkerSlot *MyWorkerSlot = NULL;

const char *const medchain_worker_kind_names[MC_WORKER_KINDS] = {
	"worker", "scrubber", "replicator"
};
WorkerProcess *MyWorkerProcess = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
workers_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerShared)));
	RequestNamedLWLockTranche("medchain workers", 1);
}

static void
workers_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	medchain_workers = ShmemInitStruct("medchain workers", sizeof(WorkerShared), &found);
	if (!found)
	{
		memset(medchain_workers, 0, sizeof(WorkerShared));
		medchain_workers->lock = &(GetNamedLWLockTranche("medchain workers"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* From _PG_init, while shared_preload_libraries are loaded. */
void
medchain_workers_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = workers_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = workers_shmem_startup;
}

static void
worker_detach(int code, Datum arg)
{
	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	if (MyWorkerProcess->pid == MyProcPid)
		MyWorkerProcess->pid = 0;
	LWLockRelease(medchain_workers->lock);
}

bool
medchain_worker_attach(int slot, WorkerKind kind, Oid dboid)
{
	WorkerSlot *s;
	WorkerProcess *p;

	if (medchain_workers == NULL || slot < 0 || slot >= MC_MAX_DATABASES)
		return false;
	s = &medchain_workers->slots[slot];
	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	if (s->dboid != dboid || s->held_by != 0 || s->left || s->procs[kind].pid != 0)
	{
		LWLockRelease(medchain_workers->lock);
		return false;
	}
	p = &s->procs[kind];
	p->pid = MyProcPid;
	p->started_at = GetCurrentTimestamp();
	p->last_seal_at = 0;
	p->blocks_sealed = 0;
	p->entries_sealed = 0;
	p->latch = MyLatch;
	if (kind == WORKER_REPLICATOR)
		s->replicated = false;
	LWLockRelease(medchain_workers->lock);
	MyWorkerSlot = s;
	MyWorkerProcess = p;
	on_shmem_exit(worker_detach, (Datum) 0);
	return true;
}

static bool sealed_in_xact = false;
static bool wake_callback_registered = false;

static void
wake_replicator(void)
{
	int			i;

	LWLockAcquire(medchain_workers->lock, LW_SHARED);
	for (i = 0; i < MC_MAX_DATABASES; i++)
	{
		WorkerProcess *p = &medchain_workers->slots[i].procs[WORKER_REPLICATOR];

		if (medchain_workers->slots[i].dboid == MyDatabaseId && p->pid != 0 && p->latch != NULL)
			SetLatch(p->latch);
	}
	LWLockRelease(medchain_workers->lock);
}

static void
wake_at_commit(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && sealed_in_xact)
		wake_replicator();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE)
		sealed_in_xact = false;
}

void
medchain_replicator_wake_at_commit(void)
{
	if (medchain_workers == NULL)
		return;
	if (!wake_callback_registered)
	{
		RegisterXactCallback(wake_at_commit, NULL);
		wake_callback_registered = true;
	}
	sealed_in_xact = true;
}

void
medchain_replicator_note_round(void)
{
	if (MyWorkerSlot->replicated)
		return;
	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	MyWorkerSlot->replicated = true;
	LWLockRelease(medchain_workers->lock);
}

/*
 * The launcher starts the worker and the replicator together, and either
 * may attach first: a replicator not running yet is waited for, up to
 * MC_REPLICATOR_GRACE_MS after the worker's start, so that a replicator
 * that cannot start (no background worker slot) stops no seal for long.
 */
#define MC_REPLICATOR_GRACE_MS 60000

bool
medchain_sealer_may_seal(void)
{
	bool		replicated;
	bool		replicator_running;

	LWLockAcquire(medchain_workers->lock, LW_SHARED);
	replicated = MyWorkerSlot->replicated;
	replicator_running = MyWorkerSlot->procs[WORKER_REPLICATOR].pid != 0;
	LWLockRelease(medchain_workers->lock);
	if (replicated)
		return true;
	return !replicator_running &&
		TimestampDifferenceExceeds(MyWorkerProcess->started_at, GetCurrentTimestamp(),
								   MC_REPLICATOR_GRACE_MS);
}

void
medchain_worker_note_error(const char *message)
{
	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	MyWorkerProcess->last_error_at = GetCurrentTimestamp();
	strlcpy(MyWorkerProcess->last_error, message, MC_ERROR_LEN);
	LWLockRelease(medchain_workers->lock);
}

uint64
medchain_worker_created(void)
{
	uint64		created;

	LWLockAcquire(medchain_workers->lock, LW_SHARED);
	created = MyWorkerSlot->created;
	LWLockRelease(medchain_workers->lock);
	return created;
}

void
medchain_worker_leave(uint64 created)
{
	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	if (MyWorkerSlot->created == created)
		MyWorkerSlot->left = true;
	LWLockRelease(medchain_workers->lock);
}

/* A timestamp column: NULL when never. */
static void
put_time(Datum *values, bool *nulls, int i, TimestampTz t)
{
	values[i] = TimestampTzGetDatum(t);
	nulls[i] = (t == 0);
}

#define WORKER_PROCESS_COLUMNS 9

static void
put_process(Tuplestorestate *store, TupleDesc desc, Oid dboid, const char *kind,
			const WorkerProcess *p)
{
	Datum		values[WORKER_PROCESS_COLUMNS];
	bool		nulls[WORKER_PROCESS_COLUMNS];

	memset(nulls, 0, sizeof(nulls));
	values[0] = ObjectIdGetDatum(dboid);
	nulls[0] = !OidIsValid(dboid);
	values[1] = CStringGetTextDatum(kind);
	values[2] = Int32GetDatum(p->pid);
	nulls[2] = (p->pid == 0);
	put_time(values, nulls, 3, p->pid != 0 ? p->started_at : 0);
	put_time(values, nulls, 4, p->last_seal_at);
	values[5] = Int64GetDatum(p->blocks_sealed);
	values[6] = Int64GetDatum(p->entries_sealed);
	values[7] = CStringGetTextDatum(p->last_error);
	nulls[7] = (p->last_error[0] == '\0');
	put_time(values, nulls, 8, p->last_error_at);
	tuplestore_putvalues(store, desc, values, nulls);
}

/*
 * medchain.worker_processes()
 *	RETURNS TABLE (dboid oid, process text, pid int, started_at timestamptz,
 *				   last_seal_at timestamptz, blocks_sealed bigint,
 *				   entries_sealed bigint, last_error text,
 *				   last_error_at timestamptz)
 *
 * The launcher and each database's worker and scrubber, as shared memory
 * has them: nothing without shared_preload_libraries.  A copy is taken
 * under the lock, the rows are made after.
 */
Datum
medchain_worker_processes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	WorkerShared *copy;
	WorkerProcess launcher;
	int			i;
	int			kind;

	require_auditor("see medchain's background processes");
	InitMaterializedSRF(fcinfo, 0);
	if (medchain_workers == NULL)
		return (Datum) 0;
	copy = palloc(sizeof(WorkerShared));
	LWLockAcquire(medchain_workers->lock, LW_SHARED);
	memcpy(copy, medchain_workers, sizeof(WorkerShared));
	LWLockRelease(medchain_workers->lock);

	memset(&launcher, 0, sizeof(launcher));
	launcher.pid = copy->launcher_pid;
	launcher.started_at = copy->launcher_started_at;
	if (launcher.pid != 0)
		put_process(rsinfo->setResult, rsinfo->setDesc, InvalidOid, "launcher", &launcher);
	for (i = 0; i < MC_MAX_DATABASES; i++)
	{
		WorkerSlot *s = &copy->slots[i];

		if (!OidIsValid(s->dboid) || s->left)
			continue;
		for (kind = 0; kind < MC_WORKER_KINDS; kind++)
			put_process(rsinfo->setResult, rsinfo->setDesc, s->dboid,
						medchain_worker_kind_names[kind], &s->procs[kind]);
	}
	return (Datum) 0;
}
