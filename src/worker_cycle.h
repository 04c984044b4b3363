/*-------------------------------------------------------------------------
 *
 * worker_cycle.h
 *	  The loop every per-database process of medchain runs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_WORKER_CYCLE_H
#define MEDCHAIN_WORKER_CYCLE_H

#include "postgres.h"

#include "worker.h"

/*
 * One cycle of a process's work, run inside a transaction with SPI
 * connected and a snapshot pushed; returns how long to wait, in ms,
 * before the next one (0: at once).
 */
typedef long (*WorkerCycle) (void);

/* Attach to the slot, connect to the database and run cycles until told to stop. */
extern void worker_run(Datum main_arg, WorkerKind kind, WorkerCycle cycle);

extern void medchain_worker_define(void);

#endif							/* MEDCHAIN_WORKER_CYCLE_H */
