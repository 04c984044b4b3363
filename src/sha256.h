/*-------------------------------------------------------------------------
 *
 * sha256.h
 *	  SHA-256 (the CPU's SHA extensions or OpenSSL's libcrypto), and the
 *	  hex helpers that go with digests.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_SHA256_H
#define MEDCHAIN_SHA256_H

#include "postgres.h"

#define MC_HASH_LEN 32

/* Digest of a buffer. */
extern void mc_sha256(const void *data, size_t len, uint8 digest[MC_HASH_LEN]);

/*
 * Digests of two buffers, as two calls of mc_sha256 would give them; with
 * the SHA extensions of x86-64 in about two thirds of their time.
 */
extern void mc_sha256_x2(const void *data1, size_t len1, uint8 digest1[MC_HASH_LEN],
						 const void *data2, size_t len2, uint8 digest2[MC_HASH_LEN]);

/* Four at once (data[k], len[k] into digests[k]): a little cheaper again. */
extern void mc_sha256_x4(const void *const *data, const size_t *len,
						 uint8 (*digests)[MC_HASH_LEN]);

/* The digest of a message given in pieces, in order; finish frees the stream. */
typedef struct MCSha256Stream MCSha256Stream;

extern MCSha256Stream *mc_sha256_stream_begin(void);
extern void mc_sha256_stream_add(MCSha256Stream *stream, const void *data, size_t len);
extern void mc_sha256_stream_finish(MCSha256Stream *stream, uint8 digest[MC_HASH_LEN]);

/* Bytes as lower-case hex, palloc'd. */
extern char *mc_hex(const uint8 *bytes, int len);

/* Build a 32-byte bytea from a digest. */
extern bytea *mc_hash_to_bytea(const uint8 digest[MC_HASH_LEN]);
extern bytea *mc_bytes_to_bytea(const void *bytes, Size len);

#endif							/* MEDCHAIN_SHA256_H */
