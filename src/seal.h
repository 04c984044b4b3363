/*-------------------------------------------------------------------------
 *
 * seal.h
 *	  Sealing pending entries into blocks, for seal() and the worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_SEAL_H
#define MEDCHAIN_SEAL_H

#include "postgres.h"

typedef struct SealOutcome
{
	int64		blocks;			/* sealed by the call */
	int64		entries;		/* in them, announcements included */
	int64		last_height;	/* of the last of them */
	bool		limited;		/* max_entries were sealed: more may wait */
} SealOutcome;

/*
 * Seal at most max_entries committed pending entries, lowest ids first,
 * into blocks of at most per_block entries each, in the current
 * transaction.  The caller has checked that this role and server may.
 */
extern void medchain_seal_pending(int64 max_entries, int64 per_block, SealOutcome *outcome);

#endif							/* MEDCHAIN_SEAL_H */
