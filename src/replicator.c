/*-------------------------------------------------------------------------
 *
 * replicator.c
 *	  A database's replicator: a replication round to the peers every
 *	  medchain.replication_interval, a consensus check with them every
 *	  medchain.consensus_interval.
 *
 * A commit that sealed blocks wakes it (worker_slots.c), so that a block
 * reaches the peers moments after its seal, not at the next round; the
 * interval is for what a wake-up missed, and for peers that were down.
 *
 * It is a process of its own, beside the worker that seals, so that a
 * peer that is slow or silent delays no seal: a round waits at most
 * medchain.peer_timeout per peer and step (peer_link.c).  Like the
 * others it runs each cycle as a transaction of its own under PG_TRY
 * (worker_cycle.c), so that a failed round is logged and retried later
 * rather than ending the process.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pgstat.h"
#include "utils/timestamp.h"

#include "consensus.h"

#include "replicate.h"
#include "worker.h"
#include "worker_cycle.h"

/* When the last consensus check ended; the start, before the first. */
static TimestampTz last_check = 0;

/*
 * A cycle either replicates or checks consensus, each in a transaction
 * of its own, so that a failed check never undoes a round's receipts.
 * The interval counts from the end of a check: a check slowed by an
 * unreachable peer is followed by a replication round, never by another
 * check at once.
 */
static long
replicate_cycle(void)
{
	TimestampTz now = GetCurrentTimestamp();
	long		since_check;

	/* a round first: the worker waits for it before it seals */
	if (last_check == 0)
		last_check = now;
	else if (TimestampDifferenceExceeds(last_check, now, consensus_interval()))
	{
		pgstat_report_activity(STATE_RUNNING, "checking consensus with the peers");
		/* set first: a check that fails must not take the rounds' turn */
		last_check = now;
		consensus_run(NULL);
		last_check = GetCurrentTimestamp();
		return 0;
	}
	pgstat_report_activity(STATE_RUNNING, "replicating blocks to the peers");
	(void) replicate_round(NULL, true);
	medchain_replicator_note_round();
	/* rounds begin every interval, however long each took */
	since_check = TimestampDifferenceMilliseconds(last_check, GetCurrentTimestamp());
	return Max(0, Min(replication_interval() - TimestampDifferenceMilliseconds(now, GetCurrentTimestamp()),
					  consensus_interval() - since_check));
}

void
medchain_replicator_main(Datum arg)
{
	worker_run(arg, WORKER_REPLICATOR, replicate_cycle);
}
