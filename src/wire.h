/*-------------------------------------------------------------------------
 *
 * wire.h
 *	  Writers (and readers) for the primitive fields of FORMAT.md:
 *	  big-endian integers, UTF-8 text and length-prefixed strings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_WIRE_H
#define MEDCHAIN_WIRE_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "port/pg_bswap.h"
#include "datatype/timestamp.h"
#include "utils/timestamp.h"

static inline void
wire_put_u32(StringInfo buf, uint32 v)
{
	uint32		n = pg_hton32(v);

	appendBinaryStringInfo(buf, (char *) &n, 4);
}

/* text in the server encoding, written as UTF-8 (no length prefix) */
static inline void
wire_put_utf8(StringInfo buf, const char *s, int len)
{
	char	   *utf8 = pg_server_to_any(s, len, PG_UTF8);

	appendBinaryStringInfo(buf, utf8, utf8 == s ? len : (int) strlen(utf8));
}

/* Writers into a buffer known to be large enough; each returns the end. */
static inline char *
wire_write_bytes(char *p, const void *bytes, size_t len)
{
	memcpy(p, bytes, len);
	return p + len;
}

static inline char *
wire_write_u32(char *p, uint32 v)
{
	v = pg_hton32(v);
	return wire_write_bytes(p, &v, 4);
}

static inline char *
wire_write_u64(char *p, uint64 v)
{
	v = pg_hton64(v);
	return wire_write_bytes(p, &v, 8);
}

/* Readers of big-endian integers, from a buffer known to hold them. */
static inline uint32
wire_read_u32(const uint8 *p)
{
	uint32		v;

	memcpy(&v, p, 4);
	return pg_ntoh32(v);
}

static inline uint64
wire_read_u64(const uint8 *p)
{
	uint64		v;

	memcpy(&v, p, 8);
	return pg_ntoh64(v);
}

/*
 * Timestamps are written as microseconds since the Unix epoch, so outside
 * verifiers need no knowledge of PostgreSQL's epoch (2000-01-01).
 */
#define MC_UNIX_EPOCH_OFFSET_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

static inline int64
mc_unix_usecs(TimestampTz t)
{
	return t + MC_UNIX_EPOCH_OFFSET_USECS;
}

static inline TimestampTz
mc_from_unix_usecs(int64 usecs)
{
	return usecs - MC_UNIX_EPOCH_OFFSET_USECS;
}

#endif							/* MEDCHAIN_WIRE_H */
