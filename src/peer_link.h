/*-------------------------------------------------------------------------
 *
 * peer_link.h
 *	  A libpq connection to a peer that never blocks the server: every
 *	  wait has a deadline, honours interrupts and ends with the postmaster.
 *
 * Whatever goes wrong on the network is an error message for the caller
 * to keep (peer_status, replicate_now), not an ERROR: one peer down must
 * not abort the round for the others.  Only an interrupt (SIGTERM, a
 * cancel) leaves by ereport; callers close the link in PG_FINALLY.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_PEER_LINK_H
#define MEDCHAIN_PEER_LINK_H

#include "postgres.h"

#include "libpq-fe.h"

typedef struct PeerLink
{
	PGconn	   *conn;
	int			timeout_ms;		/* for each step: connecting, each query */
	char	   *error;			/* the last failure, or NULL */
} PeerLink;

/*
 * Connect within timeout_ms.  The link is returned even on failure, with
 * link->error set and link->conn NULL; peer_link_close() is always due.
 */
extern PeerLink *peer_link_open(const char *conninfo, int timeout_ms);

/*
 * Run one query with binary parameters, binary results.  NULL on failure
 * (link->error says why, and the link is closed); else a result of
 * PGRES_TUPLES_OK, which the caller PQclear()s.
 */
extern PGresult *peer_link_query(PeerLink *link, const char *sql, int nparams,
								 const char *const *values, const int *lengths);

extern void peer_link_close(PeerLink *link);

/* The longest text of a peer's kept (errors, reasons), in bytes. */
#define MC_PEER_TEXT_MAX 1000

/*
 * Text a peer sent, fit to keep: in this database's encoding (else a
 * note saying it was not) and at most MC_PEER_TEXT_MAX bytes.
 */
extern char *peer_link_text(const char *text);

/*
 * Reading a binary answer, which is checked like anything a peer sends:
 * false, with the link failed and link->error set, when it is not what
 * was asked for.
 */
extern bool peer_link_shape_ok(PeerLink *link, PGresult *res, int ncols);
extern bool peer_link_int8(PeerLink *link, const PGresult *res, int row, int col, int64 *out);
extern bool peer_link_bytes(PeerLink *link, const PGresult *res, int row, int col,
							int len, uint8 *out);

#endif							/* MEDCHAIN_PEER_LINK_H */
