/*-------------------------------------------------------------------------
 *
 * proof.h
 *	  Inclusion proofs of sealed entries (docs/FORMAT.md, "Inclusion
 *	  proof"), for the functions outside proof.c that hand them out.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_PROOF_H
#define MEDCHAIN_PROOF_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/rel.h"

/*
 * The proof of a sealed entry of the journal (its columns deformed into
 * values and isnull, found by attnums), up to the block at *anchor_height
 * (NULL: the head).  It shows what the entry's row_hash covers: the row's
 * encoding for a row entry (row), else an event's detail or a notarized
 * document's SHA-256, as the entry's kind has it.
 */
extern Jsonb *entry_proof_build(Relation journal, const AttrNumber *attnums, Datum *values,
								bool *isnull, StringInfo row, const int64 *anchor_height);

/* An anchor_height argument for that: NULL when it is NULL, else height. */
extern const int64 *anchor_height_argument(FunctionCallInfo fcinfo, int argno, int64 *height);

#endif							/* MEDCHAIN_PROOF_H */
