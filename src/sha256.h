/*-------------------------------------------------------------------------
 *
 * sha256.h
 *	  SHA-256 through OpenSSL's libcrypto, and the hex helpers that go with
 *	  digests.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_SHA256_H
#define MEDCHAIN_SHA256_H

#include "postgres.h"

#define MC_HASH_LEN 32

/* Digest of a buffer. */
extern void mc_sha256(const void *data, size_t len, uint8 digest[MC_HASH_LEN]);

/* Bytes as lower-case hex, palloc'd. */
extern char *mc_hex(const uint8 *bytes, int len);

/* Build a 32-byte bytea from a digest. */
extern bytea *mc_hash_to_bytea(const uint8 digest[MC_HASH_LEN]);

#endif							/* MEDCHAIN_SHA256_H */
