/*-------------------------------------------------------------------------
 *
 * row_key.h
 *	  The row key: the key columns of a ledger row as a JSON object
 *	  (docs/FORMAT.md, "Row key").
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_ROW_KEY_H
#define MEDCHAIN_ROW_KEY_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "row_encoding.h"

/* Types whose values have an exact, settings-free JSON form. */
extern bool type_supported_as_key(Oid typid);

/* {"column": value, ...} of a row's key columns, as stored in row_key. */
extern Jsonb *row_key_build(const RowLayout *keylayout, Datum *values, bool *isnull);

/*
 * The canonical text of that object (canonical_json.c), written from the
 * values without building the jsonb: the same bytes as
 * canonical_json_append(row_key_build(...)).
 */
extern void row_key_text(StringInfo buf, const RowLayout *keylayout,
						 Datum *values, bool *isnull);

#endif							/* MEDCHAIN_ROW_KEY_H */
