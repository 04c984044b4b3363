/*-------------------------------------------------------------------------
 *
 * chain_config.c
 *	  The chain's settings.
 *
 * medchain.difficulty is PGC_SUSET: superusers set it, and the extension
 * script grants SET on it to medchain_admin.  Its default of 16 bits takes
 * about 65,000 attempts, a few milliseconds.
 *
 * medchain.node_name names the node in block headers (as a SHA-256 of the
 * name).  Left empty, it is "node-" followed by the cluster's system
 * identifier, which differs between clusters and survives restarts.
 *
 * medchain.block_max_entries bounds a block: a longer queue becomes
 * several blocks, so that a backlog after downtime never makes one block
 * whose Merkle proofs, export and seal transaction grow without end.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "utils/guc.h"

#include "block.h"
#include "chain_config.h"

static int	difficulty_setting = 16;
static char *node_name_setting = NULL;
static int	block_max_entries_setting = 100000;

void
chain_config_define(void)
{
	DefineCustomIntVariable("medchain.difficulty",
							"Leading zero bits required of a new block's hash.",
							"Proof-of-work of medchain.seal(); each bit doubles the expected work.",
							&difficulty_setting,
							16, 0, MC_MAX_DIFFICULTY,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomStringVariable("medchain.node_name",
							   "Name under which this node seals blocks.",
							   "Empty means \"node-\" followed by the cluster's system identifier.",
							   &node_name_setting,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("medchain.block_max_entries",
							"Most entries a new block holds.",
							"A longer queue of pending entries is sealed as several blocks.",
							&block_max_entries_setting,
							100000, 1, PG_INT32_MAX - 1,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}

int
chain_difficulty(void)
{
	return difficulty_setting;
}

int
chain_block_max_entries(void)
{
	return block_max_entries_setting;
}

char *
chain_node_name(void)
{
	if (node_name_setting == NULL || node_name_setting[0] == '\0')
		return psprintf("node-" UINT64_FORMAT, GetSystemIdentifier());
	return pstrdup(node_name_setting);
}
