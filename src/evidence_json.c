/*-------------------------------------------------------------------------
 *
 * evidence_json.c
 *	  The JSON of digests and proofs: hashes as lower-case hex, timestamps
 *	  as microseconds since the Unix epoch, every member checked on the
 *	  way in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>

#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/numeric.h"

#include "evidence_json.h"
#include "wire.h"

/* ---------- writing JSON ---------- */

/* Bytes as a JSON string of lower-case hex digits. */
void
put_hex_value(StringInfo buf, const uint8 *bytes, int len)
{
	static const char digits[] = "0123456789abcdef";
	int			i;

	appendStringInfoChar(buf, '"');
	for (i = 0; i < len; i++)
	{
		appendStringInfoChar(buf, digits[bytes[i] >> 4]);
		appendStringInfoChar(buf, digits[bytes[i] & 15]);
	}
	appendStringInfoChar(buf, '"');
}

void
put_hex(StringInfo buf, const char *name, const uint8 *bytes, int len)
{
	appendStringInfo(buf, "\"%s\": ", name);
	put_hex_value(buf, bytes, len);
}

void
put_string(StringInfo buf, const char *name, const char *value)
{
	appendStringInfo(buf, "\"%s\": ", name);
	escape_json(buf, value);
}

Jsonb *
jsonb_from_text(StringInfo buf)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf->data)));
}

/* The header fields of a block, with its hash and node name. */
void
put_block(StringInfo buf, const BlockRow *row)
{
	appendStringInfo(buf, "{\"height\": " INT64_FORMAT ", \"format_version\": %u, ",
					 row->header.height, row->header.format_version);
	put_hex(buf, "prev_hash", row->header.prev_hash, MC_HASH_LEN);
	appendStringInfoString(buf, ", ");
	put_hex(buf, "merkle_root", row->header.merkle_root, MC_HASH_LEN);
	appendStringInfo(buf, ", \"sealed_at\": " INT64_FORMAT ", \"entry_count\": %u, \"difficulty\": %u, ",
					 mc_unix_usecs(row->header.sealed_at), row->header.entry_count,
					 row->header.difficulty);
	if (row->header.format_version >= 2)
		appendStringInfo(buf, "\"min_difficulty\": %u, ", row->header.min_difficulty);
	if (row->header.format_version >= MC_BLOCK_FORMAT_SIGNED)
	{
		put_hex(buf, "chain_id", row->header.chain_id, MC_HASH_LEN);
		appendStringInfoString(buf, ", ");
	}
	put_hex(buf, "node_id", row->header.node_id, MC_HASH_LEN);
	appendStringInfoString(buf, ", ");
	put_string(buf, "node_name", row->node_name);
	appendStringInfo(buf, ", \"nonce\": " UINT64_FORMAT ", ", row->header.nonce);
	put_hex(buf, "block_hash", row->block_hash, MC_HASH_LEN);
	if (row->header.format_version >= MC_BLOCK_FORMAT_SIGNED)
		put_block_signature(buf, row);
	appendStringInfoChar(buf, '}');
}

/*
 * ", signer_key, signature" of a signed block; a stored one of the wrong
 * size (altered by hand) is written as it can be read, empty.
 */
void
put_block_signature(StringInfo buf, const BlockRow *row)
{
	appendStringInfoString(buf, ", ");
	put_hex(buf, "signer_key", row->signer_key,
			row->signer_key_len == MC_SIGNER_KEY_LEN ? MC_SIGNER_KEY_LEN : 0);
	appendStringInfoString(buf, ", ");
	put_hex(buf, "signature", row->signature,
			row->signature_len == MC_SIGNATURE_LEN ? MC_SIGNATURE_LEN : 0);
}

/* ---------- reading JSON ---------- */

void
malformed(const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("malformed %s", what),
			 errdetail("%s", detail),
			 errhint("Pass the value exactly as medchain produced it; docs/FORMAT.md describes it.")));
}

JsonbValue *
member(const JsonReader *reader, const char *name, enum jbvType type)
{
	JsonbValue	key;
	JsonbValue *value;

	key.type = jbvString;
	key.val.string.val = (char *) name;
	key.val.string.len = strlen(name);
	value = findJsonbValueFromContainer(reader->object, JB_FOBJECT, &key);
	if (value == NULL)
		malformed(reader->what, psprintf("Member \"%s%s\" is missing.", reader->path, name));
	if (value->type != type)
		malformed(reader->what, psprintf("Member \"%s%s\" has the wrong JSON type.",
										 reader->path, name));
	return value;
}

JsonbValue *
member_if_present(const JsonReader *reader, const char *name)
{
	JsonbValue	key;

	key.type = jbvString;
	key.val.string.val = (char *) name;
	key.val.string.len = strlen(name);
	return findJsonbValueFromContainer(reader->object, JB_FOBJECT, &key);
}

void
only_known_members(const JsonReader *reader, const char *const *known)
{
	JsonbIterator *it = JsonbIteratorInit(reader->object);
	JsonbValue	v;
	JsonbIteratorToken token;

	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		const char *const *k;
		bool		found = false;

		if (token != WJB_KEY)
			continue;
		for (k = known; *k != NULL && !found; k++)
			found = strlen(*k) == v.val.string.len &&
				memcmp(*k, v.val.string.val, v.val.string.len) == 0;
		if (!found)
			malformed(reader->what,
					  psprintf("Member \"%s%s\" is not one medchain writes; every member given is checked, so an unknown one cannot be.",
							   reader->path, pnstrdup(v.val.string.val, v.val.string.len)));
	}
}

JsonReader
object_member(const JsonReader *reader, const char *name)
{
	JsonbValue *value = member(reader, name, jbvBinary);
	JsonReader	inner = {reader->what, value->val.binary.data,
	psprintf("%s%s.", reader->path, name)};

	if (!JsonContainerIsObject(inner.object))
		malformed(reader->what, psprintf("Member \"%s%s\" is not an object.", reader->path, name));
	return inner;
}

char *
string_member(const JsonReader *reader, const char *name)
{
	JsonbValue *value = member(reader, name, jbvString);

	return pnstrdup(value->val.string.val, value->val.string.len);
}

/* An integer member within [min, max]. */
int64
integer_member(const JsonReader *reader, const char *name, int64 min, int64 max)
{
	JsonbValue *value = member(reader, name, jbvNumeric);
	Datum		numeric = NumericGetDatum(value->val.numeric);
	Datum		truncated = DirectFunctionCall2(numeric_trunc, numeric, Int32GetDatum(0));
	int64		result;

	if (!DatumGetBool(DirectFunctionCall2(numeric_eq, numeric, truncated)))
		malformed(reader->what, psprintf("Member \"%s%s\" is not an integer.", reader->path, name));
	result = DatumGetInt64(DirectFunctionCall1(numeric_int8, numeric));
	if (result < min || result > max)
		malformed(reader->what, psprintf("Member \"%s%s\" is out of range.", reader->path, name));
	return result;
}

/* A u64 member (nonce, xact): numeric up to 2^64-1. */
uint64
u64_member(const JsonReader *reader, const char *name)
{
	JsonbValue *value = member(reader, name, jbvNumeric);
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out,
														   NumericGetDatum(value->val.numeric)));
	char	   *end;
	uint64		result;

	errno = 0;
	result = strtou64(text, &end, 10);
	if (errno != 0 || *end != '\0' || text[0] == '-' || text[0] == '\0')
		malformed(reader->what, psprintf("Member \"%s%s\" is not an unsigned 64-bit integer.",
										 reader->path, name));
	return result;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex text into bytes; *len is the byte count.  False if not hex. */
bool
hex_to_bytes(const char *hex, int hexlen, uint8 *out, int *len)
{
	int			i;

	if (hexlen % 2 != 0)
		return false;
	for (i = 0; i < hexlen; i += 2)
	{
		int			hi = hex_value(hex[i]);
		int			lo = hex_value(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (uint8) (hi << 4 | lo);
	}
	*len = hexlen / 2;
	return true;
}

void
hash_from_hex(const JsonReader *reader, const char *name, const char *hex, int hexlen,
			  uint8 out[MC_HASH_LEN])
{
	int			len;

	if (hexlen != 2 * MC_HASH_LEN || !hex_to_bytes(hex, hexlen, out, &len))
		malformed(reader->what, psprintf("Member \"%s%s\" is not 64 hex digits.",
										 reader->path, name));
}

void
hash_member(const JsonReader *reader, const char *name, uint8 out[MC_HASH_LEN])
{
	JsonbValue *value = member(reader, name, jbvString);

	hash_from_hex(reader, name, value->val.string.val, value->val.string.len, out);
}

void
block_from_json(const JsonReader *reader, BlockRow *row)
{
	row->header.height = integer_member(reader, "height", 0, PG_INT64_MAX);
	row->header.format_version = (uint32) integer_member(reader, "format_version", 0, PG_UINT32_MAX);
	hash_member(reader, "prev_hash", row->header.prev_hash);
	hash_member(reader, "merkle_root", row->header.merkle_root);
	row->header.sealed_at = mc_from_unix_usecs(integer_member(reader, "sealed_at",
															   PG_INT64_MIN / 2, PG_INT64_MAX / 2));
	row->header.entry_count = (uint32) integer_member(reader, "entry_count", 1, PG_UINT32_MAX);
	row->header.difficulty = (uint32) integer_member(reader, "difficulty", 0, MC_MAX_DIFFICULTY);
	row->header.min_difficulty = row->header.format_version >= 2 ?
		(uint32) integer_member(reader, "min_difficulty", 0, MC_MAX_DIFFICULTY) : 0;
	if (row->header.format_version >= MC_BLOCK_FORMAT_SIGNED)
		hash_member(reader, "chain_id", row->header.chain_id);
	hash_member(reader, "node_id", row->header.node_id);
	row->node_name = string_member(reader, "node_name");
	row->header.nonce = u64_member(reader, "nonce");
	hash_member(reader, "block_hash", row->block_hash);
	row->signer_key_len = -1;
	row->signature_len = -1;
	if (row->header.format_version >= MC_BLOCK_FORMAT_SIGNED)
	{
		row->signer_key_len = bytes_member(reader, "signer_key", row->signer_key,
										   MC_SIGNER_KEY_LEN);
		row->signature_len = bytes_member(reader, "signature", row->signature,
										  MC_SIGNATURE_LEN);
	}
}

int
bytes_member(const JsonReader *reader, const char *name, uint8 *out, int max)
{
	JsonbValue *value = member(reader, name, jbvString);
	int			len;

	memset(out, 0, max);
	if (value->val.string.len > 2 * max ||
		!hex_to_bytes(value->val.string.val, value->val.string.len, out, &len))
		malformed(reader->what, psprintf("Member \"%s%s\" is not at most %d bytes of hex digits.",
										 reader->path, name, max));
	return len;
}

