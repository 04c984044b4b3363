/*-------------------------------------------------------------------------
 *
 * peer_link.c
 *	  Talking to a peer over libpq without ever blocking the server.
 *
 * PostgreSQL 15 has no backend wrappers for libpq (libpq-be-fe-helpers.h
 * came with 16), so this file does what dblink and postgres_fdw do: the
 * connection is made with PQconnectStartParams() and PQconnectPoll(), the
 * socket is non-blocking, and every wait is a WaitLatchOrSocket() that
 * wakes on the process latch, so that SIGTERM and a cancel are honoured
 * at once, and that ends at a deadline, so that a peer that accepts the
 * connection and never answers costs at most the timeout.  TCP keepalives
 * are on, so that a peer that vanishes mid-query is noticed by the kernel
 * as well.
 *
 * A peer's login must not be a superuser: the peer's conninfo is written
 * by medchain_admin, and a connection made by the server's operating
 * system user could otherwise authenticate as a superuser by peer or
 * passfile without the admin knowing any password.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/pg_bswap.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "peer_link.h"

typedef enum LinkWait
{
	LINK_READY,					/* the socket is ready */
	LINK_WOKEN,					/* the latch: wait again */
	LINK_TIMED_OUT
} LinkWait;

char *
peer_link_text(const char *text)
{
	int			len = strlen(text);

	if (!pg_verifymbstr(text, len, true))
		return pstrdup("(text not in this database's encoding)");
	return pnstrdup(text, pg_mbcliplen(text, len, MC_PEER_TEXT_MAX));
}

static void
link_fail(PeerLink *link, const char *message)
{
	char	   *copy = peer_link_text(message);
	int			len = strlen(copy);

	/* libpq's messages end in a newline */
	while (len > 0 && (copy[len - 1] == '\n' || copy[len - 1] == ' '))
		copy[--len] = '\0';
	link->error = copy;
	if (link->conn != NULL)
	{
		PQfinish(link->conn);
		link->conn = NULL;
	}
}

static LinkWait
link_wait(PeerLink *link, int io, TimestampTz deadline)
{
	long		remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
	int			rc;

	if (remaining <= 0)
		return LINK_TIMED_OUT;
	rc = WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH | io,
						   PQsocket(link->conn), remaining, PG_WAIT_EXTENSION);
	if (rc & WL_LATCH_SET)
	{
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	if (rc & io)
		return LINK_READY;
	return LINK_WOKEN;
}

static TimestampTz
deadline_after(int timeout_ms)
{
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
}

PeerLink *
peer_link_open(const char *conninfo, int timeout_ms)
{
	/* the conninfo comes last: what it says wins over these defaults */
	static const char *const keywords[] = {
		"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
		"application_name", "dbname", "client_encoding", NULL
	};
	/* the peer's text (errors, reasons) comes in this database's encoding */
	const char *values[] = {"1", "30", "10", "3", "medchain", conninfo,
	GetDatabaseEncodingName(), NULL};
	PeerLink   *link = palloc0(sizeof(PeerLink));
	TimestampTz deadline = deadline_after(timeout_ms);
	PostgresPollingStatusType polled = PGRES_POLLING_WRITING;

	link->timeout_ms = timeout_ms;
	link->conn = PQconnectStartParams(keywords, values, 1);
	if (link->conn == NULL)
	{
		link_fail(link, "out of memory");
		return link;
	}
	if (PQstatus(link->conn) == CONNECTION_BAD)
	{
		link_fail(link, PQerrorMessage(link->conn));
		return link;
	}
	/* a cancel or SIGTERM while connecting must not leave the socket open */
	PG_TRY();
	{
		while (polled != PGRES_POLLING_OK && polled != PGRES_POLLING_FAILED)
		{
			LinkWait	waited = link_wait(link, polled == PGRES_POLLING_READING ?
										   WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE, deadline);

			if (waited == LINK_TIMED_OUT)
				break;
			if (waited == LINK_READY)
				polled = PQconnectPoll(link->conn);
		}
	}
	PG_CATCH();
	{
		PQfinish(link->conn);
		link->conn = NULL;
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (polled != PGRES_POLLING_OK && polled != PGRES_POLLING_FAILED)
	{
		link_fail(link, psprintf("no connection within %d ms", timeout_ms));
		return link;
	}
	if (polled == PGRES_POLLING_FAILED)
		link_fail(link, PQerrorMessage(link->conn));
	else if (PQsetnonblocking(link->conn, 1) != 0)
		link_fail(link, PQerrorMessage(link->conn));
	else if (strcmp(PQparameterStatus(link->conn, "is_superuser") ? : "on", "off") != 0)
		link_fail(link, "the peer's login is a superuser: a peer connects with a role that is a member of medchain_peer and nothing more");
	return link;
}

/* Send what libpq has buffered; false on failure or timeout. */
static bool
link_flush(PeerLink *link, TimestampTz deadline)
{
	int			pending;

	while ((pending = PQflush(link->conn)) == 1)
	{
		LinkWait	waited = link_wait(link, WL_SOCKET_WRITEABLE | WL_SOCKET_READABLE, deadline);

		if (waited == LINK_TIMED_OUT)
		{
			link_fail(link, psprintf("the peer took no data for %d ms", link->timeout_ms));
			return false;
		}
		/* the server may answer before it has read everything */
		if (waited == LINK_READY && !PQconsumeInput(link->conn))
		{
			link_fail(link, PQerrorMessage(link->conn));
			return false;
		}
	}
	if (pending < 0)
	{
		link_fail(link, PQerrorMessage(link->conn));
		return false;
	}
	return true;
}

/* Wait for the whole answer; false on failure or timeout. */
static bool
link_await(PeerLink *link, TimestampTz deadline)
{
	while (PQisBusy(link->conn))
	{
		LinkWait	waited = link_wait(link, WL_SOCKET_READABLE, deadline);

		if (waited == LINK_TIMED_OUT)
		{
			link_fail(link, psprintf("no answer from the peer within %d ms", link->timeout_ms));
			return false;
		}
		if (waited == LINK_READY && !PQconsumeInput(link->conn))
		{
			link_fail(link, PQerrorMessage(link->conn));
			return false;
		}
	}
	return true;
}

PGresult *
peer_link_query(PeerLink *link, const char *sql, int nparams,
				const char *const *values, const int *lengths)
{
	TimestampTz deadline = deadline_after(link->timeout_ms);
	int		   *formats = palloc(sizeof(int) * Max(nparams, 1));
	PGresult   *kept = NULL;
	PGresult   *res;
	int			i;

	if (link->conn == NULL)
		return NULL;
	for (i = 0; i < nparams; i++)
		formats[i] = 1;
	if (!PQsendQueryParams(link->conn, sql, nparams, NULL, values, lengths, formats, 1))
	{
		link_fail(link, PQerrorMessage(link->conn));
		return NULL;
	}
	if (!link_flush(link, deadline))
		return NULL;
	/* one statement: one result, then NULL; the first failure is the one */
	for (;;)
	{
		if (!link_await(link, deadline))
		{
			PQclear(kept);
			return NULL;
		}
		res = PQgetResult(link->conn);
		if (res == NULL)
			break;
		/* a COPY never ends with NULL: no query of medchain's starts one */
		if (PQresultStatus(res) == PGRES_COPY_IN || PQresultStatus(res) == PGRES_COPY_OUT ||
			PQresultStatus(res) == PGRES_COPY_BOTH)
		{
			PQclear(res);
			PQclear(kept);
			link_fail(link, "the peer answered with a COPY");
			return NULL;
		}
		if (kept == NULL)
			kept = res;
		else
			PQclear(res);
	}
	if (kept == NULL || PQresultStatus(kept) != PGRES_TUPLES_OK)
	{
		const char *message = kept != NULL ? PQresultErrorMessage(kept) : PQerrorMessage(link->conn);

		link_fail(link, message[0] != '\0' ? message : "the peer's answer was not rows");
		PQclear(kept);
		return NULL;
	}
	return kept;
}

void
peer_link_close(PeerLink *link)
{
	if (link != NULL && link->conn != NULL)
	{
		PQfinish(link->conn);
		link->conn = NULL;
	}
}

/*
 * A peer's answer is checked like anything else it sends: the columns
 * expected and values of the sizes their types have.
 */
bool
peer_link_shape_ok(PeerLink *link, PGresult *res, int ncols)
{
	if (PQnfields(res) == ncols)
		return true;
	link_fail(link, psprintf("the peer answered with %d columns, not %d: is medchain on it at this node's version?",
							 PQnfields(res), ncols));
	return false;
}

bool
peer_link_int8(PeerLink *link, const PGresult *res, int row, int col, int64 *out)
{
	uint64		v;

	if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != sizeof(v))
	{
		link_fail(link, psprintf("the peer's answer has a malformed bigint in column %d", col + 1));
		return false;
	}
	memcpy(&v, PQgetvalue(res, row, col), sizeof(v));
	*out = (int64) pg_ntoh64(v);
	return true;
}

bool
peer_link_bytes(PeerLink *link, const PGresult *res, int row, int col, int len, uint8 *out)
{
	if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != len)
	{
		link_fail(link, psprintf("the peer's answer has no value of %d bytes in column %d", len, col + 1));
		return false;
	}
	memcpy(out, PQgetvalue(res, row, col), len);
	return true;
}
