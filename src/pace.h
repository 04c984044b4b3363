/*-------------------------------------------------------------------------
 *
 * pace.h
 *	  A bound on how fast verification reads, for the scrubber.
 *
 * verify() calls medchain_pace() for each row and entry it checks.  In
 * an ordinary backend pacing is off and the call is one test of a flag;
 * the scrubber turns it on around its own calls of verify(), and then the
 * checks wait, on the process latch, as long as it takes to stay within
 * medchain.scrub_rate.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_PACE_H
#define MEDCHAIN_PACE_H

#include "postgres.h"

extern PGDLLIMPORT bool medchain_pace_active;

extern void medchain_pace_wait(int64 items);

/* `items` rows or entries were checked. */
static inline void
medchain_pace(int64 items)
{
	if (unlikely(medchain_pace_active))
		medchain_pace_wait(items);
}

extern void medchain_pace_define(void);

/* medchain.scrub_rate: items per second; 0 when scrubbing is off. */
extern int	medchain_scrub_rate(void);

/* Pace what follows at medchain.scrub_rate. */
extern void medchain_pace_begin(void);

/* Stop pacing; returns the items counted since medchain_pace_begin(). */
extern int64 medchain_pace_end(void);

#endif							/* MEDCHAIN_PACE_H */
