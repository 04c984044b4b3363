/*-------------------------------------------------------------------------
 *
 * wire.h
 *	  Writers for the primitive fields of FORMAT.md: big-endian integers,
 *	  UTF-8 text and length-prefixed strings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_WIRE_H
#define MEDCHAIN_WIRE_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "port/pg_bswap.h"
#include "utils/timestamp.h"

static inline void
wire_put_u32(StringInfo buf, uint32 v)
{
	uint32		n = pg_hton32(v);

	appendBinaryStringInfo(buf, (char *) &n, 4);
}

static inline void
wire_put_u64(StringInfo buf, uint64 v)
{
	uint64		n = pg_hton64(v);

	appendBinaryStringInfo(buf, (char *) &n, 8);
}

/* text in the server encoding, written as UTF-8 (no length prefix) */
static inline void
wire_put_utf8(StringInfo buf, const char *s, int len)
{
	char	   *utf8 = pg_server_to_any(s, len, PG_UTF8);

	appendBinaryStringInfo(buf, utf8, utf8 == s ? len : (int) strlen(utf8));
}

/* "str": 4-byte length of the UTF-8 bytes, then the bytes */
static inline void
wire_put_strn(StringInfo buf, const char *s, int len)
{
	char	   *utf8 = pg_server_to_any(s, len, PG_UTF8);

	if (utf8 != s)
		len = strlen(utf8);
	wire_put_u32(buf, len);
	appendBinaryStringInfo(buf, utf8, len);
}

/*
 * A timestamp as microseconds since the Unix epoch, so that outside
 * verifiers need no knowledge of PostgreSQL's epoch (2000-01-01).
 */
static inline void
wire_put_unix_usecs(StringInfo buf, TimestampTz t)
{
	wire_put_u64(buf, (uint64) (t + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY));
}

#endif							/* MEDCHAIN_WIRE_H */
