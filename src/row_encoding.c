/*-------------------------------------------------------------------------
 *
 * row_encoding.c
 *	  Canonical encoding of rows, values and row keys.
 *
 * Every value is written as tag (1 byte), length (4 bytes, big-endian) and
 * payload.  Payloads come from the value itself (integers, the IEEE bits of
 * floats and of geometric points, the microseconds of timestamps) or from
 * text that no setting can change (numeric_out, canonical JSON, enum
 * labels, stored text converted to UTF-8).  Output functions that do
 * depend on settings (date_out, float8_out, byteaout, ...) are never used
 * for the types FORMAT.md lists; any other type is written through its
 * output function under fixed settings.
 *
 * Format version 1 differs in three places, kept so that version 1
 * entries stay verifiable: jsonb as jsonb_out prints it, geometric types
 * and multiranges through their text output, and text output under
 * whatever settings are in force.
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
#include "catalog/namespace.h"
#include "utils/bytea.h"
#include "utils/cash.h"
#include "utils/float.h"
#include "utils/geo_decls.h"
#include "utils/guc.h"
#include "utils/multirangetypes.h"
#include "pgtime.h"
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

#include "canonical_json.h"
#include "row_encoding.h"
#include "security_scope.h"
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
static bool nested_encoders_stale = false;

static void encode_value(StringInfo buf, const TypeEncoder *encoder, Datum value,
						 int version);
static void encode_fields(StringInfo buf, const RowLayout *layout,
						  Datum *values, bool *isnull, int version);

/* ---------- type resolution ---------- */

ValueTag
type_encoder_tag(Oid typid)
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
		case POINTOID:
			return TAG_POINT;
		case LSEGOID:
			return TAG_LSEG;
		case BOXOID:
			return TAG_BOX;
		case LINEOID:
			return TAG_LINE;
		case CIRCLEOID:
			return TAG_CIRCLE;
		case PATHOID:
			return TAG_PATH;
		case POLYGONOID:
			return TAG_POLYGON;
	}

	if (type_is_enum(typid))
		return TAG_ENUM;
	if (type_is_rowtype(typid))
		return TAG_COMPOSITE;
	if (type_is_range(typid))
		return TAG_RANGE;
	if (type_is_multirange(typid))
		return TAG_MULTIRANGE;
	if (OidIsValid(get_element_type(typid)))
		return TAG_ARRAY;
	return TAG_TEXT_OUTPUT;
}

/* The tag of format version 1, which had no geometric or multirange tags. */
static ValueTag
v1_tag_of(ValueTag tag)
{
	switch (tag)
	{
		case TAG_POINT:
		case TAG_LSEG:
		case TAG_BOX:
		case TAG_LINE:
		case TAG_CIRCLE:
		case TAG_PATH:
		case TAG_POLYGON:
		case TAG_MULTIRANGE:
			return TAG_TEXT_OUTPUT;
		default:
			return tag;
	}
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
	encoder->tag = type_encoder_tag(base);
	encoder->v1_tag = v1_tag_of(encoder->tag);
	if (encoder->tag == TAG_ENUM || encoder->v1_tag == TAG_TEXT_OUTPUT)
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
	return type_encoder_tag(getBaseType(typid)) == TAG_TEXT_OUTPUT;
}

/*
 * Could a value of this type encode differently in version 1 than in
 * version 2 (beyond the version byte)?  If no column's can, a row's
 * version 1 encoding is its version 2 encoding with the version byte
 * changed.
 */
static bool
type_differs_in_v1(Oid typid)
{
	Oid			base = getBaseType(typid);
	ValueTag	tag = type_encoder_tag(base);

	check_stack_depth();
	switch (tag)
	{
		case TAG_JSONB:
		case TAG_TEXT_OUTPUT:
			return true;
		case TAG_ARRAY:
			return type_differs_in_v1(get_element_type(base));
		case TAG_RANGE:
			return type_differs_in_v1(get_range_subtype(base));
		case TAG_COMPOSITE:
			{
				TupleDesc	desc = lookup_rowtype_tupdesc(base, -1);
				bool		differs = false;
				int			i;

				for (i = 0; i < desc->natts && !differs; i++)
					if (!TupleDescAttr(desc, i)->attisdropped)
						differs = type_differs_in_v1(TupleDescAttr(desc, i)->atttypid);
				ReleaseTupleDesc(desc);
				return differs;
			}
		default:
			return v1_tag_of(tag) != tag;
	}
}

/*
 * A type's OID may be reused after a drop: forget nested encoders then.
 * An encoding in progress may hold some of them, so they are only marked
 * stale here and dropped when the next row starts.
 */
static void
nested_encoders_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	nested_encoders_stale = true;
}

static void
nested_encoders_forget_if_stale(void)
{
	if (!nested_encoders_stale)
		return;
	if (nested_encoders_cxt != NULL)
		MemoryContextDelete(nested_encoders_cxt);
	nested_encoders_cxt = NULL;
	nested_encoders = NULL;
	nested_encoders_stale = false;
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
	column->field_prefix_v1 = column->field_prefix;
	if (column->encoder.v1_tag != column->encoder.tag)
	{
		column->field_prefix_v1 = MemoryContextAlloc(cxt, column->field_prefix_len);
		memcpy(column->field_prefix_v1, column->field_prefix, column->field_prefix_len);
		column->field_prefix_v1[column->field_prefix_len - 1] = (char) column->encoder.v1_tag;
	}
}

/* For sorting a layout's columns into canonical JSON key order. */
static const RowLayout *json_order_layout;

static int
compare_columns_by_json_key(const void *a, const void *b)
{
	const EncodedColumn *ca = &json_order_layout->columns[*(const int *) a];
	const EncodedColumn *cb = &json_order_layout->columns[*(const int *) b];

	return canonical_json_key_cmp(ca->name_utf8, ca->name_utf8_len,
								  cb->name_utf8, cb->name_utf8_len);
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

	layout->json_order = MemoryContextAlloc(cxt, sizeof(int) * Max(layout->ncolumns, 1));
	for (i = 0; i < layout->ncolumns; i++)
		layout->json_order[i] = i;
	json_order_layout = layout;
	qsort(layout->json_order, layout->ncolumns, sizeof(int), compare_columns_by_json_key);
	json_order_layout = NULL;
	return layout;
}

bool
row_layout_differs_in_v1(const RowLayout *layout)
{
	int			i;

	for (i = 0; i < layout->ncolumns; i++)
		if (type_differs_in_v1(layout->columns[i].encoder.typid))
			return true;
	return false;
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
put_array(StringInfo buf, Datum value, int version)
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
			encode_value(buf, elem_encoder, elems[i], version);
	}
}

static void
put_composite(StringInfo buf, Datum value, int version)
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
	encode_fields(buf, layout, values, isnull, version);
}

/* Range flag bits (FORMAT.md, "Ranges"). */
#define RANGE_FLAG_EMPTY		0x01
#define RANGE_FLAG_LOWER_INC	0x02
#define RANGE_FLAG_UPPER_INC	0x04
#define RANGE_FLAG_LOWER_INF	0x08
#define RANGE_FLAG_UPPER_INF	0x10

static void
put_range(StringInfo buf, Oid rangetype, Datum value, int version)
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
		encode_value(buf, bound_encoder, lower.val, version);
	if (!upper.infinite)
		encode_value(buf, bound_encoder, upper.val, version);
}

/* u32 count, then each range as a value (tag 0x22), in the stored order. */
static void
put_multirange(StringInfo buf, Oid multirangetype, Datum value)
{
	MultirangeType *multirange = DatumGetMultirangeTypeP(value);
	TypeCacheEntry *typcache = lookup_type_cache(multirangetype,
												 TYPECACHE_MULTIRANGE_INFO);
	const TypeEncoder *range_encoder = nested_encoder(typcache->rngtype->type_id);
	RangeType **ranges;
	int32		count;
	int32		i;

	multirange_deserialize(typcache->rngtype, multirange, &count, &ranges);
	wire_put_u32(buf, (uint32) count);
	for (i = 0; i < count; i++)
		encode_value(buf, range_encoder, RangeTypePGetDatum(ranges[i]), MC_ROW_FORMAT_V2);
}

/* ---------- geometric values: their float8 fields as IEEE bits ---------- */

static char *
write_float(char *p, double d)
{
	return wire_write_u64(p, float_bits(d));
}

static char *
write_point(char *p, const Point *point)
{
	return write_float(write_float(p, point->x), point->y);
}

/* u32 count of points, then each point; a path starts with u8 closed. */
static void
put_points(StringInfo buf, const Point *points, int32 npts)
{
	char		bytes[16];
	int32		i;

	wire_put_u32(buf, (uint32) npts);
	for (i = 0; i < npts; i++)
	{
		write_point(bytes, &points[i]);
		appendBinaryStringInfo(buf, bytes, 16);
	}
}

/* ---------- text output under fixed settings ---------- */

static bool
value_settings_in_force(void)
{
	return DateStyle == USE_ISO_DATES && DateOrder == DATEORDER_YMD &&
		IntervalStyle == INTSTYLE_POSTGRES && extra_float_digits == 1 &&
		bytea_output == BYTEA_OUTPUT_HEX &&
		strcmp(pg_get_timezone_name(session_timezone), "UTC") == 0 &&
		strcmp(namespace_search_path, MC_PINNED_SEARCH_PATH) == 0;
}

int
medchain_value_settings_fix(void)
{
	int			nest_level;

	if (value_settings_in_force())
		return -1;
	nest_level = medchain_pin_search_path();
	medchain_set_local("DateStyle", "ISO, YMD");
	medchain_set_local("IntervalStyle", "postgres");
	medchain_set_local("TimeZone", "UTC");
	medchain_set_local("extra_float_digits", "1");
	medchain_set_local("bytea_output", "hex");
	return nest_level;
}

static void
put_text_output(StringInfo buf, const TypeEncoder *encoder, Datum value, int version)
{
	int			nest_level = version >= MC_ROW_FORMAT_V2 ? medchain_value_settings_fix() : -1;

	put_cstring(buf, OutputFunctionCall((FmgrInfo *) &encoder->output, value));
	if (nest_level >= 0)
		medchain_settings_restore(nest_level);
}

/* ---------- values ---------- */

/* The longest fixed-size payload (lseg, box). */
#define MAX_FIXED_PAYLOAD 32

static inline ValueTag
tag_in(const TypeEncoder *encoder, int version)
{
	return version >= MC_ROW_FORMAT_V2 ? encoder->tag : encoder->v1_tag;
}

/*
 * Write a fixed-size payload to out and return its length; -1 for a type
 * whose payload size depends on the value.
 */
static int
fixed_payload(const TypeEncoder *encoder, Datum value, int version,
			  char out[MAX_FIXED_PAYLOAD])
{
	switch (tag_in(encoder, version))
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
			write_float(out, encoder->typid == FLOAT4OID ?
						(double) DatumGetFloat4(value) : DatumGetFloat8(value));
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
		case TAG_POINT:
			write_point(out, DatumGetPointP(value));
			return 16;
		case TAG_LSEG:
			{
				LSEG	   *lseg = DatumGetLsegP(value);

				write_point(write_point(out, &lseg->p[0]), &lseg->p[1]);
				return 32;
			}
		case TAG_BOX:
			{
				BOX		   *box = DatumGetBoxP(value);

				write_point(write_point(out, &box->high), &box->low);
				return 32;
			}
		case TAG_LINE:
			{
				LINE	   *line = DatumGetLineP(value);

				write_float(write_float(write_float(out, line->A), line->B), line->C);
				return 24;
			}
		case TAG_CIRCLE:
			{
				CIRCLE	   *circle = DatumGetCircleP(value);

				write_float(write_point(out, &circle->center), circle->radius);
				return 24;
			}
		default:
			return -1;
	}
}

/* The payload of a value whose size depends on the value. */
static void
put_variable_payload(StringInfo buf, const TypeEncoder *encoder, Datum value, int version)
{
	switch (tag_in(encoder, version))
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
			if (version >= MC_ROW_FORMAT_V2)
				canonical_json_append(buf, DatumGetJsonbP(value));
			else
				put_cstring(buf, DatumGetCString(DirectFunctionCall1(jsonb_out, value)));
			break;
		case TAG_ENUM:
			put_cstring(buf, OutputFunctionCall((FmgrInfo *) &encoder->output, value));
			break;
		case TAG_TEXT_OUTPUT:
			put_text_output(buf, encoder, value, version);
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
		case TAG_PATH:
			{
				PATH	   *path = DatumGetPathP(value);

				appendStringInfoChar(buf, path->closed ? 1 : 0);
				put_points(buf, path->p, path->npts);
			}
			break;
		case TAG_POLYGON:
			{
				POLYGON    *polygon = DatumGetPolygonP(value);

				put_points(buf, polygon->p, polygon->npts);
			}
			break;
		case TAG_ARRAY:
			put_array(buf, value, version);
			break;
		case TAG_COMPOSITE:
			put_composite(buf, value, version);
			break;
		case TAG_RANGE:
			put_range(buf, encoder->typid, value, version);
			break;
		case TAG_MULTIRANGE:
			put_multirange(buf, encoder->typid, value);
			break;
		default:
			elog(ERROR, "value tag %d has a fixed size", (int) tag_in(encoder, version));
	}
}

/* The 4-byte length, patched in once the payload is written, and the payload. */
static void
put_variable_length_and_payload(StringInfo buf, const TypeEncoder *encoder, Datum value,
								int version)
{
	int			length_at = buf->len;
	uint32		length;

	wire_put_u32(buf, 0);
	put_variable_payload(buf, encoder, value, version);
	length = pg_hton32((uint32) (buf->len - length_at - 4));
	memcpy(buf->data + length_at, &length, 4);
}

/*
 * What comes before the value (the field prefix, or the tag of a nested
 * value: head_len bytes), then the 4-byte length and the payload.  Most
 * values have a fixed size: they are written straight into the buffer,
 * head and all, with one check of its room; the others are appended.
 */
static void
put_value(StringInfo buf, const char *head, int head_len, const TypeEncoder *encoder,
		  Datum value, int version)
{
	char	   *p;
	int			fixed_len;

	enlargeStringInfo(buf, head_len + 4 + MAX_FIXED_PAYLOAD);
	p = buf->data + buf->len;
	memcpy(p, head, head_len);
	fixed_len = fixed_payload(encoder, value, version, p + head_len + 4);
	if (fixed_len >= 0)
	{
		wire_write_u32(p + head_len, (uint32) fixed_len);
		buf->len += head_len + 4 + fixed_len;
		buf->data[buf->len] = '\0';
		return;
	}
	buf->len += head_len;
	buf->data[buf->len] = '\0';
	put_variable_length_and_payload(buf, encoder, value, version);
}

/* tag, 4-byte length, payload: a nested value (array element, field, bound) */
static void
encode_value(StringInfo buf, const TypeEncoder *encoder, Datum value, int version)
{
	char		tag = (char) tag_in(encoder, version);

	check_stack_depth();		/* arrays of composites of arrays ... */
	put_value(buf, &tag, 1, encoder, value, version);
}

/* count of non-null fields, then (name, value) pairs in layout order */
static void
encode_fields(StringInfo buf, const RowLayout *layout, Datum *values, bool *isnull,
			  int version)
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
		put_value(buf, version >= MC_ROW_FORMAT_V2 ?
				  column->field_prefix : column->field_prefix_v1,
				  column->field_prefix_len, &column->encoder, values[idx], version);
	}
}

/* The row_hash: SHA-256 of the row's encoding, built in buf. */
void
row_hash_compute(StringInfo buf, const RowLayout *layout, Datum *values, bool *isnull,
				 int version, uint8 out[MC_HASH_LEN])
{
	resetStringInfo(buf);
	row_encode(buf, layout, values, isnull, version);
	mc_sha256(buf->data, buf->len, out);
}

/*
 * The row encoding: 'R', format version, then the fields.  values/isnull
 * are indexed by attribute number - 1, as heap_deform_tuple fills them.
 * entry_version is the format version of the entry that records the row.
 */
void
row_encode(StringInfo buf, const RowLayout *layout, Datum *values, bool *isnull,
		   int entry_version)
{
	int			version = row_format_of_entry(entry_version);

	nested_encoders_forget_if_stale();
	appendStringInfoChar(buf, 'R');
	appendStringInfoChar(buf, (char) version);
	encode_fields(buf, layout, values, isnull, version);
}
