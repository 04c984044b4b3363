/*-------------------------------------------------------------------------
 *
 * document_hash.h
 *	  The SHA-256 of a document, read a slice at a time where it is stored
 *	  so that it can be: a bytea value stored out of line, a large object.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_DOCUMENT_HASH_H
#define MEDCHAIN_DOCUMENT_HASH_H

#include "postgres.h"

#include "sha256.h"

/* A bytea datum, as the caller got it: possibly a pointer to TOAST. */
extern void document_sha256(Datum document, uint8 digest[MC_HASH_LEN]);

/* A large object, read with the caller's privileges on it. */
extern void large_object_sha256(Oid loid, uint8 digest[MC_HASH_LEN]);

#endif							/* MEDCHAIN_DOCUMENT_HASH_H */
