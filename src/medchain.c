/*-------------------------------------------------------------------------
 *
 * medchain.c
 *	  Module entry point of the medchain extension.
 *
 * The SQL API lives in the modules named after each concern: registry.c
 * (enable, disable), triggers.c (recording and refusing row changes),
 * ddl_guard.c (event triggers), rows.c (row encodings on demand), seal.c
 * (sealing blocks), verify.c (integrity checks), proof.c (digests,
 * inclusion proofs, the chain export), chain_keys.c (the node's identity
 * and the keys the chain knows).
 *
 * With shared_preload_libraries the library also brings the background
 * processes: launcher.c starts, for each database, the worker (worker.c)
 * that seals and the scrubber (scrub.c) that verifies.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "chain_config.h"
#include "consensus.h"
#include "node_key.h"
#include "pace.h"
#include "replicate.h"
#include "versioned.h"
#include "worker.h"
#include "worker_cycle.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	chain_config_define();
	node_key_define_settings();
	medchain_launcher_define();
	medchain_worker_define();
	medchain_pace_define();
	replication_define();
	consensus_define();
	versioned_define_settings();
	MarkGUCPrefixReserved("medchain");

	/* the background processes need shared memory, set up only at startup */
	if (process_shared_preload_libraries_in_progress)
	{
		medchain_workers_init();
		medchain_launcher_register();
		medchain_worker_hooks_install();
	}
}
