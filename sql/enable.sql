-- medchain.enable(): what it accepts, what it records, what it refuses.

-- Existing rows are recorded as baseline entries; the count is returned.
SELECT medchain.enable('cdm.person');
SELECT medchain.enable('cdm.measurement');
SELECT relation, key_columns, rows_recorded FROM medchain.ledger_tables ORDER BY 1;

-- One baseline entry per row, keyed by the primary key, pending (no block).
SELECT kind, count(*), count(DISTINCT row_key), bool_and(block_height IS NULL) AS pending,
       bool_and(length(row_hash) = 32 AND length(entry_hash) = 32) AS hash_lengths,
       bool_and(recorded_by = current_user) AS recorded_by_me
  FROM medchain.entries WHERE relation = 'cdm.person' GROUP BY kind ORDER BY kind;
SELECT row_key FROM medchain.entries
 WHERE relation = 'cdm.person' AND kind = 'baseline' ORDER BY entry_id LIMIT 2;
-- The enable event says what was done.
SELECT kind, row_key, detail FROM medchain.entries
 WHERE relation = 'cdm.measurement' AND kind = 'event';
-- Every baseline row hash is the SHA-256 of the row's canonical encoding.
SELECT count(*) AS mismatches FROM medchain.entries e
 WHERE e.relation = 'cdm.person' AND e.kind = 'baseline'
   AND sha256(medchain.row_encoding('cdm.person', e.row_key)) <> e.row_hash;
-- The triggers are installed and fire even under session_replication_role.
SELECT tgname, tgenabled FROM pg_trigger
 WHERE tgrelid = 'cdm.person'::regclass AND NOT tgisinternal ORDER BY tgname;

-- A table with a REPLICA IDENTITY USING INDEX instead of a primary key.
CREATE TABLE public.lab_orders (order_no text NOT NULL, site int NOT NULL, note text);
CREATE UNIQUE INDEX lab_orders_ident ON public.lab_orders (site, order_no);
ALTER TABLE public.lab_orders REPLICA IDENTITY USING INDEX lab_orders_ident;
INSERT INTO public.lab_orders VALUES ('A-1', 2, 'fasting'), ('B-7', 1, NULL);
SELECT medchain.enable('lab_orders');
SELECT row_key FROM medchain.entries WHERE relation = 'public.lab_orders' AND kind = 'baseline'
 ORDER BY row_key::text;
-- Quoted names are recorded quoted.
CREATE SCHEMA "Ward 7";
CREATE TABLE "Ward 7"."Bed Log" ("Bed" int PRIMARY KEY, note text);
INSERT INTO "Ward 7"."Bed Log" VALUES (1, 'ok');
SELECT medchain.enable('"Ward 7"."Bed Log"');
SELECT relation, row_key FROM medchain.entries WHERE relation LIKE '%Bed%' AND kind = 'baseline';

-- An empty table records nothing but is enabled.
CREATE TABLE public.empty_notes (id int PRIMARY KEY, body text);
SELECT medchain.enable('public.empty_notes');

-- Refusals, each with its own SQLSTATE.
\set VERBOSITY default
SELECT medchain.enable('cdm.person');
\echo :LAST_ERROR_SQLSTATE
CREATE VIEW public.person_view AS SELECT * FROM cdm.person;
SELECT medchain.enable('public.person_view');
\echo :LAST_ERROR_SQLSTATE
CREATE MATERIALIZED VIEW public.person_mv AS SELECT * FROM cdm.person;
SELECT medchain.enable('public.person_mv');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE public.vitals (id int, taken date, PRIMARY KEY (id, taken)) PARTITION BY RANGE (taken);
CREATE TABLE public.vitals_2026 PARTITION OF public.vitals FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT medchain.enable('public.vitals_2026');
\echo :LAST_ERROR_SQLSTATE
CREATE TEMP TABLE scratch (id int PRIMARY KEY);
SELECT medchain.enable('scratch');
\echo :LAST_ERROR_SQLSTATE
CREATE UNLOGGED TABLE public.cache (id int PRIMARY KEY);
SELECT medchain.enable('public.cache');
\echo :LAST_ERROR_SQLSTATE
CREATE FOREIGN DATA WRAPPER regress_fdw;
CREATE SERVER regress_remote FOREIGN DATA WRAPPER regress_fdw;
CREATE FOREIGN TABLE public.remote_notes (id int) SERVER regress_remote;
SELECT medchain.enable('public.remote_notes');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE public.keyless (id int, note text);
SELECT medchain.enable('public.keyless');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE public.nullable_unique (id int UNIQUE, note text);
SELECT medchain.enable('public.nullable_unique');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE public.float_key (reading float8 PRIMARY KEY);
SELECT medchain.enable('public.float_key');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.enable('pg_catalog.pg_class');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.enable('information_schema.sql_features');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.enable('medchain.journal');
\echo :LAST_ERROR_SQLSTATE
CREATE SEQUENCE public.some_seq;
SELECT medchain.enable('public.some_seq');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.enable('public.no_such_table');
SELECT medchain.enable(NULL);

-- Nothing half-done: an enable rolled back, and an enable cancelled by
-- statement_timeout half-way through 100,000 rows, leave no trace.
CREATE TABLE public.big_obs (id int PRIMARY KEY, value numeric, taken timestamptz, note text);
INSERT INTO public.big_obs
SELECT i, i * 0.5, timestamptz '2025-01-01 00:00+00' + i * interval '1 minute', 'obs ' || i
  FROM generate_series(1, 100000) AS i;
BEGIN;
SELECT medchain.enable('public.big_obs');
ROLLBACK;
SET statement_timeout = '20ms';
\set SHOW_CONTEXT never
SELECT medchain.enable('public.big_obs');
\set SHOW_CONTEXT errors
RESET statement_timeout;
SELECT count(*) AS entries FROM medchain.entries WHERE relation = 'public.big_obs';
SELECT count(*) AS registrations FROM medchain.ledger_registry WHERE relation = 'public.big_obs';
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'public.big_obs'::regclass;
-- And done for real: 100,000 baseline entries, one per row.
SELECT medchain.enable('public.big_obs');
SELECT count(*), count(DISTINCT row_key) FROM medchain.entries
 WHERE relation = 'public.big_obs' AND kind = 'baseline';
SELECT count(*) AS mismatches FROM medchain.entries e
 WHERE e.relation = 'public.big_obs' AND e.kind = 'baseline' AND e.entry_id % 997 = 0
   AND sha256(medchain.row_encoding('public.big_obs', e.row_key)) <> e.row_hash;
