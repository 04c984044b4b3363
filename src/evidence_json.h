/*-------------------------------------------------------------------------
 *
 * evidence_json.h
 *	  Writing and reading the JSON of digests and proofs (docs/FORMAT.md,
 *	  "Digest" and "Inclusion proof").
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_EVIDENCE_JSON_H
#define MEDCHAIN_EVIDENCE_JSON_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "block.h"

/* ---------- writing ---------- */

extern void put_hex_value(StringInfo buf, const uint8 *bytes, int len);
extern void put_hex(StringInfo buf, const char *name, const uint8 *bytes, int len);
extern void put_string(StringInfo buf, const char *name, const char *value);
extern Jsonb *jsonb_from_text(StringInfo buf);

/* The header fields of a block, with its hash and node name, as an object. */
extern void put_block(StringInfo buf, const BlockRow *row);
extern void put_block_signature(StringInfo buf, const BlockRow *row);

/* ---------- reading ---------- */

/* Errors with SQLSTATE 22023: the value is not what medchain produces. */
extern void malformed(const char *what, const char *detail) pg_attribute_noreturn();

typedef struct JsonReader
{
	const char *what;			/* "digest" or "proof", for errors */
	JsonbContainer *object;
	const char *path;			/* where the object sits, for errors */
} JsonReader;

extern JsonbValue *member(const JsonReader *reader, const char *name, enum jbvType type);
extern JsonbValue *member_if_present(const JsonReader *reader, const char *name);
extern JsonReader object_member(const JsonReader *reader, const char *name);
extern char *string_member(const JsonReader *reader, const char *name);
extern int64 integer_member(const JsonReader *reader, const char *name, int64 min, int64 max);
extern uint64 u64_member(const JsonReader *reader, const char *name);
extern bool hex_to_bytes(const char *hex, int hexlen, uint8 *out, int *len);
extern void hash_from_hex(const JsonReader *reader, const char *name, const char *hex,
						  int hexlen, uint8 out[MC_HASH_LEN]);
extern void hash_member(const JsonReader *reader, const char *name, uint8 out[MC_HASH_LEN]);

/* A hex member of at most max bytes into out; returns its length. */
extern int	bytes_member(const JsonReader *reader, const char *name, uint8 *out, int max);

/* A block's header fields, block_hash and node_name, as put_block wrote them. */
extern void block_from_json(const JsonReader *reader, BlockRow *row);

/* Errors if the object has a member not in known[] (a NULL-terminated list). */
extern void only_known_members(const JsonReader *reader, const char *const *known);

#endif							/* MEDCHAIN_EVIDENCE_JSON_H */
