/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  A database's medchain worker: it seals pending entries once the
 *	  oldest has waited medchain.seal_interval.
 *
 * Each cycle is a transaction of its own, under PG_TRY: an error (a
 * difficulty below the chain's, a key file that cannot be read, a journal
 * a superuser altered) is logged, kept in the slot for worker_status, and
 * the worker waits longer before the next cycle, up to a minute, rather
 * than dying and being restarted into the same error.  Sealing goes
 * through medchain_seal_pending(), as seal() does, and takes the same
 * lock on medchain.blocks, so the worker and a manual seal() queue one
 * behind the other and never fork the chain or seal an entry twice.
 * Inserts never wait for it: they touch neither that lock nor the rows it
 * writes.  A backlog is sealed a million entries per transaction, so that
 * a SIGTERM or a crash loses at most the transaction in progress.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "chain_config.h"
#include "seal.h"
#include "security_scope.h"
#include "worker.h"
#include "worker_cycle.h"

/* How often the worker looks again while the replicator's first round runs. */
#define MC_FIRST_ROUND_WAIT_MS 100

/* Entries sealed per transaction while working off a backlog. */
#define MC_SEAL_PER_TRANSACTION 1000000

static int	seal_interval_setting = 5000;

void
medchain_worker_define(void)
{
	DefineCustomIntVariable("medchain.seal_interval",
							"How long a pending entry waits before the worker seals it.",
							"The background worker seals when entries are pending and the oldest has waited this long.",
							&seal_interval_setting,
							5000, 10, 24 * 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/*
 * How long the oldest pending entry (queued or batched) has waited, in
 * ms, as medchain.chain_status tells it (the cycle's transaction has just
 * begun, so its now() is the cycle's); -1 when none is.
 */
static int64
oldest_pending_wait_ms(void)
{
	bool		isnull;
	Datum		age;

	medchain_spi_execute("SELECT (extract(epoch FROM oldest_pending_age) OPERATOR(pg_catalog.*) 1000)::bigint"
						 "  FROM medchain.chain_status",
						 0, NULL, NULL, true, 0, SPI_OK_SELECT, 1);
	age = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? -1 : Max(DatumGetInt64(age), 0);
}

static void
note_sealed(const SealOutcome *outcome)
{
	LWLockAcquire(medchain_workers->lock, LW_EXCLUSIVE);
	MyWorkerProcess->last_seal_at = GetCurrentTimestamp();
	MyWorkerProcess->blocks_sealed += outcome->blocks;
	MyWorkerProcess->entries_sealed += outcome->entries;
	LWLockRelease(medchain_workers->lock);
}

/*
 * One cycle, in a transaction the caller runs: seal if the oldest entry
 * has waited long enough.  Returns how long to wait before the next.
 */
static long
seal_cycle(void)
{
	int64		waited = oldest_pending_wait_ms();
	SealOutcome outcome;

	if (waited < 0)
		return seal_interval_setting;
	if (waited < seal_interval_setting)
		return (long) (seal_interval_setting - waited);
	/*
	 * After a start, the replicator's first round comes first: a node
	 * restored from an old backup learns there that its peers hold its
	 * chain above its own head, and must not seal before it knows.
	 */
	if (!medchain_sealer_may_seal())
		return MC_FIRST_ROUND_WAIT_MS;
	pgstat_report_activity(STATE_RUNNING, "sealing pending entries");
	medchain_seal_pending(MC_SEAL_PER_TRANSACTION, chain_block_max_entries(), &outcome);
	if (outcome.blocks > 0)
		note_sealed(&outcome);
	/* the rest of a backlog goes on at once, in the next transaction */
	return outcome.limited ? 0 : seal_interval_setting;
}

void
medchain_sealer_main(Datum arg)
{
	worker_run(arg, WORKER_SEALER, seal_cycle);
}
