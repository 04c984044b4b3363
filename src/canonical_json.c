/*-------------------------------------------------------------------------
 *
 * canonical_json.c
 *	  Canonical JSON text, written straight from a jsonb value, and read
 *	  back into one (a batched entry's key).
 *
 * jsonb_out orders object keys by their length and bytes in the database
 * encoding, so in a LATIN1 database {"ß": 1, "ab": 2} prints in another
 * order than in a UTF-8 one, and its number and string forms are nowhere
 * specified but in its code.  The canonical text fixes all of it:
 *
 * - object members ordered by the UTF-8 byte length of their keys, then
 *   by those bytes (the order jsonb itself uses in a UTF-8 database), with
 *   ": " after a key and ", " between members or elements;
 * - strings in UTF-8 between double quotes, escaping only '"', '\', the
 *   control characters U+0000-U+001F (\b \f \n \r \t, else \u00xx in
 *   lower-case hex), everything else as is;
 * - numbers in plain decimal, no exponent: an optional '-', the integer
 *   digits (0 when the integer part is zero), and as many fractional
 *   digits as the value's scale (1e3 is 1000, 1.50 is 1.50, -0.0 is 0.0);
 * - true, false, null.
 *
 * In a UTF-8 database this is exactly what jsonb_out prints, so a format 1
 * hash and a format 2 hash of the same value differ only by version.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/jsonapi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "canonical_json.h"

typedef struct ObjectMember
{
	const char *key;			/* UTF-8 */
	int			keylen;
	JsonbValue	value;
} ObjectMember;

static void put_container(StringInfo buf, JsonbContainer *container);

int
canonical_json_key_cmp(const char *a, int alen, const char *b, int blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

static int
member_cmp(const void *x, const void *y)
{
	const ObjectMember *a = x;
	const ObjectMember *b = y;

	return canonical_json_key_cmp(a->key, a->keylen, b->key, b->keylen);
}

/* A JSON string of UTF-8 bytes. */
static void
put_utf8_string(StringInfo buf, const char *s, int len)
{
	static const char hex[] = "0123456789abcdef";
	int			i;

	appendStringInfoChar(buf, '"');
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		switch (c)
		{
			case '"':
				appendBinaryStringInfo(buf, "\\\"", 2);
				break;
			case '\\':
				appendBinaryStringInfo(buf, "\\\\", 2);
				break;
			case '\b':
				appendBinaryStringInfo(buf, "\\b", 2);
				break;
			case '\f':
				appendBinaryStringInfo(buf, "\\f", 2);
				break;
			case '\n':
				appendBinaryStringInfo(buf, "\\n", 2);
				break;
			case '\r':
				appendBinaryStringInfo(buf, "\\r", 2);
				break;
			case '\t':
				appendBinaryStringInfo(buf, "\\t", 2);
				break;
			default:
				if (c < 0x20)
				{
					char		esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

					appendBinaryStringInfo(buf, esc, 6);
				}
				else
					appendStringInfoCharMacro(buf, (char) c);
		}
	}
	appendStringInfoChar(buf, '"');
}

/* The text in UTF-8; *utf8len is its length. */
static const char *
to_utf8(const char *text, int len, int *utf8len)
{
	const char *utf8 = pg_server_to_any(text, len, PG_UTF8);

	*utf8len = (utf8 == text) ? len : (int) strlen(utf8);
	return utf8;
}

void
canonical_json_string(StringInfo buf, const char *text, int len)
{
	int			utf8len;
	const char *utf8 = to_utf8(text, len, &utf8len);

	put_utf8_string(buf, utf8, utf8len);
}

static void
put_scalar(StringInfo buf, const JsonbValue *value)
{
	switch (value->type)
	{
		case jbvNull:
			appendBinaryStringInfo(buf, "null", 4);
			break;
		case jbvBool:
			appendStringInfoString(buf, value->val.boolean ? "true" : "false");
			break;
		case jbvNumeric:
			appendStringInfoString(buf,
								   DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(value->val.numeric))));
			break;
		case jbvString:
			canonical_json_string(buf, value->val.string.val, value->val.string.len);
			break;
		case jbvBinary:
			put_container(buf, value->val.binary.data);
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) value->type);
	}
}

static void
put_object(StringInfo buf, JsonbIterator **it, int count)
{
	ObjectMember *members = palloc(sizeof(ObjectMember) * Max(count, 1));
	JsonbValue	v;
	JsonbIteratorToken token;
	int			n = 0;
	int			i;

	while ((token = JsonbIteratorNext(it, &v, true)) != WJB_END_OBJECT)
	{
		if (token == WJB_KEY)
		{
			Assert(n < count);
			members[n].key = to_utf8(v.val.string.val, v.val.string.len,
									 &members[n].keylen);
		}
		else if (token == WJB_VALUE)
			members[n++].value = v;
	}
	/* jsonb keeps the canonical order already when it compares UTF-8 */
	if (GetDatabaseEncoding() != PG_UTF8)
		qsort(members, n, sizeof(ObjectMember), member_cmp);

	appendStringInfoChar(buf, '{');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendBinaryStringInfo(buf, ", ", 2);
		put_utf8_string(buf, members[i].key, members[i].keylen);
		appendBinaryStringInfo(buf, ": ", 2);
		put_scalar(buf, &members[i].value);
	}
	appendStringInfoChar(buf, '}');
	pfree(members);
}

static void
put_array(StringInfo buf, JsonbIterator **it, bool raw_scalar)
{
	JsonbValue	v;
	JsonbIteratorToken token;
	bool		first = true;

	if (!raw_scalar)
		appendStringInfoChar(buf, '[');
	while ((token = JsonbIteratorNext(it, &v, true)) != WJB_END_ARRAY)
	{
		if (token != WJB_ELEM)
			continue;
		if (!first)
			appendBinaryStringInfo(buf, ", ", 2);
		put_scalar(buf, &v);
		first = false;
	}
	if (!raw_scalar)
		appendStringInfoChar(buf, ']');
}

static void
put_container(StringInfo buf, JsonbContainer *container)
{
	JsonbIterator *it = JsonbIteratorInit(container);
	JsonbValue	v;
	JsonbIteratorToken token;

	check_stack_depth();
	token = JsonbIteratorNext(&it, &v, true);
	if (token == WJB_BEGIN_OBJECT)
		put_object(buf, &it, v.val.object.nPairs);
	else if (token == WJB_BEGIN_ARRAY)
		put_array(buf, &it, v.val.array.rawScalar);
	else
		elog(ERROR, "unexpected jsonb iterator token %d", (int) token);
	/* drain the iterator to WJB_DONE so that it frees its state */
	while (JsonbIteratorNext(&it, &v, true) != WJB_DONE)
		;
}

void
canonical_json_append(StringInfo buf, Jsonb *value)
{
	put_container(buf, &value->root);
}

/* ---------- from canonical text back to jsonb ---------- */

/* Building a jsonb from JSON text as jsonb_in does, without its errors. */
typedef struct KeyParse
{
	JsonbParseState *state;
	JsonbValue *result;
} KeyParse;

static void
key_push(KeyParse *parse, JsonbIteratorToken token, JsonbValue *value)
{
	parse->result = pushJsonbValue(&parse->state, token, value);
}

static void
key_object_start(void *arg)
{
	key_push(arg, WJB_BEGIN_OBJECT, NULL);
}

static void
key_object_end(void *arg)
{
	key_push(arg, WJB_END_OBJECT, NULL);
}

static void
key_array_start(void *arg)
{
	key_push(arg, WJB_BEGIN_ARRAY, NULL);
}

static void
key_array_end(void *arg)
{
	key_push(arg, WJB_END_ARRAY, NULL);
}

static void
key_field(void *arg, char *fname, bool isnull)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = fname;
	v.val.string.len = strlen(fname);
	key_push(arg, WJB_KEY, &v);
}

static void
key_scalar(void *arg, char *token, JsonTokenType type)
{
	KeyParse   *parse = arg;
	JsonbValue	v;

	switch (type)
	{
		case JSON_TOKEN_STRING:
			v.type = jbvString;
			v.val.string.val = token;
			v.val.string.len = strlen(token);
			break;
		case JSON_TOKEN_NUMBER:
			v.type = jbvNumeric;
			v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
																CStringGetDatum(token),
																ObjectIdGetDatum(InvalidOid),
																Int32GetDatum(-1)));
			break;
		case JSON_TOKEN_TRUE:
		case JSON_TOKEN_FALSE:
			v.type = jbvBool;
			v.val.boolean = type == JSON_TOKEN_TRUE;
			break;
		default:
			v.type = jbvNull;
			break;
	}
	if (parse->state == NULL)
	{
		JsonbValue	array;

		array.type = jbvArray;
		array.val.array.rawScalar = true;
		array.val.array.nElems = 1;
		key_push(parse, WJB_BEGIN_ARRAY, &array);
		key_push(parse, WJB_ELEM, &v);
		key_push(parse, WJB_END_ARRAY, NULL);
	}
	else
		key_push(parse, parse->state->contVal.type == jbvArray ? WJB_ELEM : WJB_VALUE, &v);
}

/*
 * JSON text in UTF-8 (a row key's canonical text, as entries hash it) as
 * the jsonb jsonb_in would make of it, in one pass; NULL if it is not JSON
 * (a batch row altered by hand), without an error.
 */
Jsonb *
canonical_json_parse(const char *utf8, int len)
{
	char	   *text = pg_any_to_server(utf8, len, PG_UTF8);
	JsonLexContext *lex = makeJsonLexContextCstringLen(text,
													   text == utf8 ? len : strlen(text),
													   GetDatabaseEncoding(), true);
	KeyParse	parse = {NULL, NULL};
	JsonSemAction sem;

	memset(&sem, 0, sizeof(sem));
	sem.semstate = &parse;
	sem.object_start = key_object_start;
	sem.object_end = key_object_end;
	sem.array_start = key_array_start;
	sem.array_end = key_array_end;
	sem.object_field_start = key_field;
	sem.scalar = key_scalar;
	if (pg_parse_json(lex, &sem) != JSON_SUCCESS || parse.result == NULL)
		return NULL;
	return JsonbValueToJsonb(parse.result);
}
