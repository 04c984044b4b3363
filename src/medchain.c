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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "utils/guc.h"

#include "chain_config.h"
#include "node_key.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	chain_config_define();
	node_key_define_settings();
	MarkGUCPrefixReserved("medchain");
}
