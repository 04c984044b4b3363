/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  Shared state of medchain's background processes.
 *
 * With shared_preload_libraries = 'medchain' a launcher keeps, for each
 * database, a slot in shared memory: the database's processes (a worker
 * that seals, a scrubber that verifies, a replicator that sends blocks to
 * the peers and checks consensus with them), what they last did, and whether
 * they may run there.  Backends hold a slot while a statement needs the
 * database to themselves (DROP DATABASE, DROP EXTENSION ...), and wake
 * the launcher when CREATE EXTENSION commits.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_WORKER_H
#define MEDCHAIN_WORKER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

/* Databases the launcher looks after at once. */
#define MC_MAX_DATABASES 64

#define MC_ERROR_LEN 256

typedef enum WorkerKind
{
	WORKER_SEALER = 0,
	WORKER_SCRUBBER = 1,
	WORKER_REPLICATOR = 2
} WorkerKind;

#define MC_WORKER_KINDS 3

/* The process names worker_status shows, by kind. */
extern const char *const medchain_worker_kind_names[MC_WORKER_KINDS];

typedef struct WorkerProcess
{
	pid_t		pid;			/* 0 when not running */
	TimestampTz started_at;
	TimestampTz last_seal_at;	/* sealer: its last block, or 0 */
	int64		blocks_sealed;	/* since it started */
	int64		entries_sealed;
	TimestampTz last_error_at;	/* or 0 */
	char		last_error[MC_ERROR_LEN];
	int			failures;		/* consecutive: the restart backoff grows */
	TimestampTz restart_after;	/* launcher: not before this */
	Latch	   *latch;			/* the process's own, to wake it */
} WorkerProcess;

typedef struct WorkerSlot
{
	Oid			dboid;			/* InvalidOid: free */
	bool		left;			/* the extension is not there: do not start */
	uint64		created;		/* bumped by each committed CREATE EXTENSION */
	pid_t		held_by;		/* a backend needs the database alone */
	bool		replicated;		/* the replicator finished a round since it started */
	WorkerProcess procs[MC_WORKER_KINDS];
} WorkerSlot;

typedef struct WorkerShared
{
	LWLock	   *lock;			/* guards everything below */
	pid_t		launcher_pid;
	TimestampTz launcher_started_at;
	Latch	   *launcher_latch;
	WorkerSlot	slots[MC_MAX_DATABASES];
} WorkerShared;

/* NULL unless the library was preloaded. */
extern WorkerShared *medchain_workers;

extern void medchain_workers_init(void);

/* The slot of the calling worker, set by medchain_worker_attach(). */
extern WorkerSlot *MyWorkerSlot;
extern WorkerProcess *MyWorkerProcess;

/* In a background worker: take its place in its slot; false if gone. */
extern bool medchain_worker_attach(int slot, WorkerKind kind, Oid dboid);

/*
 * Blocks were sealed in this transaction: when it commits, wake the
 * database's replicator, so that they reach the peers at once rather than
 * at its next round.  Nothing without shared_preload_libraries.
 */
extern void medchain_replicator_wake_at_commit(void);

/*
 * The replicator finished its first round since it started; the worker,
 * whether it may seal yet (it may when no replicator runs, or once that
 * round is done: a node restored from an old backup learns it there).
 */
extern void medchain_replicator_note_round(void);
extern bool medchain_sealer_may_seal(void);

/* Record an error of this process (outside of any transaction). */
extern void medchain_worker_note_error(const char *message);

/*
 * The extension is not in this database: say so, so that the process is
 * not started again, unless a CREATE EXTENSION committed since `created`
 * (medchain_worker_created(), read before the check).
 */
extern uint64 medchain_worker_created(void);
extern void medchain_worker_leave(uint64 created);

/* Entry points of the background workers (bgw_function_name). */
extern PGDLLEXPORT void medchain_launcher_main(Datum arg);
extern PGDLLEXPORT void medchain_sealer_main(Datum arg);
extern PGDLLEXPORT void medchain_scrubber_main(Datum arg);
extern PGDLLEXPORT void medchain_replicator_main(Datum arg);

/* The launcher's setting, and its registration while preloaded. */
extern void medchain_launcher_define(void);
extern void medchain_launcher_register(void);

/* The ProcessUtility hook that keeps workers out of DROP DATABASE's way. */
extern void medchain_worker_hooks_install(void);

#endif							/* MEDCHAIN_WORKER_H */
