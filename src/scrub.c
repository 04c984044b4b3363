/*-------------------------------------------------------------------------
 *
 * scrub.c
 *	  A database's medchain scrubber: verify(), again and again, at a
 *	  bounded rate, with what it finds kept in medchain.findings.
 *
 * A pass checks each ledger table in turn, one step per table, each step
 * a transaction of its own that runs verify(tbl): that table's rows, and
 * every entry, block, signature and registration of the chain.  So each
 * step finds what verify() finds about the chain, and the pass as a whole
 * finds what verify() finds, with one snapshot per step: an insert or a
 * seal that commits during a step is not seen by it, which is why the
 * scrubber gives no false findings for them.  The tables are those the
 * journal's events or the registry say are ledger tables now, so a
 * registry row a superuser deleted does not hide a table; with no ledger
 * table, the step is verify() itself.  The position (the last table
 * checked) is kept in medchain.scrub_state after each step, so a restart
 * goes on where the pass was.  The tables are listed once, when a pass
 * begins (it reads the journal's events); a table enabled later waits for
 * the next pass, one dropped or released meanwhile is passed over.
 *
 * Each finding is kept once, by the hash of what it says: seen again, its
 * last_seen moves on; not seen during a whole pass, it is marked resolved.
 * A finding not seen before (or seen again after it was resolved) is
 * logged as a WARNING that names the finding, the relation, the row's key
 * and the entry and block, never a row's values.
 *
 * The scrubber works in one process (no parallel workers), paced by
 * pace.c at medchain.scrub_rate rows and entries per second.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "enablement.h"
#include "journal.h"
#include "pace.h"
#include "registry.h"
#include "security_scope.h"
#include "worker_cycle.h"

/* The step of a pass that checks the chain alone, when there is no ledger table. */
#define SCRUB_WHOLE_CHAIN "*"

/* A pause between passes, so that a small ledger is not read in a loop. */
#define SCRUB_PASS_PAUSE_MS 1000

/* New findings logged one by one per step; the rest are counted. */
#define SCRUB_WARNINGS_PER_STEP 20

typedef struct ScrubPosition
{
	char	   *last_checked;	/* NULL at the start of a pass */
	List	   *tables;			/* of char *: the pass's tables, fixed at its start */
} ScrubPosition;

static char *
spi_text(int row, int column)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static Datum
names_array(List *names)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(names), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, names)
		elems[n++] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* The relation of that name, if it exists and is a ledger table now. */
static Oid
current_ledger_table(Relation journal, const AttrNumber *attnums, const char *relation)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(relation)};
	bool		isnull;
	Oid			relid;
	LedgerHistory *history;

	medchain_spi_execute("SELECT pg_catalog.to_regclass($1)::pg_catalog.oid",
						 1, argtypes, args, true, 0, SPI_OK_SELECT, 1);
	relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
										   &isnull));
	if (isnull)
		return InvalidOid;
	history = ledger_history_load(journal, attnums, relation, GetActiveSnapshot());
	return (history->current != NULL || registry_active(relid, NULL)) ? relid : InvalidOid;
}

/*
 * The ledger tables now, by name in byte order: those the registry names,
 * and those whose history in the journal has a current enablement.  Read
 * once per pass, as it scans the journal's events.
 */
static List *
scrub_tables(void)
{
	List	   *candidates = NIL;
	List	   *tables = NIL;
	Relation	journal = table_open(medchain_journal_relid(), AccessShareLock);
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	ListCell   *lc;
	uint64		i;

	entry_columns_find(journal, attnums);
	medchain_spi_execute("SELECT r.relation"
						 "  FROM (SELECT relation FROM medchain.ledger_registry"
						 "         WHERE released_at IS NULL"
						 "        UNION"
						 "        SELECT relation FROM medchain.journal"
						 "         WHERE kind OPERATOR(pg_catalog.=) 'event'"
						 "           AND relation OPERATOR(pg_catalog.<>) 'medchain.blocks') r"
						 " ORDER BY r.relation COLLATE pg_catalog.\"C\"",
						 0, NULL, NULL, true, 0, SPI_OK_SELECT, -1);
	for (i = 0; i < SPI_processed; i++)
		candidates = lappend(candidates, spi_text(i, 1));
	foreach(lc, candidates)
	{
		CHECK_FOR_INTERRUPTS();
		if (OidIsValid(current_ledger_table(journal, attnums, lfirst(lc))))
			tables = lappend(tables, lfirst(lc));
	}
	table_close(journal, AccessShareLock);
	return tables;
}

/* Where the pass is; a pass is begun, with its tables, if none is under way. */
static ScrubPosition
position_load(void)
{
	ScrubPosition pos;
	bool		in_pass;
	bool		isnull;
	Datum		tables;

	medchain_spi_execute("INSERT INTO medchain.scrub_state DEFAULT VALUES ON CONFLICT DO NOTHING",
						 0, NULL, NULL, false, 0, SPI_OK_INSERT, -1);
	medchain_spi_execute("SELECT pass_started_at IS NOT NULL AND pass_tables IS NOT NULL,"
						 "       last_checked, pass_tables FROM medchain.scrub_state",
						 0, NULL, NULL, false, 0, SPI_OK_SELECT, 1);
	in_pass = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
										 &isnull));
	pos.last_checked = spi_text(0, 2);
	tables = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	if (in_pass)
	{
		pos.tables = text_array_to_list(tables);
		return pos;
	}
	pos.last_checked = NULL;
	pos.tables = scrub_tables();
	{
		Oid			argtypes[2] = {TEXTARRAYOID, INT4OID};
		Datum		args[2] = {names_array(pos.tables), Int32GetDatum(list_length(pos.tables))};

		medchain_spi_execute("UPDATE medchain.scrub_state"
							 "   SET pass = pass OPERATOR(pg_catalog.+) 1,"
							 "       pass_started_at = pg_catalog.now(), last_checked = NULL,"
							 "       pass_tables = $1, tables_total = $2,"
							 "       tables_checked = 0, rows_checked = 0",
							 2, argtypes, args, false, 0, SPI_OK_UPDATE, 1);
	}
	return pos;
}

/* The step after `last`: the next table, the whole chain, or NULL at the end. */
static const char *
next_step(List *tables, const char *last)
{
	ListCell   *lc;

	if (tables == NIL)
		return last == NULL ? SCRUB_WHOLE_CHAIN : NULL;
	foreach(lc, tables)
		if (last == NULL || strcmp(lfirst(lc), last) > 0)
			return lfirst(lc);
	return NULL;
}

static void
log_new_findings(const char *step)
{
	uint64		i;
	int64		more;
	bool		isnull;

	for (i = 0; i < SPI_processed; i++)
	{
		char	   *relation = spi_text(i, 2);
		char	   *row_key = spi_text(i, 3);
		char	   *entry_id = spi_text(i, 4);
		char	   *block_height = spi_text(i, 5);

		ereport(WARNING,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("medchain scrubber found %s", spi_text(i, 1)),
				 errdetail("Relation %s, row key %s, entry %s, block %s.",
						   relation ? relation : "(none)", row_key ? row_key : "(none)",
						   entry_id ? entry_id : "(none)",
						   block_height ? block_height : "(none)"),
				 errhint("See medchain.findings; medchain.verify() gives the details.")));
	}
	more = SPI_processed > 0 ?
		DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6, &isnull)) -
		(int64) SPI_processed : 0;
	if (more > 0)
		ereport(WARNING,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("medchain scrubber found %lld more new findings while checking %s",
						(long long) more, step),
				 errhint("See medchain.findings.")));
}

/*
 * Check one step: verify(tbl), or verify() for the whole chain; keep its
 * findings, log the new ones.  Returns the rows and entries checked.
 */
static int64
scrub_step(const char *step, Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};

	pgstat_report_activity(STATE_RUNNING, psprintf("scrubbing %s", step));
	medchain_pace_begin();
	medchain_spi_execute("WITH found AS ("
						 "  SELECT DISTINCT ON (finding_id) v.*, f.finding_id"
						 "    FROM medchain.verify(CASE WHEN $1 OPERATOR(pg_catalog.<>) 0::pg_catalog.oid"
						 "                              THEN $1::pg_catalog.regclass END) v,"
						 "         LATERAL (SELECT pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.format("
						 "                 '%L %L %L %L %L %L', v.finding, v.relation, v.row_key,"
						 "                 v.entry_id, v.block_height, v.detail), 'UTF8')) AS finding_id) f),"
						 " kept AS ("
						 "  INSERT INTO medchain.findings AS k (finding_id, finding, relation, row_key,"
						 "         entry_id, block_height, detail, first_seen, last_seen, reported_at)"
						 "  SELECT finding_id, finding, relation, row_key, entry_id, block_height, detail,"
						 "         pg_catalog.now(), pg_catalog.now(), pg_catalog.now() FROM found"
						 "  ON CONFLICT (finding_id) DO UPDATE"
						 "     SET last_seen = pg_catalog.now(), resolved_at = NULL,"
						 "         reported_at = CASE WHEN k.resolved_at IS NULL THEN k.reported_at"
						 "                            ELSE pg_catalog.now() END"
						 "  RETURNING k.finding, k.relation, k.row_key, k.entry_id, k.block_height,"
						 "            k.reported_at OPERATOR(pg_catalog.=) pg_catalog.now() AS is_new)"
						 " SELECT finding, relation, row_key::pg_catalog.text, entry_id::pg_catalog.text,"
						 "        block_height::pg_catalog.text,"
						 "        (SELECT pg_catalog.count(*) FROM kept WHERE is_new)"
						 "   FROM kept WHERE is_new"
						 "  ORDER BY relation, entry_id, finding LIMIT " CppAsString2(SCRUB_WARNINGS_PER_STEP),
						 1, argtypes, args, false, 0, SPI_OK_SELECT, -1);
	log_new_findings(step);
	return medchain_pace_end();
}

static void
position_save(const char *step, int64 rows)
{
	Oid			argtypes[2] = {TEXTOID, INT8OID};
	Datum		args[2] = {CStringGetTextDatum(step), Int64GetDatum(rows)};

	medchain_spi_execute("UPDATE medchain.scrub_state"
						 "   SET last_checked = $1,"
						 "       tables_checked = tables_checked OPERATOR(pg_catalog.+) 1,"
						 "       rows_checked = rows_checked OPERATOR(pg_catalog.+) $2",
						 2, argtypes, args, false, 0, SPI_OK_UPDATE, 1);
}

/* The pass is over: what it did not see again is resolved. */
static void
pass_finish(void)
{
	medchain_spi_execute("UPDATE medchain.findings SET resolved_at = pg_catalog.now()"
						 " WHERE resolved_at IS NULL"
						 "   AND last_seen OPERATOR(pg_catalog.<)"
						 "       (SELECT pass_started_at FROM medchain.scrub_state)",
						 0, NULL, NULL, false, 0, SPI_OK_UPDATE, -1);
	medchain_spi_execute("UPDATE medchain.scrub_state"
						 "   SET last_pass_started_at = pass_started_at,"
						 "       last_pass_finished_at = pg_catalog.now(),"
						 "       last_pass_rows = rows_checked,"
						 "       pass_started_at = NULL, last_checked = NULL, pass_tables = NULL",
						 0, NULL, NULL, false, 0, SPI_OK_UPDATE, 1);
}

static long
scrub_cycle(void)
{
	ScrubPosition pos;
	const char *step;
	int64		rows = 0;

	if (medchain_scrub_rate() == 0)
		return 3600 * 1000L;	/* off: a reload that turns it on sets the latch */
	pos = position_load();
	step = next_step(pos.tables, pos.last_checked);
	if (step == NULL)
	{
		pass_finish();
		return SCRUB_PASS_PAUSE_MS;
	}
	if (strcmp(step, SCRUB_WHOLE_CHAIN) == 0)
		rows = scrub_step(step, InvalidOid);
	else
	{
		/* a table dropped or released since the pass began is passed over */
		Relation	journal = table_open(medchain_journal_relid(), AccessShareLock);
		AttrNumber	attnums[MC_ENTRY_COLUMNS];
		Oid			relid;

		entry_columns_find(journal, attnums);
		relid = current_ledger_table(journal, attnums, step);
		table_close(journal, AccessShareLock);
		if (OidIsValid(relid))
			rows = scrub_step(step, relid);
	}
	position_save(step, rows);
	return 0;
}

void
medchain_scrubber_main(Datum arg)
{
	/* the scrubber works in one process: no parallel workers of its own */
	SetConfigOption("max_parallel_workers_per_gather", "0", PGC_SUSET, PGC_S_OVERRIDE);
	worker_run(arg, WORKER_SCRUBBER, scrub_cycle);
}
