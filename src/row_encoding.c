/*-------------------------------------------------------------------------
 *
 * row_encoding.c
 *	  Canonical encoding of rows, values and row keys.
 *
 * Every value is written as tag (1 byte), length (4 bytes, big-endian) and
 * payload.  Payloads come from the value itself (integers, the IEEE bits of
 * floats, the microseconds of timestamps) or from text that no setting can
 * change (numeric_out, jsonb_out, enum labels, stored text converted to
 * UTF-8).  Output functions that do depend on settings (date_out, float8_out,
 * byteaout, ...) are never used for the types listed in FORMAT.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <sys/socket.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/cash.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/inet.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rangetypes.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/uuid.h"

#include "row_encoding.h"
#include "wire.h"

/* Encoders for nested types (array elements, fields, range bounds). */
typedef struct NestedEncoderEntry
{
	Oid			typid;			/* hash key: the type as declared */
	TypeEncoder encoder;
} NestedEncoderEntry;

static HTAB *nested_encoders = NULL;
static MemoryContext nested_encoders_cxt = NULL;
static bool nested_encoders_callback_registered = false;

static void encode_value(StringInfo buf, const TypeEncoder *encoder, Datum value);
static void encode_fields(StringInfo buf, const RowLayout *layout,
						  Datum *values, bool *isnull);

/* ---------- type resolution ---------- */

static ValueTag
tag_for_base_type(Oid typid)
{
	switch (typid)
	{
		case BOOLOID:
			return TAG_BOOL;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return TAG_INTEGER;
		case NUMERICOID:
			return TAG_NUMERIC;
		case FLOAT4OID:
		case FLOAT8OID:
			return TAG_FLOAT;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
			return TAG_TEXT;
		case JSONOID:
			return TAG_JSON;
		case JSONBOID:
			return TAG_JSONB;
		case BYTEAOID:
			return TAG_BYTEA;
		case DATEOID:
			return TAG_DATE;
		case TIMEOID:
			return TAG_TIME;
		case TIMETZOID:
			return TAG_TIMETZ;
		case TIMESTAMPOID:
			return TAG_TIMESTAMP;
		case TIMESTAMPTZOID:
			return TAG_TIMESTAMPTZ;
		case INTERVALOID:
			return TAG_INTERVAL;
		case UUIDOID:
			return TAG_UUID;
		case INETOID:
		case CIDROID:
			return TAG_INET;
		case CASHOID:
			return TAG_MONEY;
	}

	if (type_is_enum(typid))
		return TAG_ENUM;
	if (type_is_rowtype(typid))
		return TAG_COMPOSITE;
	if (type_is_range(typid))
		return TAG_RANGE;
	if (OidIsValid(get_element_type(typid)))
		return TAG_ARRAY;
	return TAG_TEXT_OUTPUT;
}

/*
 * Fill in the encoder for a declared type.  The output function is looked
 * up only for the tags whose payload is text produced by it.
 */
void
type_encoder_init(TypeEncoder *encoder, Oid typid, MemoryContext cxt)
{
	Oid			base = getBaseType(typid);

	encoder->typid = base;
	encoder->tag = tag_for_base_type(base);
	if (encoder->tag == TAG_ENUM || encoder->tag == TAG_TEXT_OUTPUT)
	{
		Oid			outfunc;
		bool		isvarlena;

		getTypeOutputInfo(base, &outfunc, &isvarlena);
		fmgr_info_cxt(outfunc, &encoder->output, cxt);
	}
}

bool
type_encoded_as_text_output(Oid typid)
{
	return tag_for_base_type(getBaseType(typid)) == TAG_TEXT_OUTPUT;
}

/* Types whose values have an exact, settings-free JSON form for row_key. */
bool
type_supported_as_key(Oid typid)
{
	switch (tag_for_base_type(getBaseType(typid)))
	{
		case TAG_BOOL:
		case TAG_INTEGER:
		case TAG_NUMERIC:
		case TAG_TEXT:
		case TAG_ENUM:
		case TAG_UUID:
		case TAG_DATE:
		case TAG_TIME:
		case TAG_TIMETZ:
		case TAG_TIMESTAMP:
		case TAG_TIMESTAMPTZ:
			return true;
		default:
			return false;
	}
}

/* A type's OID may be reused after a drop: forget nested encoders then. */
static void
nested_encoders_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	if (nested_encoders_cxt != NULL)
		MemoryContextDelete(nested_encoders_cxt);
	nested_encoders_cxt = NULL;
	nested_encoders = NULL;
}

static const TypeEncoder *
nested_encoder(Oid typid)
{
	NestedEncoderEntry *entry;
	bool		found;

	if (nested_encoders == NULL)
	{
		HASHCTL		ctl;

		if (!nested_encoders_callback_registered)
		{
			CacheRegisterSyscacheCallback(TYPEOID, nested_encoders_invalidate,
										  (Datum) 0);
			nested_encoders_callback_registered = true;
		}
		nested_encoders_cxt = AllocSetContextCreate(CacheMemoryContext,
													"medchain nested encoders",
													ALLOCSET_SMALL_SIZES);
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(NestedEncoderEntry);
		ctl.hcxt = nested_encoders_cxt;
		nested_encoders = hash_create("medchain nested encoders", 32, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	entry = hash_search(nested_encoders, &typid, HASH_ENTER, &found);
	if (!found)
	{
		PG_TRY();
		{
			type_encoder_init(&entry->encoder, typid, nested_encoders_cxt);
		}
		PG_CATCH();
		{
			hash_search(nested_encoders, &typid, HASH_REMOVE, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return &entry->encoder;
}

/* ---------- layouts ---------- */

static int
compare_columns_by_utf8_name(const void *a, const void *b)
{
	const EncodedColumn *ca = (const EncodedColumn *) a;
	const EncodedColumn *cb = (const EncodedColumn *) b;
	int			minlen = Min(ca->name_utf8_len, cb->name_utf8_len);
	int			cmp = memcmp(ca->name_utf8, cb->name_utf8, minlen);

	if (cmp != 0)
		return cmp;
	return ca->name_utf8_len - cb->name_utf8_len;
}

static void
column_init(EncodedColumn *column, Form_pg_attribute attr, MemoryContext cxt)
{
	const char *name = NameStr(attr->attname);
	int			len = strlen(name);
	char	   *utf8 = pg_server_to_any(name, len, PG_UTF8);
	uint32		be_len;

	column->attnum = attr->attnum;
	column->name = MemoryContextStrdup(cxt, name);
	column->name_utf8_len = strlen(utf8);
	column->name_utf8 = MemoryContextStrdup(cxt, utf8);
	type_encoder_init(&column->encoder, attr->atttypid, cxt);

	/* what precedes every value of the column: str name, then the tag */
	column->field_prefix_len = 4 + column->name_utf8_len + 1;
	column->field_prefix = MemoryContextAlloc(cxt, column->field_prefix_len);
	be_len = pg_hton32((uint32) column->name_utf8_len);
	memcpy(column->field_prefix, &be_len, 4);
	memcpy(column->field_prefix + 4, column->name_utf8, column->name_utf8_len);
	column->field_prefix[column->field_prefix_len - 1] = (char) column->encoder.tag;
}

static RowLayout *
layout_from_attributes(TupleDesc desc, int natts, const AttrNumber *attnums,
					   MemoryContext cxt)
{
	RowLayout  *layout = MemoryContextAllocZero(cxt, sizeof(RowLayout));
	int			i;

	layout->columns = MemoryContextAllocZero(cxt,
											 sizeof(EncodedColumn) * Max(natts, 1));
	for (i = 0; i < natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, attnums[i] - 1);

		if (attr->attisdropped)
			continue;
		column_init(&layout->columns[layout->ncolumns++], attr, cxt);
	}
	qsort(layout->columns, layout->ncolumns, sizeof(EncodedColumn),
		  compare_columns_by_utf8_name);
	return layout;
}

/* All live columns of a row type, in canonical order. */
RowLayout *
row_layout_build(TupleDesc desc, MemoryContext cxt)
{
	AttrNumber *attnums = palloc(sizeof(AttrNumber) * Max(desc->natts, 1));
	RowLayout  *layout;
	int			i;

	for (i = 0; i < desc->natts; i++)
		attnums[i] = i + 1;
	layout = layout_from_attributes(desc, desc->natts, attnums, cxt);
	pfree(attnums);
	return layout;
}

/* The key columns of a relation (attribute numbers from its key index). */
RowLayout *
key_layout_build(TupleDesc desc, int nkeys, const AttrNumber *keyattnums,
				 MemoryContext cxt)
{
	return layout_from_attributes(desc, nkeys, keyattnums, cxt);
}

/* ---------- primitive payloads ---------- */

static void
put_varlena_text(StringInfo buf, Datum value)
{
	text	   *t = DatumGetTextPP(value);

	wire_put_utf8(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

static void
put_cstring(StringInfo buf, const char *s)
{
	wire_put_utf8(buf, s, strlen(s));
}

static uint64
float_bits(double d)
{
	uint64		bits;

	/* NaN has many bit patterns; FORMAT.md fixes one. */
	if (isnan(d))
		bits = UINT64CONST(0x7FF8000000000000);
	else
		memcpy(&bits, &d, sizeof(bits));
	return bits;
}

static void
put_inet(StringInfo buf, Oid typid, Datum value)
{
	inet	   *ip = DatumGetInetPP(value);

	appendStringInfoChar(buf, ip_family(ip) == PGSQL_AF_INET ? 4 : 6);
	appendStringInfoChar(buf, (char) ip_bits(ip));
	appendStringInfoChar(buf, typid == CIDROID ? 1 : 0);
	appendBinaryStringInfo(buf, (char *) ip_addr(ip), ip_addrsize(ip));
}

/* ---------- structured values ---------- */

static void
put_array(StringInfo buf, Datum value)
{
	ArrayType  *array = DatumGetArrayTypeP(value);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int			ndim = ARR_NDIM(array);
	const TypeEncoder *elem_encoder = nested_encoder(elemtype);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			i;

	wire_put_u32(buf, ndim);
	for (i = 0; i < ndim; i++)
	{
		wire_put_u32(buf, (uint32) ARR_DIMS(array)[i]);
		wire_put_u32(buf, (uint32) ARR_LBOUND(array)[i]);
	}

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, &nulls, &nelems);
	for (i = 0; i < nelems; i++)
	{
		if (nulls[i])
			appendStringInfoChar(buf, 0);	/* no tag is zero */
		else
			encode_value(buf, elem_encoder, elems[i]);
	}
}

static void
put_composite(StringInfo buf, Datum value)
{
	HeapTupleHeader td = DatumGetHeapTupleHeader(value);
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(td),
											  HeapTupleHeaderGetTypMod(td));
	HeapTupleData tuple;
	Datum	   *values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	bool	   *isnull = palloc(sizeof(bool) * Max(desc->natts, 1));
	RowLayout  *layout;

	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	heap_deform_tuple(&tuple, desc, values, isnull);

	layout = row_layout_build(desc, CurrentMemoryContext);
	ReleaseTupleDesc(desc);
	encode_fields(buf, layout, values, isnull);
}

/* Range flag bits (FORMAT.md, "Ranges"). */
#define RANGE_FLAG_EMPTY		0x01
#define RANGE_FLAG_LOWER_INC	0x02
#define RANGE_FLAG_UPPER_INC	0x04
#define RANGE_FLAG_LOWER_INF	0x08
#define RANGE_FLAG_UPPER_INF	0x10

static void
put_range(StringInfo buf, Oid rangetype, Datum value)
{
	RangeType  *range = DatumGetRangeTypeP(value);
	TypeCacheEntry *typcache = lookup_type_cache(rangetype,
												 TYPECACHE_RANGE_INFO);
	const TypeEncoder *bound_encoder;
	RangeBound	lower;
	RangeBound	upper;
	bool		empty;
	uint8		flags = 0;

	range_deserialize(typcache, range, &lower, &upper, &empty);
	if (empty)
	{
		appendStringInfoChar(buf, RANGE_FLAG_EMPTY);
		return;
	}
	flags |= lower.inclusive ? RANGE_FLAG_LOWER_INC : 0;
	flags |= upper.inclusive ? RANGE_FLAG_UPPER_INC : 0;
	flags |= lower.infinite ? RANGE_FLAG_LOWER_INF : 0;
	flags |= upper.infinite ? RANGE_FLAG_UPPER_INF : 0;
	appendStringInfoChar(buf, (char) flags);

	bound_encoder = nested_encoder(typcache->rngelemtype->type_id);
	if (!lower.infinite)
		encode_value(buf, bound_encoder, lower.val);
	if (!upper.infinite)
		encode_value(buf, bound_encoder, upper.val);
}

/* ---------- values ---------- */

/* The longest fixed-size payload (interval, uuid). */
#define MAX_FIXED_PAYLOAD 16

/*
 * Write a fixed-size payload to out and return its length; -1 for a type
 * whose payload size depends on the value.
 */
static int
fixed_payload(const TypeEncoder *encoder, Datum value, char out[MAX_FIXED_PAYLOAD])
{
	switch (encoder->tag)
	{
		case TAG_BOOL:
			out[0] = DatumGetBool(value) ? 1 : 0;
			return 1;
		case TAG_INTEGER:
			if (encoder->typid == INT2OID)
				wire_write_u64(out, (uint64) (int64) DatumGetInt16(value));
			else if (encoder->typid == INT4OID)
				wire_write_u64(out, (uint64) (int64) DatumGetInt32(value));
			else
				wire_write_u64(out, (uint64) DatumGetInt64(value));
			return 8;
		case TAG_FLOAT:
			wire_write_u64(out, float_bits(encoder->typid == FLOAT4OID ?
										   (double) DatumGetFloat4(value) :
										   DatumGetFloat8(value)));
			return 8;
		case TAG_DATE:
			wire_write_u32(out, (uint32) DatumGetDateADT(value));
			return 4;
		case TAG_TIME:
			wire_write_u64(out, (uint64) DatumGetTimeADT(value));
			return 8;
		case TAG_TIMETZ:
			{
				TimeTzADT  *t = DatumGetTimeTzADTP(value);

				wire_write_u32(wire_write_u64(out, (uint64) t->time), (uint32) t->zone);
				return 12;
			}
		case TAG_TIMESTAMP:
		case TAG_TIMESTAMPTZ:
			wire_write_u64(out, (uint64) DatumGetInt64(value));
			return 8;
		case TAG_INTERVAL:
			{
				Interval   *iv = DatumGetIntervalP(value);
				char	   *p = wire_write_u64(out, (uint64) iv->time);

				wire_write_u32(wire_write_u32(p, (uint32) iv->day), (uint32) iv->month);
				return 16;
			}
		case TAG_UUID:
			memcpy(out, DatumGetUUIDP(value)->data, UUID_LEN);
			return UUID_LEN;
		case TAG_MONEY:
			wire_write_u64(out, (uint64) DatumGetCash(value));
			return 8;
		default:
			return -1;
	}
}

/* The payload of a value whose size depends on the value. */
static void
put_variable_payload(StringInfo buf, const TypeEncoder *encoder, Datum value)
{
	switch (encoder->tag)
	{
		case TAG_NUMERIC:
			put_cstring(buf, DatumGetCString(DirectFunctionCall1(numeric_out, value)));
			break;
		case TAG_TEXT:
			if (encoder->typid == NAMEOID)
				put_cstring(buf, NameStr(*DatumGetName(value)));
			else
				put_varlena_text(buf, value);
			break;
		case TAG_JSON:
			put_varlena_text(buf, value);
			break;
		case TAG_JSONB:
			put_cstring(buf, DatumGetCString(DirectFunctionCall1(jsonb_out, value)));
			break;
		case TAG_ENUM:
		case TAG_TEXT_OUTPUT:
			put_cstring(buf, OutputFunctionCall((FmgrInfo *) &encoder->output, value));
			break;
		case TAG_BYTEA:
			{
				bytea	   *b = DatumGetByteaPP(value);

				appendBinaryStringInfo(buf, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
			}
			break;
		case TAG_INET:
			put_inet(buf, encoder->typid, value);
			break;
		case TAG_ARRAY:
			put_array(buf, value);
			break;
		case TAG_COMPOSITE:
			put_composite(buf, value);
			break;
		case TAG_RANGE:
			put_range(buf, encoder->typid, value);
			break;
		default:
			elog(ERROR, "value tag %d has a fixed size", (int) encoder->tag);
	}
}

/*
 * The 4-byte length and the payload.  A fixed-size value goes out in one
 * append; any other gets its length patched in once its payload is written.
 */
static void
put_length_and_payload(StringInfo buf, const TypeEncoder *encoder, Datum value)
{
	char		bytes[4 + MAX_FIXED_PAYLOAD];
	int			fixed_len = fixed_payload(encoder, value, bytes + 4);
	int			length_at;
	uint32		length;

	if (fixed_len >= 0)
	{
		wire_write_u32(bytes, (uint32) fixed_len);
		appendBinaryStringInfo(buf, bytes, 4 + fixed_len);
		return;
	}
	length_at = buf->len;
	wire_put_u32(buf, 0);
	put_variable_payload(buf, encoder, value);
	length = pg_hton32((uint32) (buf->len - length_at - 4));
	memcpy(buf->data + length_at, &length, 4);
}

/* tag, 4-byte length, payload: a nested value (array element, field, bound) */
static void
encode_value(StringInfo buf, const TypeEncoder *encoder, Datum value)
{
	check_stack_depth();		/* arrays of composites of arrays ... */

	appendStringInfoChar(buf, (char) encoder->tag);
	put_length_and_payload(buf, encoder, value);
}

/* count of non-null fields, then (name, value) pairs in layout order */
static void
encode_fields(StringInfo buf, const RowLayout *layout, Datum *values, bool *isnull)
{
	uint32		present = 0;
	int			i;

	for (i = 0; i < layout->ncolumns; i++)
		if (!isnull[layout->columns[i].attnum - 1])
			present++;
	wire_put_u32(buf, present);

	for (i = 0; i < layout->ncolumns; i++)
	{
		const EncodedColumn *column = &layout->columns[i];
		int			idx = column->attnum - 1;

		if (isnull[idx])
			continue;			/* NULL and absent are the same: see FORMAT.md */
		appendBinaryStringInfo(buf, column->field_prefix, column->field_prefix_len);
		put_length_and_payload(buf, &column->encoder, values[idx]);
	}
}

/* The row_hash: SHA-256 of the row's encoding, built in buf. */
void
row_hash_compute(StringInfo buf, const RowLayout *layout, Datum *values, bool *isnull,
				 uint8 out[MC_HASH_LEN])
{
	resetStringInfo(buf);
	row_encode(buf, layout, values, isnull);
	mc_sha256(buf->data, buf->len, out);
}

/*
 * The row encoding: 'R', format version, then the fields.  values/isnull
 * are indexed by attribute number - 1, as heap_deform_tuple fills them.
 */
void
row_encode(StringInfo buf, const RowLayout *layout, Datum *values, bool *isnull)
{
	appendStringInfoChar(buf, 'R');
	appendStringInfoChar(buf, MC_ROW_FORMAT_VERSION);
	encode_fields(buf, layout, values, isnull);
}

/* ---------- row key ---------- */

static void
key_value_to_jsonb(JsonbValue *jv, const TypeEncoder *encoder, Datum value)
{
	char		buf[MAXDATELEN + 1];
	const int	utc = 0;
	char	   *str;

	switch (encoder->tag)
	{
		case TAG_BOOL:
			jv->type = jbvBool;
			jv->val.boolean = DatumGetBool(value);
			return;
		case TAG_INTEGER:
			jv->type = jbvNumeric;
			if (encoder->typid == INT2OID)
				jv->val.numeric = int64_to_numeric(DatumGetInt16(value));
			else if (encoder->typid == INT4OID)
				jv->val.numeric = int64_to_numeric(DatumGetInt32(value));
			else
				jv->val.numeric = int64_to_numeric(DatumGetInt64(value));
			return;
		case TAG_NUMERIC:
			if (!numeric_is_nan(DatumGetNumeric(value)) &&
				!numeric_is_inf(DatumGetNumeric(value)))
			{
				jv->type = jbvNumeric;
				jv->val.numeric = DatumGetNumeric(value);
				return;
			}
			str = DatumGetCString(DirectFunctionCall1(numeric_out, value));
			break;
		case TAG_TEXT:
			if (encoder->typid == NAMEOID)
				str = pstrdup(NameStr(*DatumGetName(value)));
			else
				str = TextDatumGetCString(value);
			break;
		case TAG_ENUM:
			str = OutputFunctionCall((FmgrInfo *) &encoder->output, value);
			break;
		case TAG_UUID:
			str = DatumGetCString(DirectFunctionCall1(uuid_out, value));
			break;
		case TAG_DATE:
		case TAG_TIME:
		case TAG_TIMETZ:
		case TAG_TIMESTAMP:
		case TAG_TIMESTAMPTZ:
			/* ISO 8601; timestamptz in UTC whatever the session's TimeZone */
			str = pstrdup(JsonEncodeDateTime(buf, value, encoder->typid, &utc));
			break;
		default:
			elog(ERROR, "type %u cannot be part of a row key", encoder->typid);
			return;
	}
	jv->type = jbvString;
	jv->val.string.val = str;
	jv->val.string.len = strlen(str);
}

/* {"column": value, ...} for the key columns of a row */
Jsonb *
row_key_build(const RowLayout *keylayout, Datum *values, bool *isnull)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;
	int			i;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (i = 0; i < keylayout->ncolumns; i++)
	{
		const EncodedColumn *column = &keylayout->columns[i];
		int			idx = column->attnum - 1;
		JsonbValue	key;
		JsonbValue	val;

		key.type = jbvString;
		key.val.string.val = column->name;
		key.val.string.len = strlen(column->name);
		pushJsonbValue(&state, WJB_KEY, &key);

		if (isnull[idx])
			val.type = jbvNull;
		else
			key_value_to_jsonb(&val, &column->encoder, values[idx]);
		pushJsonbValue(&state, WJB_VALUE, &val);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}
