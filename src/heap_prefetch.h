/*-------------------------------------------------------------------------
 *
 * heap_prefetch.h
 *	  Prefetching the next tuples of a sequential heap scan.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_HEAP_PREFETCH_H
#define MEDCHAIN_HEAP_PREFETCH_H

#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"

/* How many tuples ahead of the current one are asked for. */
#define HEAP_PREFETCH_TUPLES 2

/*
 * One prefetch per 64 bytes, the cache line of x86-64 and of most ARM
 * cores (PG_CACHE_LINE_SIZE is an upper bound, for padding, not this).
 */
#define HEAP_PREFETCH_STRIDE 64

/*
 * verify() decodes and hashes every tuple it scans, and in a page-at-a-time
 * scan of an all-visible page nothing touches a tuple before it is
 * decoded: each tuple then starts with cache misses that the CPU waits
 * for (heap pages fill from the end, so successive tuples lie at falling
 * addresses, which hardware prefetchers do not follow).  Asking for the
 * next tuples of the page while the current one is worked on overlaps
 * those misses with the work.  Call after the scan returned a tuple.
 *
 * The scan holds a pin on its page and took the offsets of its visible
 * tuples under the content lock; while the pin is held their line
 * pointers cannot move (pruning needs a cleanup lock), which is what the
 * scan itself relies on when it returns them.
 */
static inline void
heap_scan_prefetch_next(TableScanDesc scan)
{
	HeapScanDesc hscan = (HeapScanDesc) scan;
	Page		page;
	int			i;

	if (scan->rs_rd->rd_tableam != GetHeapamTableAmRoutine() ||
		!(scan->rs_flags & SO_ALLOW_PAGEMODE) || !BufferIsValid(hscan->rs_cbuf))
		return;
	page = BufferGetPage(hscan->rs_cbuf);
	for (i = hscan->rs_cindex + 1;
		 i <= hscan->rs_cindex + HEAP_PREFETCH_TUPLES && i < hscan->rs_ntuples; i++)
	{
		ItemId		lp = PageGetItemId(page, hscan->rs_vistuples[i]);
		uintptr_t	start = (uintptr_t) page + ItemIdGetOffset(lp);
		uintptr_t	end = start + ItemIdGetLength(lp);
		uintptr_t	line;

		for (line = start & ~(uintptr_t) (HEAP_PREFETCH_STRIDE - 1); line < end;
			 line += HEAP_PREFETCH_STRIDE)
			__builtin_prefetch((const void *) line);
	}
}

#endif							/* MEDCHAIN_HEAP_PREFETCH_H */
