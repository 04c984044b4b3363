/*-------------------------------------------------------------------------
 *
 * peers.c
 *	  medchain.add_peer() and medchain.remove_peer(): the nodes this one
 *	  replicates its blocks to and keeps copies of.
 *
 * A peer is identified by its Ed25519 public key, as a block names its
 * node: the name is a label unique on this node, and any node can claim
 * any name.  The conninfo is checked with libpq's own parser when the
 * peer is added, so that a typing error shows then rather than in the
 * worker's log; a password belongs in a passfile or a client certificate,
 * not in the conninfo, which medchain_admin can read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "libpq-fe.h"
#include "utils/builtins.h"

#include "block.h"
#include "evidence_json.h"
#include "node_key.h"
#include "journal.h"
#include "peers.h"
#include "privileges.h"
#include "security_scope.h"

PG_FUNCTION_INFO_V1(medchain_add_peer);
PG_FUNCTION_INFO_V1(medchain_remove_peer);

static void
check_peer_name(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0 || len >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid peer name \"%s\"", name),
				 errdetail("A peer name is 1 to %d bytes long.", NAMEDATALEN - 1),
				 errhint("Name the peer as its operators name it, for example its hospital.")));
}

static void
check_conninfo(const char *conninfo)
{
	char	   *message = NULL;
	PQconninfoOption *options = PQconninfoParse(conninfo, &message);
	PQconninfoOption *option;
	bool		has_password = false;

	if (options == NULL)
	{
		char	   *detail = pstrdup(message != NULL ? message : "out of memory");
		size_t		len = strlen(detail);

		PQfreemem(message);
		/* libpq ends its message with a newline */
		while (len > 0 && detail[len - 1] == '\n')
			detail[--len] = '\0';
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid peer conninfo"),
				 errdetail("libpq says: %s.", detail),
				 errhint("Give a libpq connection string, such as \"host=peer.example port=5432 dbname=ehr user=medchain_peer_login\".")));
	}
	for (option = options; option->keyword != NULL; option++)
		if (strcmp(option->keyword, "password") == 0 && option->val != NULL &&
			option->val[0] != '\0')
			has_password = true;
	PQconninfoFree(options);
	if (has_password)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a peer conninfo may not hold a password"),
				 errdetail("medchain.peers is readable by medchain_admin, and a password there would be readable too."),
				 errhint("Put the password in the server's passfile (passfile=...) or use a client certificate (sslcert, sslkey).")));
}

static void
public_key_from_hex(const char *hex, uint8 key[MC_SIGNER_KEY_LEN])
{
	int			len;

	if (strlen(hex) != 2 * MC_SIGNER_KEY_LEN ||
		!hex_to_bytes(hex, 2 * MC_SIGNER_KEY_LEN, key, &len) || len != MC_SIGNER_KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid peer public key \"%s\"", hex),
				 errdetail("A public key is a raw Ed25519 key of 32 bytes: 64 hex digits."),
				 errhint("On the peer, medchain.node_identity()->>'public_key' gives it.")));
}

/*
 * Write medchain.peers as its owner: medchain_admin may only read it, so
 * that nothing but these functions, and their checks, writes a peer.
 */
static void
peers_write(const char *sql, int nargs, Oid *types, Datum *args)
{
	OwnerScope	scope;
	int			rc;

	medchain_become_owner(medchain_relation("peers"), &scope);
	rc = SPI_execute_with_args(sql, nargs, types, args, NULL, false, 0);
	medchain_leave_owner(&scope);
	if (rc != SPI_OK_INSERT && rc != SPI_OK_DELETE)
		elog(ERROR, "medchain query failed (%s): %s", SPI_result_code_string(rc), sql);
}

/* The name of the peer that already holds this name or this key, or NULL. */
static char *
peer_holding(const char *name, bytea *node_id, bool *same_key)
{
	Oid			types[2] = {TEXTOID, BYTEAOID};
	Datum		args[2] = {CStringGetTextDatum(name), PointerGetDatum(node_id)};
	char	   *holder = NULL;

	medchain_spi_execute("SELECT name, node_id OPERATOR(pg_catalog.=) $2 FROM medchain.peers"
						 " WHERE name OPERATOR(pg_catalog.=) $1"
						 "    OR node_id OPERATOR(pg_catalog.=) $2",
						 2, types, args, true, 0, SPI_OK_SELECT, -1);
	if (SPI_processed > 0)
	{
		bool		isnull;

		holder = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		*same_key = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
											   &isnull));
	}
	return holder;
}

/*
 * medchain.add_peer(name text, conninfo text, public_key text) RETURNS text
 *
 * Registers a peer; returns the fingerprint of its key (hex), its id.
 */
Datum
medchain_add_peer(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *conninfo = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *key_hex = text_to_cstring(PG_GETARG_TEXT_PP(2));
	uint8		key[MC_SIGNER_KEY_LEN];
	uint8		own_key[MC_SIGNER_KEY_LEN];
	uint8		fingerprint[MC_HASH_LEN];
	bytea	   *node_id;
	char	   *holder;
	bool		same_key = false;
	Oid			types[4] = {TEXTOID, BYTEAOID, BYTEAOID, TEXTOID};
	Datum		args[4];

	require_admin("add peers");
	check_peer_name(name);
	check_conninfo(conninfo);
	public_key_from_hex(key_hex, key);
	medchain_node_public_key(own_key);
	if (memcmp(key, own_key, MC_SIGNER_KEY_LEN) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("public key %s is this node's own key", key_hex),
				 errdetail("A node does not replicate to itself."),
				 errhint("Give the key that medchain.node_identity() returns on the peer.")));
	medchain_key_fingerprint(key, fingerprint);
	node_id = mc_bytes_to_bytea(fingerprint, MC_HASH_LEN);

	SPI_connect();
	holder = peer_holding(name, node_id, &same_key);
	if (holder != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 same_key && strcmp(holder, name) != 0 ?
				 errmsg("the key of peer \"%s\" is already registered as peer \"%s\"", name, holder) :
				 errmsg("peer \"%s\" already exists", name),
				 errdetail("A peer is known by one name and one key."),
				 errhint("Remove the peer with medchain.remove_peer() first to replace it.")));
	args[0] = CStringGetTextDatum(name);
	args[1] = PointerGetDatum(mc_bytes_to_bytea(key, MC_SIGNER_KEY_LEN));
	args[2] = PointerGetDatum(node_id);
	args[3] = CStringGetTextDatum(conninfo);
	peers_write("INSERT INTO medchain.peers (name, public_key, node_id, conninfo)"
				" VALUES ($1, $2, $3, $4)"
				" ON CONFLICT DO NOTHING",
				4, types, args);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("peer \"%s\" was added by another session meanwhile", name),
				 errdetail("A peer is known by one name and one key."),
				 errhint("Look at medchain.peers, and remove the peer first to replace it.")));
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(mc_hex(fingerprint, MC_HASH_LEN)));
}

/*
 * medchain.remove_peer(name text) RETURNS void
 *
 * Forgets a peer: nothing more is sent to it or accepted from it.  The
 * copies of its chain and the evidence about it stay.
 */
Datum
medchain_remove_peer(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};

	require_admin("remove peers");
	SPI_connect();
	peers_write("DELETE FROM medchain.peers WHERE name OPERATOR(pg_catalog.=) $1",
				1, types, args);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("peer \"%s\" does not exist", name),
				 errdetail("medchain.peers has no peer of that name."),
				 errhint("medchain.peers lists the peers by name.")));
	SPI_finish();
	PG_RETURN_VOID();
}

static void
copy_bytes(HeapTuple tuple, TupleDesc desc, int col, uint8 *out, int len)
{
	bool		isnull;
	bytea	   *value = DatumGetByteaPP(SPI_getbinval(tuple, desc, col, &isnull));

	if (isnull || VARSIZE_ANY_EXHDR(value) != len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a row of medchain.peers has a key or node id of the wrong size"),
				 errdetail("Keys and node ids are 32 bytes."),
				 errhint("Remove the peer and add it again with medchain.add_peer().")));
	memcpy(out, VARDATA_ANY(value), len);
}

List *
peers_load(void)
{
	List	   *peers = NIL;
	uint64		i;

	medchain_spi_execute("SELECT name, node_id, public_key, conninfo FROM medchain.peers ORDER BY name",
						 0, NULL, NULL, false, 0, SPI_OK_SELECT, -1);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Peer	   *peer = palloc0(sizeof(Peer));

		peer->name = SPI_getvalue(tuple, desc, 1);
		copy_bytes(tuple, desc, 2, peer->node_id, MC_HASH_LEN);
		copy_bytes(tuple, desc, 3, peer->public_key, MC_SIGNER_KEY_LEN);
		peer->conninfo = SPI_getvalue(tuple, desc, 4);
		peers = lappend(peers, peer);
	}
	return peers;
}
