/*-------------------------------------------------------------------------
 *
 * sha256.c
 *	  SHA-256: the CPU's SHA extensions where it has them, else OpenSSL's
 *	  libcrypto.
 *
 * medchain hashes many short messages (a row, an entry, a Merkle leaf or
 * node: tens to hundreds of bytes), so the cost per call matters as much
 * as the cost per byte.  OpenSSL's SHA256_Init/Update/Final run the same
 * block function as its EVP interface (with the CPU's SHA extensions when
 * present) without EVP's provider dispatch, which costs more than the
 * compression itself for a 33-byte Merkle leaf.  They are deprecated in
 * OpenSSL 3 but kept; EVP stays the interface for anything else.
 *
 * On x86-64 with the SHA extensions the rounds are run here instead, for
 * one reason: verify() hashes rows in pairs (mc_sha256_x2).  One message's
 * rounds form a single dependency chain, so a core runs them at the
 * latency of SHA256RNDS2 with its SHA unit mostly idle; two independent
 * messages interleaved fill that unit, and take about two thirds of the
 * time of the two one after the other.  OpenSSL has no interface for
 * that.  A message is hashed from the caller's buffer, with only its
 * padded tail copied, and one pair costs no more set-up than one message.
 * Before the extensions are first used, a known-answer test against
 * OpenSSL decides whether they are (a wrong digest would be a tamper
 * found where there is none).
 *
 *-------------------------------------------------------------------------
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "postgres.h"

#include <openssl/sha.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define MC_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "port/pg_bswap.h"
#include "utils/builtins.h"

#include "sha256.h"

StaticAssertDecl(SHA256_DIGEST_LENGTH == MC_HASH_LEN, "SHA-256 digests are 32 bytes");

/*
 * OpenSSL's SHA-256 cannot fail on valid arguments, but it reports
 * failure, and a digest that was not computed must never be used.
 */
static void
openssl_sha256_failed(size_t len)
{
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("OpenSSL's SHA-256 failed"),
			 errdetail("No digest was computed for a %zu-byte message.", len),
			 errhint("Check the server's OpenSSL installation.")));
}

static void
openssl_sha256(const void *data, size_t len, uint8 digest[MC_HASH_LEN])
{
	SHA256_CTX	ctx;

	if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data, len) != 1 ||
		SHA256_Final(digest, &ctx) != 1)
		openssl_sha256_failed(len);
}

#ifdef MC_SHA_NI

/* ---------- the SHA extensions of x86-64 ---------- */

#define SHA_NI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* FIPS 180-4, 4.2.2: the round constants, four to a SHA256RNDS2 pair */
static const uint32 sha_ni_k[64] pg_attribute_aligned(16) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

/* The eight state words as SHA256RNDS2 takes them: (a, b, e, f), (c, d, g, h). */
typedef struct ShaNiState
{
	__m128i		abef;
	__m128i		cdgh;
} ShaNiState;

/* Each 32-bit lane byte-swapped: message words and digest are big-endian. */
#define SHA_NI_BSWAP32 _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL)

#define SHA_NI_LOAD(block, i) \
	_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (block) + (i)), SHA_NI_BSWAP32)

/* Rounds 4i .. 4i+3, with message words m (W[4i] .. W[4i+3]). */
#define SHA_NI_ROUNDS(st, m, i) \
	do { \
		__m128i		wk_ = _mm_add_epi32((m), \
										_mm_load_si128((const __m128i *) &sha_ni_k[4 * (i)])); \
		(st).cdgh = _mm_sha256rnds2_epu32((st).cdgh, (st).abef, wk_); \
		(st).abef = _mm_sha256rnds2_epu32((st).abef, (st).cdgh, _mm_shuffle_epi32(wk_, 0x0E)); \
	} while (0)

/* The next four message words, into m0, from the sixteen in m0 .. m3. */
#define SHA_NI_SCHEDULE(m0, m1, m2, m3) \
	((m0) = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32((m0), (m1)), \
											   _mm_alignr_epi8((m3), (m2), 4)), \
								 (m3)))

SHA_NI_TARGET static inline void
sha_ni_init(ShaNiState *s)
{
	s->abef = _mm_set_epi32(0x6a09e667, (int) 0xbb67ae85, 0x510e527f, (int) 0x9b05688c);
	s->cdgh = _mm_set_epi32(0x3c6ef372, (int) 0xa54ff53a, 0x1f83d9ab, 0x5be0cd19);
}

SHA_NI_TARGET static inline void
sha_ni_block(ShaNiState *s, const uint8 *block)
{
	ShaNiState	st = *s;
	__m128i		m0 = SHA_NI_LOAD(block, 0);
	__m128i		m1 = SHA_NI_LOAD(block, 1);
	__m128i		m2 = SHA_NI_LOAD(block, 2);
	__m128i		m3 = SHA_NI_LOAD(block, 3);
	int			i;

	SHA_NI_ROUNDS(st, m0, 0);
	SHA_NI_ROUNDS(st, m1, 1);
	SHA_NI_ROUNDS(st, m2, 2);
	SHA_NI_ROUNDS(st, m3, 3);
	for (i = 4; i < 16; i += 4)
	{
		SHA_NI_SCHEDULE(m0, m1, m2, m3);
		SHA_NI_ROUNDS(st, m0, i);
		SHA_NI_SCHEDULE(m1, m2, m3, m0);
		SHA_NI_ROUNDS(st, m1, i + 1);
		SHA_NI_SCHEDULE(m2, m3, m0, m1);
		SHA_NI_ROUNDS(st, m2, i + 2);
		SHA_NI_SCHEDULE(m3, m0, m1, m2);
		SHA_NI_ROUNDS(st, m3, i + 3);
	}
	s->abef = _mm_add_epi32(s->abef, st.abef);
	s->cdgh = _mm_add_epi32(s->cdgh, st.cdgh);
}

/* One block of each of two messages, their rounds interleaved. */
SHA_NI_TARGET static inline void
sha_ni_block_x2(ShaNiState *s1, const uint8 *block1, ShaNiState *s2, const uint8 *block2)
{
	ShaNiState	a = *s1;
	ShaNiState	b = *s2;
	__m128i		a0 = SHA_NI_LOAD(block1, 0);
	__m128i		a1 = SHA_NI_LOAD(block1, 1);
	__m128i		a2 = SHA_NI_LOAD(block1, 2);
	__m128i		a3 = SHA_NI_LOAD(block1, 3);
	__m128i		b0 = SHA_NI_LOAD(block2, 0);
	__m128i		b1 = SHA_NI_LOAD(block2, 1);
	__m128i		b2 = SHA_NI_LOAD(block2, 2);
	__m128i		b3 = SHA_NI_LOAD(block2, 3);
	int			i;

	SHA_NI_ROUNDS(a, a0, 0);
	SHA_NI_ROUNDS(b, b0, 0);
	SHA_NI_ROUNDS(a, a1, 1);
	SHA_NI_ROUNDS(b, b1, 1);
	SHA_NI_ROUNDS(a, a2, 2);
	SHA_NI_ROUNDS(b, b2, 2);
	SHA_NI_ROUNDS(a, a3, 3);
	SHA_NI_ROUNDS(b, b3, 3);
	for (i = 4; i < 16; i += 4)
	{
		SHA_NI_SCHEDULE(a0, a1, a2, a3);
		SHA_NI_SCHEDULE(b0, b1, b2, b3);
		SHA_NI_ROUNDS(a, a0, i);
		SHA_NI_ROUNDS(b, b0, i);
		SHA_NI_SCHEDULE(a1, a2, a3, a0);
		SHA_NI_SCHEDULE(b1, b2, b3, b0);
		SHA_NI_ROUNDS(a, a1, i + 1);
		SHA_NI_ROUNDS(b, b1, i + 1);
		SHA_NI_SCHEDULE(a2, a3, a0, a1);
		SHA_NI_SCHEDULE(b2, b3, b0, b1);
		SHA_NI_ROUNDS(a, a2, i + 2);
		SHA_NI_ROUNDS(b, b2, i + 2);
		SHA_NI_SCHEDULE(a3, a0, a1, a2);
		SHA_NI_SCHEDULE(b3, b0, b1, b2);
		SHA_NI_ROUNDS(a, a3, i + 3);
		SHA_NI_ROUNDS(b, b3, i + 3);
	}
	s1->abef = _mm_add_epi32(s1->abef, a.abef);
	s1->cdgh = _mm_add_epi32(s1->cdgh, a.cdgh);
	s2->abef = _mm_add_epi32(s2->abef, b.abef);
	s2->cdgh = _mm_add_epi32(s2->cdgh, b.cdgh);
}

/* One block of each of four messages (rows hashed four at a time). */
SHA_NI_TARGET static inline void
sha_ni_block_x4(ShaNiState *s, const uint8 *const *blocks)
{
	ShaNiState	a = s[0];
	ShaNiState	b = s[1];
	ShaNiState	c = s[2];
	ShaNiState	d = s[3];
	__m128i		a0 = SHA_NI_LOAD(blocks[0], 0);
	__m128i		a1 = SHA_NI_LOAD(blocks[0], 1);
	__m128i		a2 = SHA_NI_LOAD(blocks[0], 2);
	__m128i		a3 = SHA_NI_LOAD(blocks[0], 3);
	__m128i		b0 = SHA_NI_LOAD(blocks[1], 0);
	__m128i		b1 = SHA_NI_LOAD(blocks[1], 1);
	__m128i		b2 = SHA_NI_LOAD(blocks[1], 2);
	__m128i		b3 = SHA_NI_LOAD(blocks[1], 3);
	__m128i		c0 = SHA_NI_LOAD(blocks[2], 0);
	__m128i		c1 = SHA_NI_LOAD(blocks[2], 1);
	__m128i		c2 = SHA_NI_LOAD(blocks[2], 2);
	__m128i		c3 = SHA_NI_LOAD(blocks[2], 3);
	__m128i		d0 = SHA_NI_LOAD(blocks[3], 0);
	__m128i		d1 = SHA_NI_LOAD(blocks[3], 1);
	__m128i		d2 = SHA_NI_LOAD(blocks[3], 2);
	__m128i		d3 = SHA_NI_LOAD(blocks[3], 3);
	int			i;

/* the same step for the four messages */
#define SHA_NI_ROUNDS_X4(m, i) \
	do { \
		SHA_NI_ROUNDS(a, a##m, i); \
		SHA_NI_ROUNDS(b, b##m, i); \
		SHA_NI_ROUNDS(c, c##m, i); \
		SHA_NI_ROUNDS(d, d##m, i); \
	} while (0)
#define SHA_NI_SCHEDULE_X4(m0, m1, m2, m3) \
	do { \
		SHA_NI_SCHEDULE(a##m0, a##m1, a##m2, a##m3); \
		SHA_NI_SCHEDULE(b##m0, b##m1, b##m2, b##m3); \
		SHA_NI_SCHEDULE(c##m0, c##m1, c##m2, c##m3); \
		SHA_NI_SCHEDULE(d##m0, d##m1, d##m2, d##m3); \
	} while (0)

	SHA_NI_ROUNDS_X4(0, 0);
	SHA_NI_ROUNDS_X4(1, 1);
	SHA_NI_ROUNDS_X4(2, 2);
	SHA_NI_ROUNDS_X4(3, 3);
	for (i = 4; i < 16; i += 4)
	{
		SHA_NI_SCHEDULE_X4(0, 1, 2, 3);
		SHA_NI_ROUNDS_X4(0, i);
		SHA_NI_SCHEDULE_X4(1, 2, 3, 0);
		SHA_NI_ROUNDS_X4(1, i + 1);
		SHA_NI_SCHEDULE_X4(2, 3, 0, 1);
		SHA_NI_ROUNDS_X4(2, i + 2);
		SHA_NI_SCHEDULE_X4(3, 0, 1, 2);
		SHA_NI_ROUNDS_X4(3, i + 3);
	}
#undef SHA_NI_ROUNDS_X4
#undef SHA_NI_SCHEDULE_X4
	s[0].abef = _mm_add_epi32(s[0].abef, a.abef);
	s[0].cdgh = _mm_add_epi32(s[0].cdgh, a.cdgh);
	s[1].abef = _mm_add_epi32(s[1].abef, b.abef);
	s[1].cdgh = _mm_add_epi32(s[1].cdgh, b.cdgh);
	s[2].abef = _mm_add_epi32(s[2].abef, c.abef);
	s[2].cdgh = _mm_add_epi32(s[2].cdgh, c.cdgh);
	s[3].abef = _mm_add_epi32(s[3].abef, d.abef);
	s[3].cdgh = _mm_add_epi32(s[3].cdgh, d.cdgh);
}

SHA_NI_TARGET static inline void
sha_ni_digest(const ShaNiState *s, uint8 digest[MC_HASH_LEN])
{
	__m128i		feba = _mm_shuffle_epi32(s->abef, 0x1B);
	__m128i		dchg = _mm_shuffle_epi32(s->cdgh, 0xB1);
	__m128i		dcba = _mm_blend_epi16(feba, dchg, 0xF0);
	__m128i		hgfe = _mm_alignr_epi8(dchg, feba, 8);

	_mm_storeu_si128((__m128i *) digest, _mm_shuffle_epi8(dcba, SHA_NI_BSWAP32));
	_mm_storeu_si128((__m128i *) (digest + 16), _mm_shuffle_epi8(hgfe, SHA_NI_BSWAP32));
}

/*
 * A message as blocks: the whole blocks in place, then its last len % 64
 * bytes padded (0x80, zeros, the bit length) into one or two blocks.
 */
typedef struct ShaNiMessage
{
	const uint8 *data;
	size_t		whole;			/* blocks read from data */
	size_t		blocks;			/* in all */
	uint8		tail[128];
} ShaNiMessage;

static void
sha_ni_message(ShaNiMessage *m, const void *data, size_t len)
{
	size_t		rem = len % 64;
	size_t		tail_len = rem < 56 ? 64 : 128;
	uint64		bits = pg_hton64((uint64) len * 8);

	m->data = data;
	m->whole = len / 64;
	m->blocks = m->whole + tail_len / 64;
	if (rem > 0)
		memcpy(m->tail, (const uint8 *) data + len - rem, rem);
	m->tail[rem] = 0x80;
	memset(m->tail + rem + 1, 0, tail_len - rem - 1 - sizeof(bits));
	memcpy(m->tail + tail_len - sizeof(bits), &bits, sizeof(bits));
}

static inline const uint8 *
sha_ni_message_block(const ShaNiMessage *m, size_t i)
{
	return i < m->whole ? m->data + 64 * i : m->tail + 64 * (i - m->whole);
}

SHA_NI_TARGET static void
sha_ni_sha256(const void *data, size_t len, uint8 digest[MC_HASH_LEN])
{
	ShaNiMessage m;
	ShaNiState	s;
	size_t		i;

	sha_ni_message(&m, data, len);
	sha_ni_init(&s);
	for (i = 0; i < m.blocks; i++)
		sha_ni_block(&s, sha_ni_message_block(&m, i));
	sha_ni_digest(&s, digest);
}

/* Two messages: together while both have blocks left, then the longer alone. */
SHA_NI_TARGET static void
sha_ni_sha256_x2(const void *data1, size_t len1, uint8 digest1[MC_HASH_LEN],
				 const void *data2, size_t len2, uint8 digest2[MC_HASH_LEN])
{
	ShaNiMessage m1;
	ShaNiMessage m2;
	ShaNiState	s1;
	ShaNiState	s2;
	size_t		i;

	sha_ni_message(&m1, data1, len1);
	sha_ni_message(&m2, data2, len2);
	sha_ni_init(&s1);
	sha_ni_init(&s2);
	for (i = 0; i < m1.blocks && i < m2.blocks; i++)
		sha_ni_block_x2(&s1, sha_ni_message_block(&m1, i), &s2, sha_ni_message_block(&m2, i));
	for (; i < m1.blocks; i++)
		sha_ni_block(&s1, sha_ni_message_block(&m1, i));
	for (; i < m2.blocks; i++)
		sha_ni_block(&s2, sha_ni_message_block(&m2, i));
	sha_ni_digest(&s1, digest1);
	sha_ni_digest(&s2, digest2);
}

/* Four messages: together while all have blocks left, then each alone. */
SHA_NI_TARGET static void
sha_ni_sha256_x4(const void *const *data, const size_t *len, uint8 (*digests)[MC_HASH_LEN])
{
	ShaNiMessage m[4];
	ShaNiState	s[4];
	size_t		common = SIZE_MAX;
	size_t		i;
	int			k;

	for (k = 0; k < 4; k++)
	{
		sha_ni_message(&m[k], data[k], len[k]);
		sha_ni_init(&s[k]);
		common = Min(common, m[k].blocks);
	}
	for (i = 0; i < common; i++)
	{
		const uint8 *blocks[4];

		for (k = 0; k < 4; k++)
			blocks[k] = sha_ni_message_block(&m[k], i);
		sha_ni_block_x4(s, blocks);
	}
	for (k = 0; k < 4; k++)
	{
		for (i = common; i < m[k].blocks; i++)
			sha_ni_block(&s[k], sha_ni_message_block(&m[k], i));
		sha_ni_digest(&s[k], digests[k]);
	}
}

static bool
cpu_has_sha_ni(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) ||
		!(ecx & bit_SSSE3) || !(ecx & bit_SSE4_1))
		return false;
	if (__get_cpuid_max(0, NULL) < 7)
		return false;
	__cpuid_count(7, 0, eax, ebx, ecx, edx);
	return (ebx & bit_SHA) != 0;
}

/*
 * Do the extensions give OpenSSL's digests?  Lengths around the block and
 * padding boundaries, alone and in pairs of unequal lengths.
 */
static bool
sha_ni_agrees_with_openssl(void)
{
	static const size_t lengths[] = {0, 3, 55, 56, 63, 64, 65, 119, 120, 200};
	uint8		message[256];
	uint8		expected[MC_HASH_LEN];
	uint8		got[MC_HASH_LEN];
	uint8		got2[MC_HASH_LEN];
	int			i;

	for (i = 0; i < sizeof(message); i++)
		message[i] = (uint8) (i * 131 + 7);
	for (i = 0; i < lengthof(lengths); i++)
	{
		size_t		len = lengths[i];
		size_t		other = lengths[lengthof(lengths) - 1 - i];

		openssl_sha256(message, len, expected);
		sha_ni_sha256(message, len, got);
		if (memcmp(expected, got, MC_HASH_LEN) != 0)
			return false;
		sha_ni_sha256_x2(message, len, got, message + 1, other - (other > 0), got2);
		if (memcmp(expected, got, MC_HASH_LEN) != 0)
			return false;
		openssl_sha256(message + 1, other - (other > 0), expected);
		if (memcmp(expected, got2, MC_HASH_LEN) != 0)
			return false;
	}
	/* four at a time: each length with three others, one of them longer */
	for (i = 0; i + 3 < lengthof(lengths); i++)
	{
		const void *data[4];
		size_t		len[4];
		uint8		got4[4][MC_HASH_LEN];
		int			k;

		for (k = 0; k < 4; k++)
		{
			data[k] = message + k;
			len[k] = lengths[(i + 3 * k) % lengthof(lengths)];
		}
		sha_ni_sha256_x4(data, len, got4);
		for (k = 0; k < 4; k++)
		{
			openssl_sha256(data[k], len[k], expected);
			if (memcmp(expected, got4[k], MC_HASH_LEN) != 0)
				return false;
		}
	}
	return true;
}

/* -1 until first asked; then whether the SHA extensions are used. */
static int	use_sha_ni = -1;

static inline bool
sha_ni_usable(void)
{
	if (unlikely(use_sha_ni < 0))
		use_sha_ni = cpu_has_sha_ni() && sha_ni_agrees_with_openssl();
	return use_sha_ni;
}

#endif							/* MC_SHA_NI */

void
mc_sha256(const void *data, size_t len, uint8 digest[MC_HASH_LEN])
{
#ifdef MC_SHA_NI
	if (sha_ni_usable())
	{
		sha_ni_sha256(data, len, digest);
		return;
	}
#endif
	openssl_sha256(data, len, digest);
}

void
mc_sha256_x2(const void *data1, size_t len1, uint8 digest1[MC_HASH_LEN],
			 const void *data2, size_t len2, uint8 digest2[MC_HASH_LEN])
{
#ifdef MC_SHA_NI
	if (sha_ni_usable())
	{
		sha_ni_sha256_x2(data1, len1, digest1, data2, len2, digest2);
		return;
	}
#endif
	openssl_sha256(data1, len1, digest1);
	openssl_sha256(data2, len2, digest2);
}

void
mc_sha256_x4(const void *const *data, const size_t *len, uint8 (*digests)[MC_HASH_LEN])
{
	int			k;

#ifdef MC_SHA_NI
	if (sha_ni_usable())
	{
		sha_ni_sha256_x4(data, len, digests);
		return;
	}
#endif
	for (k = 0; k < 4; k++)
		openssl_sha256(data[k], len[k], digests[k]);
}

/*
 * A message that arrives in pieces goes to OpenSSL, which runs the same
 * SHA extensions for it: the pieces are large (a document read a slice at
 * a time), so the set-up per call that mc_sha256 avoids does not count.
 */
struct MCSha256Stream
{
	SHA256_CTX	ctx;
	size_t		len;			/* bytes so far, for the error */
};

MCSha256Stream *
mc_sha256_stream_begin(void)
{
	MCSha256Stream *stream = palloc(sizeof(MCSha256Stream));

	stream->len = 0;
	if (SHA256_Init(&stream->ctx) != 1)
		openssl_sha256_failed(0);
	return stream;
}

void
mc_sha256_stream_add(MCSha256Stream *stream, const void *data, size_t len)
{
	stream->len += len;
	if (SHA256_Update(&stream->ctx, data, len) != 1)
		openssl_sha256_failed(stream->len);
}

void
mc_sha256_stream_finish(MCSha256Stream *stream, uint8 digest[MC_HASH_LEN])
{
	if (SHA256_Final(digest, &stream->ctx) != 1)
		openssl_sha256_failed(stream->len);
	pfree(stream);
}

bytea *
mc_hash_to_bytea(const uint8 digest[MC_HASH_LEN])
{
	return mc_bytes_to_bytea(digest, MC_HASH_LEN);
}

bytea *
mc_bytes_to_bytea(const void *bytes, Size len)
{
	bytea	   *result = (bytea *) palloc(VARHDRSZ + len);

	SET_VARSIZE(result, VARHDRSZ + len);
	memcpy(VARDATA(result), bytes, len);
	return result;
}

char *
mc_hex(const uint8 *bytes, int len)
{
	char	   *hex = palloc(2 * len + 1);

	hex[hex_encode((const char *) bytes, len, hex)] = '\0';
	return hex;
}
