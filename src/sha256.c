/*-------------------------------------------------------------------------
 *
 * sha256.c
 *	  SHA-256 through OpenSSL's libcrypto.
 *
 * medchain hashes many short messages (a row, an entry, a Merkle leaf or
 * node: tens to hundreds of bytes), so the cost per call matters as much
 * as the cost per byte.  OpenSSL's SHA256_Init/Update/Final run the same
 * block function as its EVP interface (with the CPU's SHA extensions when
 * present) without EVP's provider dispatch, which costs more than the
 * compression itself for a 33-byte Merkle leaf.  They are deprecated in
 * OpenSSL 3 but kept; EVP stays the interface for anything else.
 *
 *-------------------------------------------------------------------------
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "postgres.h"

#include <openssl/sha.h>

#include "utils/builtins.h"

#include "sha256.h"

StaticAssertDecl(SHA256_DIGEST_LENGTH == MC_HASH_LEN, "SHA-256 digests are 32 bytes");

/*
 * OpenSSL's SHA-256 cannot fail on valid arguments, but it reports
 * failure, and a digest that was not computed must never be used.
 */
void
mc_sha256(const void *data, size_t len, uint8 digest[MC_HASH_LEN])
{
	SHA256_CTX	ctx;

	if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data, len) != 1 ||
		SHA256_Final(digest, &ctx) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("OpenSSL's SHA-256 failed"),
				 errdetail("No digest was computed for a %zu-byte message.", len),
				 errhint("Check the server's OpenSSL installation.")));
}

bytea *
mc_hash_to_bytea(const uint8 digest[MC_HASH_LEN])
{
	bytea	   *result = (bytea *) palloc(VARHDRSZ + MC_HASH_LEN);

	SET_VARSIZE(result, VARHDRSZ + MC_HASH_LEN);
	memcpy(VARDATA(result), digest, MC_HASH_LEN);
	return result;
}

char *
mc_hex(const uint8 *bytes, int len)
{
	char	   *hex = palloc(2 * len + 1);

	hex[hex_encode((const char *) bytes, len, hex)] = '\0';
	return hex;
}
