/*-------------------------------------------------------------------------
 *
 * replicate.h
 *	  Sending this node's sealed blocks to its peers, and taking their
 *	  receipts (docs/DESIGN.md, "The network").
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_REPLICATE_H
#define MEDCHAIN_REPLICATE_H

#include "postgres.h"

#include "funcapi.h"

extern void replication_define(void);

/* medchain.replication_interval and medchain.peer_timeout, in ms. */
extern int	replication_interval(void);
extern int	peer_timeout(void);

/*
 * One round to every peer, in the caller's transaction and SPI
 * connection; a row per peer into rsinfo's tuplestore when it is not
 * NULL.  With keep_links, the connections are kept for the next round of
 * this process.  Returns how many peers took every block they were sent.
 */
extern int	replicate_round(ReturnSetInfo *rsinfo, bool keep_links);

/*
 * Take the lock that lets one replication round, or one recover_chain(),
 * run at a time on this node (on medchain.peer_state, as its owner).
 */
extern void replication_lock(void);

/*
 * Errors when sealing is halted: a peer holds this node's chain above its
 * newest block (medchain.sealing_halt).
 */
extern void sealing_halt_check(void);

#endif							/* MEDCHAIN_REPLICATE_H */
