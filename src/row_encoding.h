/*-------------------------------------------------------------------------
 *
 * row_encoding.h
 *	  The canonical byte encoding of a row and of its key (docs/FORMAT.md,
 *	  "Row encoding" and "Row key").
 *
 * The encoding depends only on column names and values: never on session
 * settings, physical column order, dropped columns, TOAST or compression.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_ROW_ENCODING_H
#define MEDCHAIN_ROW_ENCODING_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "sha256.h"

/* Format version of the row encoding, written as its second byte. */
#define MC_ROW_FORMAT_VERSION 1

/* Value tags (FORMAT.md, "Values"). */
typedef enum ValueTag
{
	TAG_BOOL = 0x01,
	TAG_INTEGER = 0x02,
	TAG_NUMERIC = 0x03,
	TAG_FLOAT = 0x04,
	TAG_TEXT = 0x05,
	TAG_JSON = 0x06,
	TAG_JSONB = 0x07,
	TAG_ENUM = 0x08,
	TAG_BYTEA = 0x09,
	TAG_DATE = 0x0A,
	TAG_TIME = 0x0B,
	TAG_TIMETZ = 0x0C,
	TAG_TIMESTAMP = 0x0D,
	TAG_TIMESTAMPTZ = 0x0E,
	TAG_INTERVAL = 0x0F,
	TAG_UUID = 0x10,
	TAG_INET = 0x11,
	TAG_MONEY = 0x12,
	TAG_ARRAY = 0x20,
	TAG_COMPOSITE = 0x21,
	TAG_RANGE = 0x22,
	TAG_TEXT_OUTPUT = 0x7F
} ValueTag;

/* How values of one type are encoded; domains are resolved to their base. */
typedef struct TypeEncoder
{
	Oid			typid;			/* base type */
	ValueTag	tag;
	FmgrInfo	output;			/* output function, for tags that use it */
} TypeEncoder;

/* One column of a row layout. */
typedef struct EncodedColumn
{
	AttrNumber	attnum;
	char	   *name;			/* server encoding, for the row key */
	char	   *name_utf8;		/* what is hashed */
	int			name_utf8_len;
	TypeEncoder encoder;
	char	   *field_prefix;	/* str name_utf8, then encoder.tag */
	int			field_prefix_len;
} EncodedColumn;

/* The columns of a row in canonical order (by UTF-8 name, bytewise). */
typedef struct RowLayout
{
	int			ncolumns;
	EncodedColumn *columns;
} RowLayout;

extern void type_encoder_init(TypeEncoder *encoder, Oid typid, MemoryContext cxt);
extern RowLayout *row_layout_build(TupleDesc desc, MemoryContext cxt);
extern RowLayout *key_layout_build(TupleDesc desc, int nkeys,
								   const AttrNumber *keyattnums,
								   MemoryContext cxt);

extern void row_encode(StringInfo buf, const RowLayout *layout,
					   Datum *values, bool *isnull);
extern void row_hash_compute(StringInfo buf, const RowLayout *layout,
							 Datum *values, bool *isnull, uint8 out[MC_HASH_LEN]);
extern Jsonb *row_key_build(const RowLayout *keylayout,
							Datum *values, bool *isnull);
extern bool type_supported_as_key(Oid typid);
extern bool type_encoded_as_text_output(Oid typid);

#endif							/* MEDCHAIN_ROW_ENCODING_H */
