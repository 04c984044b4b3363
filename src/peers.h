/*-------------------------------------------------------------------------
 *
 * peers.h
 *	  The peers of this node, as medchain.add_peer() registered them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_PEERS_H
#define MEDCHAIN_PEERS_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "block.h"

typedef struct Peer
{
	char	   *name;
	uint8		node_id[MC_HASH_LEN];
	uint8		public_key[MC_SIGNER_KEY_LEN];
	char	   *conninfo;
} Peer;

/* The registered peers (List of Peer *), by name; in SPI. */
extern List *peers_load(void);

#endif							/* MEDCHAIN_PEERS_H */
