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

/*
 * Incremental digest.  The context lives for the backend and is reused, so
 * hashing a row costs no allocation and no algorithm fetch.
 */
extern void mc_sha256_begin(void);
extern void mc_sha256_update(const void *data, size_t len);
extern void mc_sha256_end(uint8 digest[MC_HASH_LEN]);

/* One-shot digest of a buffer. */
extern void mc_sha256(const void *data, size_t len, uint8 digest[MC_HASH_LEN]);

/* Build a 32-byte bytea from a digest. */
extern bytea *mc_hash_to_bytea(const uint8 digest[MC_HASH_LEN]);

#endif							/* MEDCHAIN_SHA256_H */
