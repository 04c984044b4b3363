/*-------------------------------------------------------------------------
 *
 * row_key.c
 *	  Row keys: what names a ledger row in medchain.entries.
 *
 * A key value has one JSON form, fixed by FORMAT.md and independent of
 * every session setting: integers and finite numerics are JSON numbers,
 * booleans JSON booleans, and everything else a JSON string (text as
 * stored, char(n) with its padding; enum labels; uuids in lower-case hex;
 * NaN and the infinities of numeric; date/time values in ISO 8601, with
 * timestamptz always in UTC).  The same scalar feeds the jsonb that is
 * stored and the canonical text that verify() pairs rows with entries by.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/numeric.h"
#include "utils/uuid.h"

#include "canonical_json.h"
#include "row_key.h"

typedef enum KeyScalarKind
{
	KEY_BOOL,
	KEY_INTEGER,
	KEY_NUMERIC,
	KEY_STRING
} KeyScalarKind;

typedef struct KeyScalar
{
	KeyScalarKind kind;
	bool		boolean;
	int64		integer;
	Numeric		numeric;
	const char *string;			/* server encoding */
	int			len;
	char		datebuf[MAXDATELEN + 1];
} KeyScalar;

bool
type_supported_as_key(Oid typid)
{
	switch (type_encoder_tag(getBaseType(typid)))
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

static void
key_string(KeyScalar *out, const char *s)
{
	out->kind = KEY_STRING;
	out->string = s;
	out->len = strlen(s);
}

static void
key_scalar(const TypeEncoder *encoder, Datum value, KeyScalar *out)
{
	const int	utc = 0;

	switch (encoder->tag)
	{
		case TAG_BOOL:
			out->kind = KEY_BOOL;
			out->boolean = DatumGetBool(value);
			return;
		case TAG_INTEGER:
			out->kind = KEY_INTEGER;
			if (encoder->typid == INT2OID)
				out->integer = DatumGetInt16(value);
			else if (encoder->typid == INT4OID)
				out->integer = DatumGetInt32(value);
			else
				out->integer = DatumGetInt64(value);
			return;
		case TAG_NUMERIC:
			out->numeric = DatumGetNumeric(value);
			if (!numeric_is_nan(out->numeric) && !numeric_is_inf(out->numeric))
			{
				out->kind = KEY_NUMERIC;
				return;
			}
			key_string(out, DatumGetCString(DirectFunctionCall1(numeric_out, value)));
			return;
		case TAG_TEXT:
			if (encoder->typid == NAMEOID)
				key_string(out, NameStr(*DatumGetName(value)));
			else
			{
				text	   *t = DatumGetTextPP(value);

				out->kind = KEY_STRING;
				out->string = VARDATA_ANY(t);
				out->len = VARSIZE_ANY_EXHDR(t);
			}
			return;
		case TAG_ENUM:
			key_string(out, OutputFunctionCall((FmgrInfo *) &encoder->output, value));
			return;
		case TAG_UUID:
			key_string(out, DatumGetCString(DirectFunctionCall1(uuid_out, value)));
			return;
		case TAG_DATE:
		case TAG_TIME:
		case TAG_TIMETZ:
		case TAG_TIMESTAMP:
		case TAG_TIMESTAMPTZ:
			/* ISO 8601; timestamptz in UTC whatever the session's TimeZone */
			key_string(out, JsonEncodeDateTime(out->datebuf, value, encoder->typid, &utc));
			return;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a key column has type %s, which has no exact JSON form",
							format_type_be(encoder->typid)),
					 errdetail("Row keys are built from integers, numeric, boolean, text types, uuid, enums and date/time types."),
					 errhint("The table's key was changed behind medchain's back; run medchain.verify().")));
	}
}

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
		{
			KeyScalar	scalar;

			key_scalar(&column->encoder, values[idx], &scalar);
			switch (scalar.kind)
			{
				case KEY_BOOL:
					val.type = jbvBool;
					val.val.boolean = scalar.boolean;
					break;
				case KEY_INTEGER:
					val.type = jbvNumeric;
					val.val.numeric = int64_to_numeric(scalar.integer);
					break;
				case KEY_NUMERIC:
					val.type = jbvNumeric;
					val.val.numeric = scalar.numeric;
					break;
				case KEY_STRING:
					val.type = jbvString;
					val.val.string.val = pnstrdup(scalar.string, scalar.len);
					val.val.string.len = scalar.len;
					break;
			}
		}
		pushJsonbValue(&state, WJB_VALUE, &val);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}

void
row_key_text(StringInfo buf, const RowLayout *keylayout, Datum *values, bool *isnull)
{
	int			i;

	appendStringInfoChar(buf, '{');
	for (i = 0; i < keylayout->ncolumns; i++)
	{
		const EncodedColumn *column = &keylayout->columns[keylayout->json_order[i]];
		int			idx = column->attnum - 1;
		KeyScalar	scalar;
		char		digits[MAXINT8LEN + 1];

		if (i > 0)
			appendBinaryStringInfo(buf, ", ", 2);
		canonical_json_string(buf, column->name, strlen(column->name));
		appendBinaryStringInfo(buf, ": ", 2);
		if (isnull[idx])
		{
			appendBinaryStringInfo(buf, "null", 4);
			continue;
		}
		key_scalar(&column->encoder, values[idx], &scalar);
		switch (scalar.kind)
		{
			case KEY_BOOL:
				appendStringInfoString(buf, scalar.boolean ? "true" : "false");
				break;
			case KEY_INTEGER:
				appendBinaryStringInfo(buf, digits, pg_lltoa(scalar.integer, digits));
				break;
			case KEY_NUMERIC:
				appendStringInfoString(buf,
									   DatumGetCString(DirectFunctionCall1(numeric_out,
																		   NumericGetDatum(scalar.numeric))));
				break;
			case KEY_STRING:
				canonical_json_string(buf, scalar.string, scalar.len);
				break;
		}
	}
	appendStringInfoChar(buf, '}');
}
