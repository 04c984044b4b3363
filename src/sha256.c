/*-------------------------------------------------------------------------
 *
 * sha256.c
 *	  SHA-256 through OpenSSL's EVP interface.
 *
 * The algorithm is fetched once per backend and one digest context is
 * reused for every hash: an implicit fetch per call (as the one-shot
 * helpers do in OpenSSL 3) would cost more than hashing a short row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include "sha256.h"

static EVP_MD *sha256_md = NULL;
static EVP_MD_CTX *sha256_ctx = NULL;

static void
report_openssl_failure(const char *what)
{
	unsigned long code = ERR_get_error();

	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("could not compute SHA-256: %s failed", what),
			 errdetail("OpenSSL reported: %s.",
					   code ? ERR_reason_error_string(code) : "no error code"),
			 errhint("Check the OpenSSL installation of the database server.")));
}

void
mc_sha256_begin(void)
{
	if (sha256_md == NULL)
	{
		sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
		if (sha256_md == NULL)
			report_openssl_failure("EVP_MD_fetch");
	}
	if (sha256_ctx == NULL)
	{
		sha256_ctx = EVP_MD_CTX_new();
		if (sha256_ctx == NULL)
			report_openssl_failure("EVP_MD_CTX_new");
	}
	if (EVP_DigestInit_ex2(sha256_ctx, sha256_md, NULL) != 1)
		report_openssl_failure("EVP_DigestInit_ex2");
}

void
mc_sha256_update(const void *data, size_t len)
{
	if (len > 0 && EVP_DigestUpdate(sha256_ctx, data, len) != 1)
		report_openssl_failure("EVP_DigestUpdate");
}

void
mc_sha256_end(uint8 digest[MC_HASH_LEN])
{
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(sha256_ctx, digest, &len) != 1 || len != MC_HASH_LEN)
		report_openssl_failure("EVP_DigestFinal_ex");
}

void
mc_sha256(const void *data, size_t len, uint8 digest[MC_HASH_LEN])
{
	mc_sha256_begin();
	mc_sha256_update(data, len);
	mc_sha256_end(digest);
}

bytea *
mc_hash_to_bytea(const uint8 digest[MC_HASH_LEN])
{
	bytea	   *result = (bytea *) palloc(VARHDRSZ + MC_HASH_LEN);

	SET_VARSIZE(result, VARHDRSZ + MC_HASH_LEN);
	memcpy(VARDATA(result), digest, MC_HASH_LEN);
	return result;
}
