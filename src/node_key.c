/*-------------------------------------------------------------------------
 *
 * node_key.c
 *	  The node's Ed25519 key file, and signing and checking blocks with it.
 *
 * The private key is a PEM PKCS#8 file (what `openssl genpkey -algorithm
 * ed25519` writes, so `openssl pkey` reads it), at medchain.node_key_file,
 * by default medchain_node.key in the data directory.  It is refused, as
 * PostgreSQL refuses an ssl_key_file, unless it is a regular file owned by
 * the server's user with no group or other permissions.  It is made when
 * first needed: written under a temporary name created with O_EXCL and
 * mode 0600, flushed, then linked to its name, which never replaces a key
 * another backend made meanwhile, and the directory flushed.
 *
 * The key is read from the file for each use and nothing of it is kept:
 * the file's bytes are wiped (OPENSSL_cleanse) once parsed, OpenSSL wipes
 * the key it frees, and every OpenSSL handle and buffer is released in a
 * PG_FINALLY block, so an error midway leaks and leaves nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "miscadmin.h"
#include "utils/guc.h"

#include "block.h"
#include "node_key.h"

/* A PEM Ed25519 key is about 120 bytes; anything far larger is not one. */
#define MC_NODE_KEY_FILE_MAX 16384

static char *node_key_file_setting = NULL;

static bool
check_node_key_file(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("medchain.node_key_file must name a file.");
		return false;
	}
	return true;
}

void
node_key_define_settings(void)
{
	DefineCustomStringVariable("medchain.node_key_file",
							   "Location of this node's Ed25519 private key file.",
							   "A relative path is taken from the data directory. The file is made, mode 0600, when first needed.",
							   &node_key_file_setting,
							   "medchain_node.key",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   check_node_key_file, NULL, NULL);
}

char *
medchain_node_key_path(void)
{
	if (is_absolute_path(node_key_file_setting))
		return pstrdup(node_key_file_setting);
	return psprintf("%s/%s", DataDir, node_key_file_setting);
}

/* ---------- OpenSSL handles, released whatever happens ---------- */

/*
 * Everything one use of the key holds.  It lives in palloc'd memory that a
 * PG_FINALLY block frees, so an ereport() between two OpenSSL calls leaks
 * nothing and leaves no key material behind.
 */
typedef struct KeyUse
{
	char	   *file;			/* the key file's bytes */
	size_t		file_len;
	char	   *temp_path;		/* a key file being made, until linked */
	BIO		   *bio;
	EVP_PKEY   *pkey;
	EVP_PKEY_CTX *pctx;
	EVP_MD_CTX *mdctx;
} KeyUse;

static void
key_use_release(KeyUse *use)
{
	if (use->mdctx != NULL)
		EVP_MD_CTX_free(use->mdctx);
	if (use->pctx != NULL)
		EVP_PKEY_CTX_free(use->pctx);
	if (use->pkey != NULL)
		EVP_PKEY_free(use->pkey);
	if (use->bio != NULL)
		BIO_free(use->bio);
	if (use->file != NULL)
	{
		OPENSSL_cleanse(use->file, use->file_len);
		pfree(use->file);
	}
	if (use->temp_path != NULL)
		(void) unlink(use->temp_path);
	memset(use, 0, sizeof(KeyUse));
	ERR_clear_error();
}

/* OpenSSL's reason for the last failure, for an errdetail. */
static const char *
openssl_reason(void)
{
	unsigned long code = ERR_get_error();
	const char *reason = code != 0 ? ERR_reason_error_string(code) : NULL;

	return reason != NULL ? reason : "no reason given";
}

static void
openssl_failed(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("OpenSSL's %s failed", what),
			 errdetail("OpenSSL says: %s.", openssl_reason()),
			 errhint("Check the server's OpenSSL installation (version 1.1.1 or later has Ed25519).")));
}

/* ---------- reading the key file ---------- */

/*
 * The key file's bytes into use->file, after checking what it is and who
 * may read it; false if there is no file.
 */
static bool
key_file_read(const char *path, KeyUse *use)
{
	struct stat st;
	int			fd;
	int			save_errno;
	ssize_t		got = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
	{
		if (errno == ENOENT)
			return false;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open node key file \"%s\": %m", path),
				 errdetail("Blocks are signed with the private key in this file."),
				 errhint("The file must be readable by the server's operating system user.")));
	}
	if (fstat(fd, &st) != 0)
	{
		save_errno = errno;
		close(fd);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat node key file \"%s\": %m", path)));
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		(st.st_mode & (S_IRWXG | S_IRWXO)) != 0 || st.st_size > MC_NODE_KEY_FILE_MAX)
	{
		close(fd);
		if (!S_ISREG(st.st_mode))
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("node key file \"%s\" is not a regular file", path),
					 errdetail("medchain.node_key_file must name a file holding an Ed25519 private key."),
					 errhint("Set medchain.node_key_file to the key file's path.")));
		if (st.st_uid != geteuid())
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("node key file \"%s\" must be owned by the database user", path),
					 errdetail("Whoever owns the file can replace the key that signs this node's blocks."),
					 errhint("Give the file to the server's operating system user with chown.")));
		if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("node key file \"%s\" has group or world access", path),
					 errdetail("The file has permissions %04o; a private key must be readable by its owner only.",
							   (unsigned int) (st.st_mode & 07777)),
					 errhint("Run chmod 0600 on the file, and replace the key if others may have read it.")));
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("node key file \"%s\" is too large to be a key", path),
				 errdetail("The file has %lld bytes; an Ed25519 key in PEM form has about 120.",
						   (long long) st.st_size),
				 errhint("Set medchain.node_key_file to the key file's path.")));
	}

	use->file_len = st.st_size;
	use->file = palloc(use->file_len + 1);
	while (got < (ssize_t) use->file_len)
	{
		ssize_t		n = read(fd, use->file + got, use->file_len - got);

		if (n <= 0)
		{
			save_errno = n < 0 ? errno : EIO;
			close(fd);
			errno = save_errno;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read node key file \"%s\": %m", path)));
		}
		got += n;
	}
	close(fd);
	return true;
}

/* An encrypted key file needs a passphrase nobody is there to type. */
static int
no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	return -1;
}

/* The key in use->file into use->pkey; the file's bytes are wiped. */
static void
key_parse(const char *path, KeyUse *use)
{
	use->bio = BIO_new_mem_buf(use->file, (int) use->file_len);
	if (use->bio == NULL)
		openssl_failed("BIO_new_mem_buf");
	use->pkey = PEM_read_bio_PrivateKey(use->bio, NULL, no_passphrase, NULL);
	BIO_free(use->bio);
	use->bio = NULL;
	OPENSSL_cleanse(use->file, use->file_len);
	if (use->pkey == NULL || EVP_PKEY_base_id(use->pkey) != EVP_PKEY_ED25519)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("node key file \"%s\" does not hold an Ed25519 private key", path),
				 use->pkey == NULL ?
				 errdetail("OpenSSL could not read a PEM private key from it: %s.", openssl_reason()) :
				 errdetail("It holds a private key of another type."),
				 errhint("A node key is an unencrypted Ed25519 key in PEM PKCS#8 form, as \"openssl genpkey -algorithm ed25519\" writes it; move the file away to have a new key made.")));
}

/* ---------- making the key file ---------- */

static void
write_all(int fd, const char *path, const char *data, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = write(fd, data, len);

		if (n <= 0)
		{
			int			save_errno = n < 0 ? errno : ENOSPC;

			close(fd);
			errno = save_errno;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write node key file \"%s\": %m", path)));
		}
		data += n;
		len -= n;
	}
}

/* fsync the directory that holds path, so that the new name survives a crash. */
static void
fsync_parent(const char *path)
{
	char	   *dir = pstrdup(path);
	char	   *slash = strrchr(dir, '/');
	int			fd;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0 || fsync(fd) != 0)
	{
		int			save_errno = errno;

		if (fd >= 0)
			close(fd);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not flush directory \"%s\": %m", dir),
				 errdetail("The new node key file \"%s\" may not survive a crash.", path)));
	}
	close(fd);
}

/*
 * Make a new key and store it at path, unless another backend has stored
 * one first: then that one stays, and this one is thrown away.
 */
static void
key_file_create(const char *path, KeyUse *use)
{
	char	   *pem;
	long		pem_len;
	int			fd;
	int			attempt;

	use->pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (use->pctx == NULL || EVP_PKEY_keygen_init(use->pctx) != 1 ||
		EVP_PKEY_keygen(use->pctx, &use->pkey) != 1)
		openssl_failed("Ed25519 key generation");
	/* a memory BIO on the secure heap: wiped when freed */
	use->bio = BIO_new(BIO_s_secmem());
	if (use->bio == NULL ||
		PEM_write_bio_PKCS8PrivateKey(use->bio, use->pkey, NULL, NULL, 0, NULL, NULL) != 1)
		openssl_failed("PEM_write_bio_PKCS8PrivateKey");
	pem_len = BIO_get_mem_data(use->bio, &pem);

	/* the same name is left behind only by a crashed process of our pid */
	use->temp_path = psprintf("%s.%d.tmp", path, (int) MyProcPid);
	for (attempt = 0;; attempt++)
	{
		fd = open(use->temp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR);
		if (fd >= 0 || errno != EEXIST || attempt > 0)
			break;
		(void) unlink(use->temp_path);
	}
	if (fd < 0)
	{
		char	   *failed = use->temp_path;

		use->temp_path = NULL;	/* not ours to remove */
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create node key file \"%s\": %m", failed),
				 errdetail("This node has no key yet, and a new one is written there first."),
				 errhint("The directory of medchain.node_key_file must be writable by the server's operating system user.")));
	}
	/* the mode is what open() was given, whatever the umask left of it */
	if (fchmod(fd, S_IRUSR | S_IWUSR) != 0)
	{
		close(fd);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not set permissions of node key file \"%s\": %m", use->temp_path)));
	}
	write_all(fd, use->temp_path, pem, (size_t) pem_len);
	if (fsync(fd) != 0)
	{
		close(fd);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not flush node key file \"%s\": %m", use->temp_path)));
	}
	if (close(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close node key file \"%s\": %m", use->temp_path)));
	if (link(use->temp_path, path) != 0)
	{
		if (errno == EEXIST)
			return;				/* another backend's key won: use that one */
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not link node key file \"%s\" to \"%s\": %m",
						use->temp_path, path)));
	}
	(void) unlink(use->temp_path);
	pfree(use->temp_path);
	use->temp_path = NULL;
	fsync_parent(path);
	ereport(LOG,
			(errmsg("created node key file \"%s\"", path),
			 errdetail("Blocks sealed from now on are signed with this new Ed25519 key.")));
}

/* The node's key into use->pkey, made first if there is none. */
static void
key_load(KeyUse *use)
{
	char	   *path = medchain_node_key_path();

	if (!key_file_read(path, use))
	{
		key_file_create(path, use);
		key_use_release(use);
		if (!key_file_read(path, use))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("node key file \"%s\" vanished as it was made", path),
					 errdetail("Something removed the key file right after it was written."),
					 errhint("Check what else manages the directory of medchain.node_key_file.")));
	}
	key_parse(path, use);
}

static void
public_key_of(KeyUse *use, uint8 public_key[MC_SIGNER_KEY_LEN])
{
	size_t		len = MC_SIGNER_KEY_LEN;

	if (EVP_PKEY_get_raw_public_key(use->pkey, public_key, &len) != 1 ||
		len != MC_SIGNER_KEY_LEN)
		openssl_failed("EVP_PKEY_get_raw_public_key");
}

/* ---------- the API ---------- */

void
medchain_node_key_ensure(void)
{
	KeyUse	   *use = palloc0(sizeof(KeyUse));

	PG_TRY();
	{
		key_load(use);
	}
	PG_FINALLY();
	{
		key_use_release(use);
	}
	PG_END_TRY();
	pfree(use);
}

void
medchain_node_public_key(uint8 public_key[MC_SIGNER_KEY_LEN])
{
	KeyUse	   *use = palloc0(sizeof(KeyUse));

	PG_TRY();
	{
		key_load(use);
		public_key_of(use, public_key);
	}
	PG_FINALLY();
	{
		key_use_release(use);
	}
	PG_END_TRY();
	pfree(use);
}

void
medchain_key_fingerprint(const uint8 public_key[MC_SIGNER_KEY_LEN],
						 uint8 fingerprint[MC_HASH_LEN])
{
	mc_sha256(public_key, MC_SIGNER_KEY_LEN, fingerprint);
}

/* Sign a message with the loaded key; errors on failure. */
static void
key_sign(KeyUse *use, const uint8 *message, int len, uint8 signature[MC_SIGNATURE_LEN])
{
	size_t		siglen = MC_SIGNATURE_LEN;

	if (use->mdctx == NULL)
		use->mdctx = EVP_MD_CTX_new();
	/* Ed25519 hashes the message itself: no digest is named */
	if (use->mdctx == NULL ||
		EVP_DigestSignInit(use->mdctx, NULL, NULL, NULL, use->pkey) != 1 ||
		EVP_DigestSign(use->mdctx, signature, &siglen, message, len) != 1 ||
		siglen != MC_SIGNATURE_LEN)
		openssl_failed("Ed25519 signing");
}

void
medchain_node_sign_block(const uint8 public_key[MC_SIGNER_KEY_LEN],
						 const uint8 chain_id[MC_HASH_LEN], int64 height,
						 const uint8 block_hash[MC_HASH_LEN],
						 uint8 signature[MC_SIGNATURE_LEN])
{
	KeyUse	   *use = palloc0(sizeof(KeyUse));
	uint8		message[MC_SIGNED_MESSAGE_MAX_LEN];
	int			len = block_signed_message(SIGNED_BLOCK, chain_id, height, block_hash, message);

	PG_TRY();
	{
		uint8		current[MC_SIGNER_KEY_LEN];

		key_load(use);
		public_key_of(use, current);
		if (memcmp(current, public_key, MC_SIGNER_KEY_LEN) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the node key changed while the block was sealed"),
					 errdetail("The block names the key it was begun with, and medchain.node_key_file now holds another."),
					 errhint("Seal again.")));
		key_sign(use, message, len, signature);
	}
	PG_FINALLY();
	{
		key_use_release(use);
	}
	PG_END_TRY();
	pfree(use);
}

void
medchain_node_sign_receipts(const uint8 chain_id[MC_HASH_LEN], int n,
							const int64 *heights, const uint8 (*block_hashes)[MC_HASH_LEN],
							uint8 (*signatures)[MC_SIGNATURE_LEN],
							uint8 public_key[MC_SIGNER_KEY_LEN])
{
	KeyUse	   *use = palloc0(sizeof(KeyUse));

	PG_TRY();
	{
		int			i;

		key_load(use);
		public_key_of(use, public_key);
		for (i = 0; i < n; i++)
		{
			uint8		message[MC_SIGNED_MESSAGE_MAX_LEN];
			int			len = block_signed_message(SIGNED_RECEIPT, chain_id, heights[i],
												   block_hashes[i], message);

			CHECK_FOR_INTERRUPTS();
			key_sign(use, message, len, signatures[i]);
		}
	}
	PG_FINALLY();
	{
		key_use_release(use);
	}
	PG_END_TRY();
	pfree(use);
}

/*
 * Nothing here can raise an error, so the handles are freed on the one
 * way out.
 */
bool
medchain_signature_valid(SignedKind kind, const uint8 public_key[MC_SIGNER_KEY_LEN],
						 const uint8 chain_id[MC_HASH_LEN], int64 height,
						 const uint8 block_hash[MC_HASH_LEN],
						 const uint8 signature[MC_SIGNATURE_LEN])
{
	uint8		message[MC_SIGNED_MESSAGE_MAX_LEN];
	int			len = block_signed_message(kind, chain_id, height, block_hash, message);
	EVP_PKEY   *pkey;
	EVP_MD_CTX *mdctx;
	bool		valid = false;

	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key,
									   MC_SIGNER_KEY_LEN);
	mdctx = EVP_MD_CTX_new();
	if (pkey != NULL && mdctx != NULL &&
		EVP_DigestVerifyInit(mdctx, NULL, NULL, NULL, pkey) == 1)
		valid = EVP_DigestVerify(mdctx, signature, MC_SIGNATURE_LEN, message, len) == 1;
	EVP_MD_CTX_free(mdctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return valid;
}
