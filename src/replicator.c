/*-------------------------------------------------------------------------
 *
 * replicator.c
 *	  A database's replicator: a replication round to the peers every
 *	  medchain.replication_interval.
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

#include "replicate.h"
#include "worker.h"
#include "worker_cycle.h"

static long
replicate_cycle(void)
{
	pgstat_report_activity(STATE_RUNNING, "replicating blocks to the peers");
	(void) replicate_round(NULL);
	return replication_interval();
}

void
medchain_replicator_main(Datum arg)
{
	worker_run(arg, WORKER_REPLICATOR, replicate_cycle);
}
