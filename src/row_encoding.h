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

/*
 * Format versions of the row encoding, written as its second byte.  An
 * entry of format version 1 or 2 hashes a row encoding of its own
 * version; version 3 changed entries only, and its entries hash rows in
 * version 2 (row_format_of_entry).
 */
#define MC_ROW_FORMAT_V1 1
#define MC_ROW_FORMAT_V2 2

#define row_format_of_entry(entry_version) \
	((entry_version) >= MC_ROW_FORMAT_V2 ? MC_ROW_FORMAT_V2 : MC_ROW_FORMAT_V1)

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
	/* version 2 and later; version 1 wrote these types as TAG_TEXT_OUTPUT */
	TAG_POINT = 0x13,
	TAG_LSEG = 0x14,
	TAG_BOX = 0x15,
	TAG_LINE = 0x16,
	TAG_CIRCLE = 0x17,
	TAG_PATH = 0x18,
	TAG_POLYGON = 0x19,
	TAG_ARRAY = 0x20,
	TAG_COMPOSITE = 0x21,
	TAG_RANGE = 0x22,
	TAG_MULTIRANGE = 0x23,		/* version 2 and later */
	TAG_TEXT_OUTPUT = 0x7F
} ValueTag;

/* How values of one type are encoded; domains are resolved to their base. */
typedef struct TypeEncoder
{
	Oid			typid;			/* base type */
	ValueTag	tag;			/* in format version 2 */
	ValueTag	v1_tag;			/* in format version 1 */
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
	char	   *field_prefix;	/* str name_utf8, then the version 2 tag */
	char	   *field_prefix_v1;	/* the same with the version 1 tag */
	int			field_prefix_len;
} EncodedColumn;

/* The columns of a row in canonical order (by UTF-8 name, bytewise). */
typedef struct RowLayout
{
	int			ncolumns;
	EncodedColumn *columns;
	int		   *json_order;		/* columns[] in canonical JSON key order */
} RowLayout;

extern ValueTag type_encoder_tag(Oid basetype);
extern void type_encoder_init(TypeEncoder *encoder, Oid typid, MemoryContext cxt);
extern RowLayout *row_layout_build(TupleDesc desc, MemoryContext cxt);
extern RowLayout *key_layout_build(TupleDesc desc, int nkeys,
								   const AttrNumber *keyattnums,
								   MemoryContext cxt);

/*
 * Could a row's version 1 encoding differ from its version 2 encoding in
 * more than the version byte?
 */
extern bool row_layout_differs_in_v1(const RowLayout *layout);

extern void row_encode(StringInfo buf, const RowLayout *layout,
					   Datum *values, bool *isnull, int version);
extern void row_hash_compute(StringInfo buf, const RowLayout *layout,
							 Datum *values, bool *isnull, int version,
							 uint8 out[MC_HASH_LEN]);
extern bool type_encoded_as_text_output(Oid typid);

/*
 * The settings under which version 2 writes a value through its type's
 * text output (FORMAT.md, tag 0x7F).  medchain_value_settings_fix()
 * returns a GUC nest level to pass to medchain_settings_restore(), or -1
 * when they are in force already; callers that encode many rows fix them
 * once around all of them.
 */
extern int	medchain_value_settings_fix(void);

#endif							/* MEDCHAIN_ROW_ENCODING_H */
