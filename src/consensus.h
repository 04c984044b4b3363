/*-------------------------------------------------------------------------
 *
 * consensus.h
 *	  Consensus checks: does every node hold the same copy of each chain?
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_CONSENSUS_H
#define MEDCHAIN_CONSENSUS_H

#include "postgres.h"

#include "funcapi.h"

extern void consensus_define(void);

/* medchain.consensus_interval, in ms. */
extern int	consensus_interval(void);

/*
 * One check of every chain this node holds against every peer, kept in
 * medchain.consensus_results; a row per chain into rsinfo's tuplestore
 * when it is not NULL.  In the caller's transaction and SPI connection.
 */
extern void consensus_run(ReturnSetInfo *rsinfo);

#endif							/* MEDCHAIN_CONSENSUS_H */
