/*-------------------------------------------------------------------------
 *
 * canonical_json.h
 *	  The canonical text of JSON values (docs/FORMAT.md, "Canonical JSON"):
 *	  the form that format version 2 hashes for jsonb values, row keys and
 *	  event details, defined without reference to jsonb_out and the same
 *	  whatever the database encoding.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_CANONICAL_JSON_H
#define MEDCHAIN_CANONICAL_JSON_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/* Append the canonical UTF-8 text of a jsonb value. */
extern void canonical_json_append(StringInfo buf, Jsonb *value);

/* Canonical text (UTF-8) back to jsonb; NULL if it is not JSON. */
extern Jsonb *canonical_json_parse(const char *utf8, int len);

/* Append text in the server encoding as a JSON string, in UTF-8. */
extern void canonical_json_string(StringInfo buf, const char *text, int len);

/* Compare two object keys (UTF-8) in canonical order. */
extern int	canonical_json_key_cmp(const char *a, int alen, const char *b, int blen);

#endif							/* MEDCHAIN_CANONICAL_JSON_H */
