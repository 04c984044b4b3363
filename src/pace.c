/*-------------------------------------------------------------------------
 *
 * pace.c
 *	  Keeping verification within medchain.scrub_rate.
 *
 * The scrubber re-reads the whole ledger one pass after another, and must
 * not take more of the disks and CPU than the DBA allows it.  Counting
 * items is cheap; every 1/100th of a second's worth of them, the elapsed
 * time is compared with what the rate allows, and the difference is
 * slept on the latch, where SIGTERM and postmaster death still reach the
 * process.  A reload of the settings while pacing takes the new rate from
 * that moment on; a rate of 0 (scrubbing off) lets the step in progress
 * end at the rate it had, and the scrubber then stops.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "pace.h"

bool		medchain_pace_active = false;

static int	scrub_rate_setting = 10000;

static int	pace_rate;			/* items per second; 0: only counting */
static int64 items_total;		/* since medchain_pace_begin() */
static int64 items_since_mark;	/* since the rate was last (re)started */
static int64 items_unchecked;	/* since the clock was last read */
static TimestampTz mark;

void
medchain_pace_define(void)
{
	DefineCustomIntVariable("medchain.scrub_rate",
							"Rows and entries the scrubber checks per second at most.",
							"The scrubber re-verifies the ledger one pass after another at this rate; 0 turns it off.",
							&scrub_rate_setting,
							10000, 0, 1000000000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
}

int
medchain_scrub_rate(void)
{
	return scrub_rate_setting;
}

static void
pace_mark(int rate)
{
	pace_rate = rate;
	items_since_mark = 0;
	items_unchecked = 0;
	mark = GetCurrentTimestamp();
}

void
medchain_pace_begin(void)
{
	items_total = 0;
	pace_mark(scrub_rate_setting);
	medchain_pace_active = true;
}

int64
medchain_pace_end(void)
{
	medchain_pace_active = false;
	return items_total;
}

void
medchain_pace_wait(int64 items)
{
	int64		allowed_ms;
	long		elapsed_ms;
	long		secs;
	int			usecs;

	items_total += items;
	items_since_mark += items;
	items_unchecked += items;
	if (pace_rate == 0 || items_unchecked < Max(pace_rate / 100, 1))
		return;
	items_unchecked = 0;
	TimestampDifference(mark, GetCurrentTimestamp(), &secs, &usecs);
	elapsed_ms = secs * 1000 + usecs / 1000;
	allowed_ms = items_since_mark * 1000 / pace_rate;
	if (allowed_ms > elapsed_ms)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 (long) (allowed_ms - elapsed_ms), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
		/* turned off, the step in progress ends at the rate it had */
		pace_mark(scrub_rate_setting > 0 ? scrub_rate_setting : pace_rate);
	}
}
