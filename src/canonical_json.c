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

/* Does a byte need escaping in a JSON string? */
static inline bool
needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/* A JSON string of UTF-8 bytes; runs that need no escape go out whole. */
static void
put_utf8_string(StringInfo buf, const char *s, int len)
{
	static const char hex[] = "0123456789abcdef";
	int			i = 0;

	appendStringInfoChar(buf, '"');
	while (i < len)
	{
		int			run = i;
		unsigned char c;

		while (run < len && !needs_escape((unsigned char) s[run]))
			run++;
		if (run > i)
			appendBinaryStringInfo(buf, s + i, run - i);
		if (run == len)
			break;
		c = (unsigned char) s[run];
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
				{
					char		esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

					appendBinaryStringInfo(buf, esc, 6);
				}
		}
		i = run + 1;
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

/*
 * The children of a container, read in storage order straight from its
 * JEntry array, as JsonbIteratorNext reads them but without building an
 * iterator (a row key or a small detail costs less than the iterator's
 * set-up and allocations).
 */
typedef struct ChildCursor
{
	JsonbContainer *container;
	const char *data;			/* where the children's data begins */
	int			index;			/* the child read next */
	uint32		offset;			/* its data's offset from data */
} ChildCursor;

static void
cursor_init(ChildCursor *cursor, JsonbContainer *container, int nchildren, int first)
{
	cursor->container = container;
	cursor->data = (const char *) &container->children[nchildren];
	cursor->index = first;
	cursor->offset = first == 0 ? 0 : getJsonbOffset(container, first);
}

/* The next child: a scalar, or a nested container as jbvBinary. */
static void
cursor_next(ChildCursor *cursor, JsonbValue *value)
{
	JEntry		entry = cursor->container->children[cursor->index];
	uint32		offset = cursor->offset;
	uint32		len = JBE_HAS_OFF(entry) ? JBE_OFFLENFLD(entry) - offset : JBE_OFFLENFLD(entry);

	if (JBE_ISNULL(entry))
		value->type = jbvNull;
	else if (JBE_ISSTRING(entry))
	{
		value->type = jbvString;
		value->val.string.val = (char *) cursor->data + offset;
		value->val.string.len = len;
	}
	else if (JBE_ISNUMERIC(entry))
	{
		value->type = jbvNumeric;
		value->val.numeric = (Numeric) (cursor->data + INTALIGN(offset));
	}
	else if (JBE_ISBOOL_TRUE(entry) || JBE_ISBOOL_FALSE(entry))
	{
		value->type = jbvBool;
		value->val.boolean = JBE_ISBOOL_TRUE(entry);
	}
	else
	{
		Assert(JBE_ISCONTAINER(entry));
		value->type = jbvBinary;
		value->val.binary.data = (JsonbContainer *) (cursor->data + INTALIGN(offset));
		value->val.binary.len = len - (INTALIGN(offset) - offset);
	}
	JBE_ADVANCE_OFFSET(cursor->offset, entry);
	cursor->index++;
}

/* Objects with at most this many members are put without an allocation. */
#define SMALL_OBJECT 16

static void
put_object(StringInfo buf, JsonbContainer *container)
{
	int			count = JsonContainerSize(container);
	ObjectMember small[SMALL_OBJECT];
	ObjectMember *members = count <= SMALL_OBJECT ? small :
		palloc(sizeof(ObjectMember) * count);
	ChildCursor keys;
	ChildCursor values;
	int			i;

	/* the keys are children 0 .. count - 1, their values the next count */
	cursor_init(&keys, container, 2 * count, 0);
	cursor_init(&values, container, 2 * count, count);
	for (i = 0; i < count; i++)
	{
		JsonbValue	key;

		cursor_next(&keys, &key);
		Assert(key.type == jbvString);
		members[i].key = to_utf8(key.val.string.val, key.val.string.len,
								 &members[i].keylen);
		cursor_next(&values, &members[i].value);
	}
	/* jsonb keeps the canonical order already when it compares UTF-8 */
	if (GetDatabaseEncoding() != PG_UTF8)
		qsort(members, count, sizeof(ObjectMember), member_cmp);

	appendStringInfoChar(buf, '{');
	for (i = 0; i < count; i++)
	{
		if (i > 0)
			appendBinaryStringInfo(buf, ", ", 2);
		put_utf8_string(buf, members[i].key, members[i].keylen);
		appendBinaryStringInfo(buf, ": ", 2);
		put_scalar(buf, &members[i].value);
	}
	appendStringInfoChar(buf, '}');
	if (members != small)
		pfree(members);
}

/* An array; a raw scalar (a top-level scalar jsonb) without brackets. */
static void
put_array(StringInfo buf, JsonbContainer *container)
{
	int			count = JsonContainerSize(container);
	bool		raw_scalar = JsonContainerIsScalar(container);
	ChildCursor elems;
	int			i;

	cursor_init(&elems, container, count, 0);
	if (!raw_scalar)
		appendStringInfoChar(buf, '[');
	for (i = 0; i < count; i++)
	{
		JsonbValue	v;

		if (i > 0)
			appendBinaryStringInfo(buf, ", ", 2);
		cursor_next(&elems, &v);
		put_scalar(buf, &v);
	}
	if (!raw_scalar)
		appendStringInfoChar(buf, ']');
}

static void
put_container(StringInfo buf, JsonbContainer *container)
{
	check_stack_depth();
	if (JsonContainerIsObject(container))
		put_object(buf, container);
	else if (JsonContainerIsArray(container))
		put_array(buf, container);
	else
		elog(ERROR, "unexpected jsonb container header %08x", container->header);
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
