-- compliance_report() and compliance_report_text(): what a compliance
-- officer files.  A database of its own, so that every table and count
-- of the report is known here.
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_compliance;
\c regress_compliance
CREATE EXTENSION medchain;
SET medchain.difficulty = 8;

-- Nothing enabled, nothing sealed: clean, and nothing to digest yet.
SELECT r->>'report' AS report, r->>'verdict' AS verdict, r->'open_findings' AS open_findings,
	   r->'findings' AS findings, r->'ledger_tables' AS ledger_tables,
	   r->'chain'->'height' AS height, r->'chain'->'entries_pending' AS pending,
	   r->'digest' AS digest, r->'network' AS network, r->'database' AS database,
	   r->>'extension_version' = (SELECT extversion FROM pg_extension WHERE extname = 'medchain') AS version
  FROM medchain.compliance_report() r;

CREATE SCHEMA ward;
CREATE TABLE ward.labs (id int PRIMARY KEY, test text, value numeric);
INSERT INTO ward.labs SELECT i, 'HbA1c', 5 + i / 10.0 FROM generate_series(1, 8) i;
SELECT medchain.enable('ward.labs');
INSERT INTO ward.labs VALUES (9, 'LDL', 101);
CREATE TABLE ward.notes (id int PRIMARY KEY, note text);
SELECT medchain.enable('ward.notes');
INSERT INTO ward.notes VALUES (1, 'first note');
SELECT medchain.disable('ward.notes', 'moved to the notes service') > 0 AS released;

CREATE VIEW public.tables_reported AS
SELECT t.relation, t.state, t.key_columns, t.enabled_by = session_user AS enabled_by_me, t.released_by IS NOT NULL AS released_by,
	   t.release_reason, t.rows_recorded, t.entries, t.sealed, t.pending,
	   t.oldest_pending_at IS NOT DISTINCT FROM (SELECT min(e.recorded_at) FROM medchain.entries e
												  WHERE e.relation = t.relation AND e.block_height IS NULL) AS oldest_pending_at_agrees
  FROM medchain.compliance_report() r,
	   jsonb_to_recordset(r->'ledger_tables') AS t(relation text, state text, key_columns text[], enabled_by name,
			released_by name, release_reason text, rows_recorded bigint, entries bigint, sealed bigint, pending bigint,
			oldest_pending_at timestamptz);

-- Pending: every entry waits, the released table's too.
SELECT * FROM public.tables_reported;
SELECT r->'chain'->'height' AS height, r->'chain'->'entries_sealed' AS sealed, r->'chain'->'entries_pending' AS pending,
	   (r->'chain'->>'oldest_pending_at')::timestamptz = (SELECT min(recorded_at) FROM medchain.entries) AS oldest_agrees,
	   r->'digest' AS digest
  FROM medchain.compliance_report() r;

-- Sealed, then one more row pending.
SELECT medchain.seal() AS block \gset
INSERT INTO ward.labs VALUES (10, 'eGFR', 72);
SELECT * FROM public.tables_reported;
-- The chain, the node and the digest are those the source functions give.
SELECT r->'chain'->'height' = to_jsonb(:block) AS height,
	   r->'chain'->>'head_hash' = (SELECT encode(block_hash, 'hex') FROM medchain.blocks WHERE height = :block) AS head_hash,
	   (r->'chain'->>'head_sealed_at')::timestamptz = (SELECT sealed_at FROM medchain.blocks WHERE height = :block) AS sealed_at,
	   r->'chain'->'difficulty' AS difficulty,
	   r->'chain'->'entries_sealed' = to_jsonb((SELECT sum(entry_count) FROM medchain.blocks)) AS entries_sealed,
	   r->'chain'->'entries_pending' AS pending,
	   r->'chain'->'signers'->0->>'public_key' = medchain.node_identity()->>'public_key' AS signer,
	   r->'chain'->'signers'->0->>'fingerprint' = medchain.node_identity()->>'fingerprint' AS fingerprint,
	   r->'chain'->'signers'->0->'blocks' AS signed_blocks,
	   r->'chain'->'sealing_halt' AS sealing_halt,
	   r->'node' = medchain.node_identity() AS node,
	   r->'digest' = medchain.digest() AS digest,
	   medchain.verify_digest(r->'digest') AS digest_holds,
	   (r->>'generated_at')::timestamptz = statement_timestamp() AS generated_at,
	   r->'generated_by' = jsonb_build_object('session_user', session_user, 'current_user', current_user,
											  'sees_every_table', true) AS generated_by,
	   (r->'findings_source') - 'max_scrub_age' AS findings_source,
	   r->'findings_source'->'max_scrub_age' AS max_scrub_age
  FROM medchain.compliance_report() r;
-- Times are in UTC, whatever the session's time zone.
SET TimeZone = 'America/New_York';
SELECT r->>'generated_at' ~ '^\d{4}-\d\d-\d\dT[0-9:.]+\+00:00$' AS generated_at_utc,
	   r->'chain'->>'head_sealed_at' ~ '\+00:00$' AS sealed_at_utc
  FROM medchain.compliance_report() r;
RESET TimeZone;

-- A superuser's tamper around the guards: the report names the finding
-- and its row, entry and block, as verify() does.
SELECT entry_id AS e5 FROM medchain.entries WHERE relation = 'ward.labs' AND row_key = '{"id": 5}' \gset
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE ward.labs DISABLE TRIGGER medchain_append_only;
UPDATE ward.labs SET value = 4.2 WHERE id = 5;
SELECT r->>'verdict' AS verdict, r->'open_findings' AS open_findings, r->'findings_by_kind' AS by_kind,
	   f.finding, f.relation, f.row_key, f.entry_id = :e5 AS entry_e5, f.block_height = :block AS in_block, f.detail
  FROM medchain.compliance_report() r,
	   jsonb_to_recordset(r->'findings') AS f(finding text, relation text, row_key jsonb, entry_id bigint,
											  block_height bigint, detail text);
SELECT (SELECT jsonb_agg(to_jsonb(v.*) ORDER BY v.relation, v.entry_id) FROM medchain.verify() v) = r->'findings'
		 AS same_as_verify
  FROM medchain.compliance_report() r;
ROLLBACK;
-- Put back: clean again.
SELECT r->>'verdict' AS verdict, r->'findings' AS findings FROM medchain.compliance_report() r;

-- The text to file, as the auditor writes it: times, hashes, entry ids
-- and the node's name masked, runs of spaces shortened.
CREATE FUNCTION public.masked(t text) RETURNS text LANGUAGE sql
SET search_path = pg_catalog AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(t,
		'\d{4}-\d\d-\d\dT[0-9:.]+(Z|\+00:00)', 'TIME', 'g'),
		'[0-9a-f]{64,}', 'HASH', 'g'),
		'node-\d+', 'NODE', 'g'),
		'entry \d+', 'entry N', 'g'),
		'(\S)  +', '\1  ', 'g')
$$;
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE ward.labs DISABLE TRIGGER ALL;
UPDATE ward.labs SET value = 4.2 WHERE id = 5;
DELETE FROM ward.labs WHERE id = 10;
SET LOCAL SESSION AUTHORIZATION regress_auditor;
\a \t
SELECT public.masked(medchain.compliance_report_text());
\a \t
ROLLBACK;
SET SESSION AUTHORIZATION regress_auditor;
\a \t
SELECT public.masked(medchain.compliance_report_text());
-- The tables are aligned: the ledger tables as they are printed.
SELECT regexp_replace(substring(medchain.compliance_report_text() FROM '\nLedger tables\n-+\n([^\n]+(\n[^\n]+)*)'),
					  '\d{4}-\d\d-\d\dT[0-9:.]+\+00:00', 'TIME', 'g') AS ledger_tables;
\a \t
RESET SESSION AUTHORIZATION;

-- Who may run it: auditors and admins, as verify() and digest().  An
-- admin who is no auditor sees the tables it may read, and is told so.
SET SESSION AUTHORIZATION regress_clinician;
SELECT medchain.compliance_report();
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.compliance_report_text();
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_stranger;
SELECT medchain.compliance_report_text('0');
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_dba;
SELECT r->>'verdict' AS verdict, r->'generated_by' AS generated_by, r->'ledger_tables' AS ledger_tables,
	   r->'chain'->'entries_sealed' AS entries_sealed
  FROM medchain.compliance_report() r;
SELECT substring(medchain.compliance_report_text() FROM '\n(Note: [^\n]*)') AS note;
RESET SESSION AUTHORIZATION;

-- Under a hostile search_path the report is the same: every name it uses
-- is qualified, its own search_path pinned.
CREATE SCHEMA evil;
CREATE FUNCTION evil.raise(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'evil % ran as %', what, current_user;
END $$;
CREATE FUNCTION evil.text_eq(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT evil.raise(''=(text,text)'')';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq);
CREATE FUNCTION evil.name_eq(name, name) RETURNS boolean LANGUAGE sql AS 'SELECT evil.raise(''=(name,name)'')';
CREATE OPERATOR evil.= (LEFTARG = name, RIGHTARG = name, FUNCTION = evil.name_eq);
CREATE FUNCTION evil.ts_minus(timestamptz, interval) RETURNS timestamptz LANGUAGE sql
	AS 'SELECT CASE WHEN evil.raise(''-(timestamptz,interval)'') THEN $1 END';
CREATE OPERATOR evil.- (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = evil.ts_minus);
CREATE FUNCTION evil.statement_timestamp() RETURNS timestamptz LANGUAGE sql
	AS 'SELECT CASE WHEN evil.raise(''statement_timestamp()'') THEN now() END';
CREATE FUNCTION evil.encode(bytea, text) RETURNS text LANGUAGE sql
	AS 'SELECT CASE WHEN evil.raise(''encode()'') THEN '''' END';
CREATE FUNCTION evil.jsonb_array_length(jsonb) RETURNS integer LANGUAGE sql
	AS 'SELECT CASE WHEN evil.raise(''jsonb_array_length()'') THEN 0 END';
CREATE FUNCTION evil.lpad(text, integer) RETURNS text LANGUAGE sql
	AS 'SELECT CASE WHEN evil.raise(''lpad()'') THEN '''' END';
GRANT USAGE ON SCHEMA evil TO PUBLIC;
SET SESSION AUTHORIZATION regress_auditor;
SELECT public.masked(medchain.compliance_report_text()) AS expected \gset
SET search_path = evil, pg_catalog, public;
SELECT 'a'::text = 'b' AS evil_is_first;
SELECT public.masked(medchain.compliance_report_text()) OPERATOR(pg_catalog.=) :'expected' AS same_text,
	   (medchain.compliance_report())->>'verdict' AS verdict;
SET search_path = pg_catalog, evil, public;
SELECT public.masked(medchain.compliance_report_text()) OPERATOR(pg_catalog.=) :'expected' AS same_text;
RESET search_path;
RESET SESSION AUTHORIZATION;
DROP SCHEMA evil CASCADE;

-- verify() now, or the scrubber's findings: without the background
-- processes (no shared_preload_libraries here) there is no scrubber, and
-- the report says so whatever age it would accept.
SELECT r->'findings_source'->>'source' AS source, r->'findings_source'->'scrubber_running' AS scrubber_running,
	   r->'findings_source'->>'max_scrub_age' AS max_scrub_age
  FROM medchain.compliance_report(interval '7 days') r;
SELECT substring(medchain.compliance_report_text('0') FROM '\n(Source [^\n]*)') AS source;
SELECT medchain.compliance_report(NULL) IS NULL AS null_age;

\c :regress_db
DROP DATABASE regress_compliance;
