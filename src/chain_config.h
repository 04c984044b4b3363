/*-------------------------------------------------------------------------
 *
 * chain_config.h
 *	  Settings of the chain: medchain.difficulty and medchain.node_name.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_CHAIN_CONFIG_H
#define MEDCHAIN_CHAIN_CONFIG_H

#include "postgres.h"

extern void chain_config_define(void);

/* Leading zero bits required of the next block's hash. */
extern int	chain_difficulty(void);

extern int	chain_block_max_entries(void);

/* The name this node seals blocks under. */
extern char *chain_node_name(void);

#endif							/* MEDCHAIN_CHAIN_CONFIG_H */
