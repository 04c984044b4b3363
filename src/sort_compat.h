/*-------------------------------------------------------------------------
 *
 * sort_compat.h
 *	  Reading a datum tuplesort the same way on PostgreSQL 14 to 17.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_SORT_COMPAT_H
#define MEDCHAIN_SORT_COMPAT_H

#include "postgres.h"

#include "utils/tuplesort.h"

/*
 * The next datum of a sorted datum tuplesort, false at the end.  A datum
 * passed by reference is a copy the caller may free (PostgreSQL 16 made
 * the copy optional; before, it was always made).
 */
static inline bool
sort_next_datum(Tuplesortstate *sort, Datum *datum)
{
	bool		isnull;

#if PG_VERSION_NUM >= 160000
	return tuplesort_getdatum(sort, true, true, datum, &isnull, NULL);
#else
	return tuplesort_getdatum(sort, true, datum, &isnull, NULL);
#endif
}

#endif							/* MEDCHAIN_SORT_COMPAT_H */
