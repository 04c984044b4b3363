-- Nobody runs code that is not medchain's through medchain: not the table
-- owner, not an auditor, not an ordinary role, not a superuser, whatever
-- their search_path.
--
-- Schema hostile shadows the operators and functions that medchain's
-- queries could resolve by name.  Each of them raises an error naming
-- itself and the role it ran as, so any call makes the statement fail with
-- that message.  Every medchain function and view is then used under
-- search_path = hostile, pg_catalog (hostile first: it wins every exact
-- match) and under pg_catalog, hostile (hostile last: it still wins every
-- type pair that pg_catalog has no exact operator for, such as oid =
-- integer), as each role that may use it; roles that may not get SQLSTATE
-- 42501, not hostile code.  The ledger tables have names that need
-- quoting.  Everything is rolled back at the end, roles included.
SET client_encoding = 'UTF8';	-- the names below are UTF-8
BEGIN;
LOAD 'medchain';
SELECT plan(416);

-- The same low proof-of-work throughout: seal() refuses a difficulty below
-- the chain's.
SET LOCAL medchain.difficulty = 4;

------------------------------------------------------------------------
-- Roles
------------------------------------------------------------------------

CREATE ROLE hostile_owner NOLOGIN IN ROLE medchain_admin;		-- owns the ledger tables
CREATE ROLE hostile_auditor NOLOGIN IN ROLE medchain_auditor;
CREATE ROLE hostile_reader NOLOGIN;		-- an ordinary role; it also writes schema hostile

------------------------------------------------------------------------
-- Schema hostile
------------------------------------------------------------------------

-- Written by the ordinary role, usable by everybody, as any schema on a
-- search_path could be.  hostile.calls counts the calls of hostile code:
-- a sequence is not rolled back, so a call whose error something swallowed
-- still shows.
CREATE SCHEMA hostile AUTHORIZATION hostile_reader;
GRANT USAGE ON SCHEMA hostile TO PUBLIC;
SET ROLE hostile_reader;
CREATE SEQUENCE hostile.calls;
GRANT USAGE ON SEQUENCE hostile.calls TO PUBLIC;

DO $hostile$
DECLARE
	-- the body of every hostile function; %1$L is the name it reports
	body CONSTANT text := $body$
BEGIN
	PERFORM pg_catalog.nextval('hostile.calls'::pg_catalog.regclass);
	RAISE EXCEPTION 'hostile %% ran as %%', %1$L, current_user;
END
$body$;
	ops CONSTANT text[] := ARRAY['=', '<>', '<', '>', '<=', '>=', '+', '-', '~~'];
	pairs CONSTANT text[] := ARRAY[
		['oid', 'oid'], ['oid', 'integer'], ['integer', 'oid'], ['integer', 'integer'],
		['integer', 'bigint'], ['bigint', 'integer'], ['bigint', 'bigint'],
		['text', 'text'], ['name', 'name'], ['name', 'text'], ['text', 'name'],
		['regclass', 'oid'], ['oid', 'regclass'], ['regclass', 'regclass'],
		['jsonb', 'jsonb'], ['bytea', 'bytea'], ['boolean', 'boolean'],
		['timestamptz', 'timestamptz'], ['timestamptz', 'interval'],
		['xid8', 'xid8'], ['tid', 'tid']];
	-- name, arguments, result: built-in functions by their exact signatures
	functions CONSTANT text[] := ARRAY[
		['now', '', 'timestamptz'],
		['clock_timestamp', '', 'timestamptz'],
		['statement_timestamp', '', 'timestamptz'],
		['transaction_timestamp', '', 'timestamptz'],
		['nextval', 'regclass', 'bigint'],
		['jsonb_populate_record', 'anyelement, jsonb', 'anyelement'],
		['pg_relation_size', 'regclass', 'bigint'],
		['pg_relation_size', 'regclass, text', 'bigint'],
		['has_table_privilege', 'oid, text', 'boolean'],
		['has_table_privilege', 'text, text', 'boolean'],
		['has_table_privilege', 'name, oid, text', 'boolean'],
		['has_table_privilege', 'name, text, text', 'boolean'],
		['has_table_privilege', 'oid, oid, text', 'boolean'],
		['has_table_privilege', 'oid, text, text', 'boolean'],
		['has_schema_privilege', 'oid, text', 'boolean'],
		['has_schema_privilege', 'text, text', 'boolean'],
		['has_schema_privilege', 'name, oid, text', 'boolean'],
		['has_schema_privilege', 'name, text, text', 'boolean'],
		['has_schema_privilege', 'oid, oid, text', 'boolean'],
		['has_schema_privilege', 'oid, text, text', 'boolean'],
		['pg_has_role', 'name, text', 'boolean'],
		['pg_has_role', 'oid, text', 'boolean'],
		['pg_has_role', 'name, name, text', 'boolean'],
		['pg_has_role', 'name, oid, text', 'boolean'],
		['pg_has_role', 'oid, name, text', 'boolean'],
		['pg_has_role', 'oid, oid, text', 'boolean'],
		['parse_ident', 'text', 'text[]'],
		['parse_ident', 'text, boolean', 'text[]'],
		['sha256', 'bytea', 'bytea'],
		['encode', 'bytea, text', 'text'],
		['decode', 'text, text', 'bytea'],
		['convert_to', 'text, name', 'bytea'],
		['jsonb_build_object', '', 'jsonb'],
		['jsonb_build_object', 'VARIADIC text[]', 'jsonb'],
		['jsonb_array_length', 'jsonb', 'integer'],
		['jsonb_typeof', 'jsonb', 'text'],
		['to_jsonb', 'anyelement', 'jsonb'],
		['array_to_json', 'anyarray', 'json'],
		['array_length', 'anyarray, integer', 'integer'],
		['unnest', 'anyarray', 'SETOF anyelement'],
		['generate_series', 'integer, integer', 'SETOF integer'],
		['generate_series', 'bigint, bigint', 'SETOF bigint'],
		['format_type', 'oid, integer', 'text'],
		['quote_ident', 'text', 'text'],
		['quote_literal', 'text', 'text'],
		['quote_nullable', 'text', 'text'],
		['length', 'text', 'integer'],
		['length', 'bytea', 'integer'],
		['octet_length', 'bytea', 'integer'],
		['lower', 'text', 'text'],
		['upper', 'text', 'text'],
		['current_setting', 'text', 'text'],
		['current_setting', 'text, boolean', 'text'],
		['set_config', 'text, text, boolean', 'text'],
		['to_regclass', 'text', 'regclass'],
		['pg_get_userbyid', 'oid', 'name'],
		['pg_table_is_visible', 'oid', 'boolean'],
		['pg_current_xact_id', '', 'xid8'],
		['txid_current', '', 'bigint'],
		['pg_event_trigger_dropped_objects',
		 'OUT classid oid, OUT objid oid, OUT objsubid integer, OUT original boolean,'
		 ' OUT normal boolean, OUT is_temporary boolean, OUT object_type text,'
		 ' OUT schema_name text, OUT object_name text, OUT object_identity text,'
		 ' OUT address_names text[], OUT address_args text[]',
		 'SETOF record']];
	-- name, argument (* for none), state, result
	aggregates CONSTANT text[] := ARRAY[
		['count', '*', 'bigint', 'bigint'],
		['count', 'anyelement', 'bigint', 'bigint'],
		['max', 'bigint', 'bigint', 'bigint'],
		['max', 'integer', 'integer', 'integer'],
		['max', 'text', 'text', 'text'],
		['max', 'timestamptz', 'timestamptz', 'timestamptz'],
		['max', 'oid', 'oid', 'oid'],
		['min', 'bigint', 'bigint', 'bigint'],
		['min', 'integer', 'integer', 'integer'],
		['min', 'text', 'text', 'text'],
		['min', 'timestamptz', 'timestamptz', 'timestamptz'],
		['min', 'oid', 'oid', 'oid'],
		['sum', 'integer', 'bigint', 'bigint'],
		['sum', 'bigint', 'numeric', 'numeric'],
		['jsonb_agg', 'anyelement', 'jsonb', 'jsonb']];
	pair text[];
	fn text[];
	op text;
	n integer := 0;
	label text;
	result text;
BEGIN
	FOREACH pair SLICE 1 IN ARRAY pairs LOOP
		FOREACH op IN ARRAY ops LOOP
			n := n + 1;
			label := format('%s(%s,%s)', op, pair[1], pair[2]);
			result := CASE
				WHEN op = '-' AND pair[1] = 'timestamptz' AND pair[2] = 'timestamptz' THEN 'interval'
				WHEN op IN ('+', '-') THEN pair[1]
				ELSE 'boolean' END;
			EXECUTE format('CREATE FUNCTION hostile.op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql AS %L',
						   n, pair[1], pair[2], result, format(body, label));
			EXECUTE format('CREATE OPERATOR hostile.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = hostile.op_%s)',
						   op, pair[1], pair[2], n);
		END LOOP;
	END LOOP;

	FOREACH fn SLICE 1 IN ARRAY functions LOOP
		EXECUTE format('CREATE FUNCTION hostile.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
					   fn[1], fn[2], fn[3], format(body, fn[1]));
	END LOOP;

	-- Both the transition and the final function raise, so an aggregate
	-- over no rows fails too.
	n := 0;
	FOREACH fn SLICE 1 IN ARRAY aggregates LOOP
		n := n + 1;
		label := format('%s(%s)', fn[1], fn[2]);
		EXECUTE format('CREATE FUNCTION hostile.agg_step_%s(%s) RETURNS %s LANGUAGE plpgsql AS %L',
					   n, fn[3] || CASE fn[2] WHEN '*' THEN '' ELSE ', ' || fn[2] END,
					   fn[3], format(body, label));
		EXECUTE format('CREATE FUNCTION hostile.agg_final_%s(%s) RETURNS %s LANGUAGE plpgsql AS %L',
					   n, fn[3], fn[4], format(body, label));
		EXECUTE format('CREATE AGGREGATE hostile.%I(%s) (SFUNC = hostile.agg_step_%s, STYPE = %s,'
					   ' FINALFUNC = hostile.agg_final_%s)',
					   fn[1], fn[2], n, fn[3], n);
	END LOOP;
END
$hostile$;
RESET ROLE;

------------------------------------------------------------------------
-- Running a statement as a role under a search_path
------------------------------------------------------------------------

-- The checks themselves run under the session's own search_path, which
-- does not name hostile.  hostile_probe.run() switches to the role and the
-- search_path for one statement only, notes what it saw, and switches
-- back; an error rolls the switch back with the subtransaction of the
-- check that caught it.  The statements given to it name their own
-- functions and operators in pg_catalog, so that only medchain's code is
-- put to the test.
CREATE SCHEMA hostile_probe;
GRANT USAGE ON SCHEMA hostile_probe TO PUBLIC;
CREATE TABLE hostile_probe.statements (
	n serial PRIMARY KEY,
	role_label text NOT NULL,
	user_during name NOT NULL,
	path_wanted text NOT NULL,
	path_during text NOT NULL,
	path_after text NOT NULL
);
-- Digests and proofs kept for later checks, readable by every role.
CREATE TABLE hostile_probe.kept (label text PRIMARY KEY, doc jsonb NOT NULL);
GRANT SELECT ON hostile_probe.kept TO PUBLIC;

-- Runs sql as role ('superuser' is the session's own role) under path and
-- returns the first column of its first row as text (NULL for a statement
-- that returns no rows).
CREATE FUNCTION hostile_probe.run(role text, path text, sql text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	saved_role CONSTANT text := current_setting('role');
	returns_rows CONSTANT boolean := sql ~* '^\s*(select|with|values|table)\M';
	result text;
	user_during name;
	path_during text;
	path_after text;
BEGIN
	IF role <> 'superuser' THEN
		PERFORM set_config('role', role, true);
	END IF;
	PERFORM set_config('search_path', path, true);
	user_during := current_user;
	path_during := pg_catalog.current_setting('search_path');
	IF returns_rows THEN
		EXECUTE sql INTO result;
	ELSE
		EXECUTE sql;
	END IF;
	path_after := pg_catalog.current_setting('search_path');
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM pg_catalog.set_config('role', saved_role, true);
	INSERT INTO hostile_probe.statements (role_label, user_during, path_wanted, path_during, path_after)
	VALUES (role, user_during, path, path_during, path_after);
	RETURN result;
END
$$;

-- The same, with an error returned as 'ERROR sqlstate: message' for is().
CREATE FUNCTION hostile_probe.value(role text, path text, sql text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN hostile_probe.run(role, path, sql);
EXCEPTION WHEN OTHERS THEN
	RETURN 'ERROR ' || SQLSTATE || ': ' || SQLERRM;
END
$$;

-- lives_ok and throws_ok of one statement run that way.
CREATE FUNCTION hostile_probe.lives(role text, path text, sql text, description text)
RETURNS text
LANGUAGE sql
AS $$
	SELECT lives_ok(format('SELECT hostile_probe.run(%L, %L, %L)', role, path, sql), description)
$$;

CREATE FUNCTION hostile_probe.refused(role text, path text, sql text, sqlstate text, description text)
RETURNS text
LANGUAGE sql
AS $$
	SELECT throws_ok(format('SELECT hostile_probe.run(%L, %L, %L)', role, path, sql),
					 sqlstate::char(5), NULL::text, description)
$$;

CREATE FUNCTION hostile_probe.denied(role text, path text, sql text, description text)
RETURNS text
LANGUAGE sql
AS $$
	SELECT hostile_probe.refused(role, path, sql, '42501', description)
$$;

-- Alters a ledger table behind medchain's back, asks sql as role under
-- path, and rolls the tampering back (the inner block is a savepoint).
CREATE FUNCTION hostile_probe.tampered(tamper text, role text, path text, sql text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	result text;
BEGIN
	BEGIN
		EXECUTE tamper;
		result := hostile_probe.value(role, path, sql);
		RAISE SQLSTATE 'HP000';
	EXCEPTION WHEN SQLSTATE 'HP000' THEN
		NULL;
	END;
	RETURN result;
END
$$;

------------------------------------------------------------------------
-- The hostile schema bites
------------------------------------------------------------------------

SELECT ok((SELECT rolsuper FROM pg_roles WHERE rolname = session_user),
	'the suite runs as a superuser');
SELECT is((SELECT count(*) FROM pg_operator WHERE oprnamespace = 'hostile'::regnamespace),
	189::bigint, 'hostile shadows = <> < > <= >= + - ~~ over 21 type pairs');
SELECT is_empty($$
	SELECT h.proname FROM pg_proc h
	 WHERE h.pronamespace = 'hostile'::regnamespace
	   AND h.proname !~ '^(op|agg_step|agg_final)_'
	   AND NOT EXISTS (SELECT 1 FROM pg_proc p
						WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname = h.proname)$$,
	'every hostile function has the name of a built-in one');

-- Statements that leave their names to the search_path run hostile code,
-- even with hostile last: the traps are set.
SELECT throws_ok($$SELECT hostile_probe.run('hostile_reader', 'pg_catalog, hostile',
		'SELECT 1::pg_catalog.oid = 1')$$,
	'P0001', 'hostile =(oid,integer) ran as hostile_reader',
	'hostile last: oid = integer resolves to hostile');
SELECT throws_ok($$SELECT hostile_probe.run('hostile_auditor', 'pg_catalog, hostile',
		'SELECT ''pg_class''::pg_catalog.regclass = ''pg_class''::pg_catalog.regclass')$$,
	'P0001', 'hostile =(regclass,regclass) ran as hostile_auditor',
	'hostile last: regclass = regclass resolves to hostile');
SELECT throws_ok($$SELECT hostile_probe.run('hostile_owner', 'hostile, pg_catalog',
		'SELECT ''a''::pg_catalog.text = ''a''')$$,
	'P0001', 'hostile =(text,text) ran as hostile_owner',
	'hostile first: text = unknown resolves to hostile');
SELECT throws_ok($$SELECT hostile_probe.run('superuser', 'hostile, pg_catalog', 'SELECT now()')$$,
	'P0001', NULL, 'hostile first: now() resolves to hostile');
SELECT throws_ok($$SELECT hostile_probe.run('hostile_reader', 'hostile, pg_catalog',
		'SELECT count(*) FROM pg_catalog.pg_namespace')$$,
	'P0001', 'hostile count(*) ran as hostile_reader', 'hostile first: count(*) resolves to hostile');
SELECT throws_ok($$SELECT hostile_probe.run('hostile_reader', 'hostile, pg_catalog',
		'SELECT max(x) FROM (SELECT 1::pg_catalog.int8 WHERE false) s(x)')$$,
	'P0001', 'hostile max(bigint) ran as hostile_reader',
	'hostile first: max(bigint) resolves to hostile, even over no rows');
-- Calls of hostile code so far; the rest of the suite must add none.
INSERT INTO hostile_probe.kept VALUES ('hostile calls', to_jsonb((SELECT last_value FROM hostile.calls)));

------------------------------------------------------------------------
-- Ledger tables whose names need quoting
------------------------------------------------------------------------

CREATE SCHEMA "Ward ""7""" AUTHORIZATION hostile_owner;
CREATE SCHEMA "Patient ü" AUTHORIZATION hostile_owner;
SET ROLE hostile_owner;
CREATE TABLE "Ward ""7"""."select" ("Key ""col""" integer PRIMARY KEY, note text);
CREATE TABLE "Ward ""7"""."a.b; DROP TABLE x; --" ("Patient ü" text PRIMARY KEY, "order" bigint);
CREATE TABLE "Patient ü"."Befund ü" (
	id bigint,
	"Key ""col""" text,
	"Befund" text,
	PRIMARY KEY (id, "Key ""col""")
);
INSERT INTO "Ward ""7"""."select" VALUES (1, 'baseline one'), (2, 'baseline two');
INSERT INTO "Ward ""7"""."a.b; DROP TABLE x; --" VALUES ('Müller "7"', 1);
INSERT INTO "Patient ü"."Befund ü" VALUES (1, 'a', 'initial');
-- The ordinary role may read "select" only.
GRANT USAGE ON SCHEMA "Ward ""7""" TO hostile_reader;
GRANT SELECT ON "Ward ""7"""."select" TO hostile_reader;
RESET ROLE;

------------------------------------------------------------------------
-- enable(): medchain_admin (the owner) and superusers
------------------------------------------------------------------------

SELECT is(hostile_probe.value('hostile_owner', 'hostile, pg_catalog',
		$$SELECT medchain.enable('"Ward ""7"""."select"')$$),
	'2', 'enable() as the owner, hostile first');
SELECT is(hostile_probe.value('hostile_owner', 'pg_catalog, hostile',
		$$SELECT medchain.enable('"Ward ""7"""."a.b; DROP TABLE x; --"')$$),
	'1', 'enable() as the owner, hostile last');
SELECT is(hostile_probe.value('superuser', 'hostile, pg_catalog',
		$$SELECT medchain.enable('"Patient ü"."Befund ü"')$$),
	'1', 'enable() as superuser, hostile first');
SELECT hostile_probe.denied('hostile_auditor', 'hostile, pg_catalog',
	$$SELECT medchain.enable('"Ward ""7"""."select"')$$, 'enable() refused to the auditor, hostile first');
SELECT hostile_probe.denied('hostile_auditor', 'pg_catalog, hostile',
	$$SELECT medchain.enable('"Ward ""7"""."select"')$$, 'enable() refused to the auditor, hostile last');
SELECT hostile_probe.denied('hostile_reader', 'hostile, pg_catalog',
	$$SELECT medchain.enable('"Ward ""7"""."select"')$$, 'enable() refused to an ordinary role, hostile first');
SELECT hostile_probe.denied('hostile_reader', 'pg_catalog, hostile',
	$$SELECT medchain.enable('"Ward ""7"""."select"')$$, 'enable() refused to an ordinary role, hostile last');

-- Inserts are recorded by the row trigger, under either search_path.
SELECT hostile_probe.lives('hostile_owner', 'hostile, pg_catalog', $$
	WITH a AS (INSERT INTO "Ward ""7"""."select" VALUES (3, 'hostile first') RETURNING 1),
		 b AS (INSERT INTO "Ward ""7"""."a.b; DROP TABLE x; --" VALUES ('Zoë', 2) RETURNING 1),
		 c AS (INSERT INTO "Patient ü"."Befund ü" VALUES (2, 'b', 'hostile first') RETURNING 1)
	SELECT 'inserted'$$,
	'inserts into the ledger tables, hostile first');
SELECT hostile_probe.lives('hostile_owner', 'pg_catalog, hostile', $$
	WITH a AS (INSERT INTO "Ward ""7"""."select" VALUES (4, 'hostile last') RETURNING 1),
		 b AS (INSERT INTO "Ward ""7"""."a.b; DROP TABLE x; --" VALUES ('Øre', 3) RETURNING 1),
		 c AS (INSERT INTO "Patient ü"."Befund ü" VALUES (3, 'c', 'hostile last') RETURNING 1)
	SELECT 'inserted'$$,
	'inserts into the ledger tables, hostile last');

------------------------------------------------------------------------
-- The views and the journal, while entries are pending
------------------------------------------------------------------------

-- Everybody may read the views; each role sees the tables it may read.
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.string_agg(pg_catalog.concat(relation, '=', rows_recorded), ' '
									 ORDER BY relation COLLATE pg_catalog."C")
		  FROM medchain.ledger_tables$$),
	CASE r.role
		WHEN 'hostile_reader' THEN '"Ward ""7"""."select"=4'
		ELSE '"Patient ü"."Befund ü"=3 "Ward ""7"""."a.b; DROP TABLE x; --"=3 "Ward ""7"""."select"=4'
	END,
	format('ledger_tables as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_owner'), (2, 'hostile_auditor'), (3, 'hostile_reader'), (4, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;

SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ', pending_entries, (oldest_pending_age IS NOT NULL)::pg_catalog.text)
		  FROM medchain.chain_status$$),
	CASE r.role WHEN 'hostile_reader' THEN '5 true' ELSE '13 true' END,
	format('chain_status as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_owner'), (2, 'hostile_auditor'), (3, 'hostile_reader'), (4, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;

-- Row-level security on the journal and the registry calls medchain's
-- own functions.
SELECT is(hostile_probe.value('hostile_reader', p.path, $$
		SELECT pg_catalog.concat_ws(' ', (SELECT pg_catalog.count(*) FROM medchain.entries),
									(SELECT pg_catalog.count(*) FROM medchain.ledger_registry))$$),
	'5 1', format('an ordinary role sees the entries and registration of "select" only, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;

------------------------------------------------------------------------
-- seal(): medchain_admin and superusers
------------------------------------------------------------------------

SELECT is(hostile_probe.value('hostile_owner', 'hostile, pg_catalog',
		$$SELECT medchain.seal() IS NOT NULL$$),
	'true', 'seal() as the owner, hostile first');
-- A digest of this block, checked again once the chain has grown.
INSERT INTO hostile_probe.kept VALUES ('first digest', medchain.digest());
SELECT hostile_probe.denied(r.role, p.path, $$SELECT medchain.seal()$$,
	format('seal() refused to %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_reader')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;

------------------------------------------------------------------------
-- disable() and enable() again
------------------------------------------------------------------------

SELECT hostile_probe.lives('hostile_owner', 'hostile, pg_catalog',
	$$SELECT medchain.disable('"Ward ""7"""."select"', 'hostile test: release')$$,
	'disable() as the owner, hostile first');
SELECT hostile_probe.lives('superuser', 'hostile, pg_catalog',
	$$SELECT medchain.disable('"Ward ""7"""."a.b; DROP TABLE x; --"', 'hostile test: release')$$,
	'disable() as superuser, hostile first');
SELECT hostile_probe.lives('hostile_owner', 'pg_catalog, hostile',
	$$SELECT medchain.disable('"Patient ü"."Befund ü"', 'hostile test: release')$$,
	'disable() as the owner, hostile last');
SELECT is(hostile_probe.value('superuser', 'hostile, pg_catalog',
		$$SELECT medchain.seal() IS NOT NULL$$),
	'true', 'seal() as superuser, hostile first');

SELECT is(hostile_probe.value('superuser', 'pg_catalog, hostile',
		$$SELECT medchain.enable('"Ward ""7"""."select"')$$),
	'4', 'enable() again as superuser, hostile last');
SELECT is(hostile_probe.value('hostile_owner', 'hostile, pg_catalog',
		$$SELECT medchain.enable('"Ward ""7"""."a.b; DROP TABLE x; --"')$$),
	'3', 'enable() again as the owner, hostile first');
SELECT is(hostile_probe.value('hostile_owner', 'pg_catalog, hostile',
		$$SELECT medchain.enable('"Patient ü"."Befund ü"')$$),
	'3', 'enable() again as the owner, hostile last');
SELECT hostile_probe.denied(r.role, p.path,
	$$SELECT medchain.disable('"Ward ""7"""."select"', 'not allowed')$$,
	format('disable() refused to %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_reader')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT is(hostile_probe.value('hostile_owner', 'pg_catalog, hostile',
		$$SELECT medchain.seal() IS NOT NULL$$),
	'true', 'seal() as the owner, hostile last');

SELECT hostile_probe.lives('superuser', 'pg_catalog, hostile',
	$$SELECT medchain.disable('"Ward ""7"""."select"', 'hostile test: release again')$$,
	'disable() as superuser, hostile last');
SELECT is(hostile_probe.value('hostile_owner', 'hostile, pg_catalog',
		$$SELECT medchain.enable('"Ward ""7"""."select"')$$),
	'4', 'enable() a third time as the owner, hostile first');

-- A superuser's inserts, then the last block.
SELECT hostile_probe.lives('superuser', 'hostile, pg_catalog', $$
	WITH a AS (INSERT INTO "Ward ""7"""."select" VALUES (5, 'superuser, hostile first') RETURNING 1),
		 c AS (INSERT INTO "Patient ü"."Befund ü" VALUES (4, 'd', 'superuser') RETURNING 1)
	SELECT 'inserted'$$,
	'a superuser''s inserts, hostile first');
SELECT hostile_probe.lives('superuser', 'pg_catalog, hostile', $$
	WITH a AS (INSERT INTO "Ward ""7"""."select" VALUES (6, 'superuser, hostile last') RETURNING 1),
		 b AS (INSERT INTO "Ward ""7"""."a.b; DROP TABLE x; --" VALUES ('ü "quoted"', 4) RETURNING 1)
	SELECT 'inserted'$$,
	'a superuser''s inserts, hostile last');
SELECT is(hostile_probe.value('superuser', 'pg_catalog, hostile',
		$$SELECT medchain.seal() IS NOT NULL$$),
	'true', 'seal() as superuser, hostile last');

------------------------------------------------------------------------
-- The row and event triggers, under the search_path of whoever fires them
------------------------------------------------------------------------

-- Changes are refused by medchain's triggers, not by hostile code.
SELECT hostile_probe.refused('hostile_owner', 'hostile, pg_catalog',
	$$UPDATE "Ward ""7"""."select" SET note = 'changed' WHERE "Key ""col""" OPERATOR(pg_catalog.=) 1$$,
	'55000', 'UPDATE refused, hostile first');
SELECT hostile_probe.refused('superuser', 'pg_catalog, hostile',
	$$DELETE FROM "Patient ü"."Befund ü" WHERE id OPERATOR(pg_catalog.=) 1$$,
	'55000', 'DELETE refused, hostile last');
SELECT hostile_probe.refused('hostile_owner', 'pg_catalog, hostile',
	$$TRUNCATE "Ward ""7"""."a.b; DROP TABLE x; --"$$,
	'55000', 'TRUNCATE refused, hostile last');

-- The DDL guards look at every command, and at every object dropped.
SELECT hostile_probe.lives('hostile_owner', 'hostile, pg_catalog',
	$$ALTER TABLE "Ward ""7"""."select" ADD COLUMN "Zusatz ü" text$$,
	'a nullable column may be added to a ledger table, hostile first');
SELECT hostile_probe.refused('hostile_owner', 'pg_catalog, hostile',
	$$ALTER TABLE "Ward ""7"""."select" DROP COLUMN note$$,
	'55000', 'DROP COLUMN refused, hostile last');
SELECT hostile_probe.refused('hostile_owner', 'hostile, pg_catalog',
	$$DROP TABLE "Ward ""7"""."a.b; DROP TABLE x; --"$$,
	'55000', 'DROP TABLE refused, hostile first');
SELECT hostile_probe.refused('hostile_owner', 'pg_catalog, hostile',
	$$DROP SCHEMA "Patient ü" CASCADE$$,
	'55000', 'DROP SCHEMA refused, hostile last');
SELECT hostile_probe.lives('hostile_reader', 'hostile, pg_catalog',
	$$CREATE TABLE hostile.scratch (id integer); DROP TABLE hostile.scratch$$,
	'an ordinary role drops a table of its own, hostile first');
SELECT hostile_probe.lives('hostile_owner', 'pg_catalog, hostile',
	$$CREATE TABLE "Ward ""7"""."scratch ü" (id integer PRIMARY KEY); DROP TABLE "Ward ""7"""."scratch ü"$$,
	'the owner drops a table that is not a ledger table, hostile last');

------------------------------------------------------------------------
-- verify(): medchain_auditor, medchain_admin and superusers
------------------------------------------------------------------------

SELECT is(hostile_probe.value(r.role, p.path, $$SELECT pg_catalog.count(*) FROM medchain.verify()$$),
	'0', format('verify() as %s, %s: nothing found', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
-- The auditor may not use the tables' schemas, so it cannot name a table:
-- it passes the relid of the table's registration instead.
SELECT is(hostile_probe.value(r.role, p.path,
		format('SELECT pg_catalog.count(*) FROM medchain.verify(%s)', r.arg)),
	'0', format('verify(%s) as %s, %s: nothing found', r.tbl, r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor', '"Ward ""7"""."select"',
				$$(SELECT r.relid FROM medchain.ledger_registry r
				   WHERE r.relation OPERATOR(pg_catalog.=) '"Ward ""7"""."select"'
					 AND r.released_at IS NULL)$$),
			   (2, 'hostile_owner', '"Ward ""7"""."a.b; DROP TABLE x; --"',
				$$'"Ward ""7"""."a.b; DROP TABLE x; --"'$$),
			   (3, 'superuser', '"Patient ü"."Befund ü"', $$'"Patient ü"."Befund ü"'$$)) r(i, role, tbl, arg),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT hostile_probe.denied('hostile_reader', p.path, f.sql,
	format('%s refused to an ordinary role, %s', f.name, p.label))
  FROM (VALUES (1, 'verify()', 'SELECT pg_catalog.count(*) FROM medchain.verify()'),
			   (2, 'verify(tbl)', $$SELECT pg_catalog.count(*) FROM medchain.verify('"Ward ""7"""."select"')$$)) f(i, name, sql),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY f.i, p.i;

------------------------------------------------------------------------
-- row_encoding(): whoever may read the row
------------------------------------------------------------------------

-- Its SHA-256 is the row_hash of the row's entry.
SELECT is(hostile_probe.value(r.role, p.path,
		format('SELECT pg_catalog.encode(pg_catalog.sha256(medchain.row_encoding(%L, %L)), ''hex'')',
			   r.tbl, r.key)),
	(SELECT encode(e.row_hash, 'hex') FROM medchain.entries e
	  WHERE e.relation = r.tbl AND e.row_key = r.key::jsonb
	  ORDER BY e.entry_id DESC LIMIT 1),
	format('row_encoding(%s, %s) as %s, %s', r.tbl, r.key, r.role, p.label))
  FROM (VALUES (1, 'hostile_owner', '"Patient ü"."Befund ü"', '{"id": 2, "Key \"col\"": "b"}'),
			   (2, 'superuser', '"Ward ""7"""."a.b; DROP TABLE x; --"', '{"Patient ü": "Müller \"7\""}'),
			   (3, 'hostile_reader', '"Ward ""7"""."select"', '{"Key \"col\"": 3}')) r(i, role, tbl, key),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
-- The encoding is the row itself: a role that may not read the table may
-- not have it.
SELECT hostile_probe.denied('hostile_reader', p.path,
	$$SELECT medchain.row_encoding('"Ward ""7"""."a.b; DROP TABLE x; --"', '{"Patient ü": "Zoë"}')$$,
	format('row_encoding() of a table it may not read refused to an ordinary role, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;

-- Nor by its oid, which is how a role that may not use the table's schema
-- names it, as the auditor must; nor with a key of the wrong shape, whose
-- error would name the key columns that the registry hides from a role
-- that may not read the table.
SELECT hostile_probe.denied(r.role, p.path,
	format('SELECT medchain.row_encoding(%L, %L)', r.tbl::regclass::oid, r.key),
	format('row_encoding(%s by oid, %s) refused to %s, %s', r.tbl, r.key, r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor', '"Ward ""7"""."select"', '{"Key \"col\"": 1}'),
			   (2, 'hostile_auditor', '"Patient ü"."Befund ü"', '{"id": 1, "Key \"col\"": "a"}'),
			   (3, 'hostile_reader', '"Patient ü"."Befund ü"', '{"id": 1, "Key \"col\"": "a"}'),
			   (4, 'hostile_reader', '"Patient ü"."Befund ü"', '{"id": 1}')) r(i, role, tbl, key),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;

------------------------------------------------------------------------
-- proof() and verify_proof(): whoever may read the row
------------------------------------------------------------------------

SELECT is(hostile_probe.value(r.role, p.path,
		format('SELECT medchain.verify_proof(medchain.proof(%L, %L))', r.tbl, r.key)),
	'true', format('proof(%s, %s) as %s, %s, holds', r.tbl, r.key, r.role, p.label))
  FROM (VALUES (1, 'hostile_owner', '"Ward ""7"""."a.b; DROP TABLE x; --"', '{"Patient ü": "Øre"}'),
			   (2, 'superuser', '"Patient ü"."Befund ü"', '{"id": 4, "Key \"col\"": "d"}'),
			   (3, 'hostile_reader', '"Ward ""7"""."select"', '{"Key \"col\"": 6}')) r(i, role, tbl, key),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
-- The auditor reads the journal, not the rows: no proof of a row without
-- SELECT on its table.
SELECT hostile_probe.denied(r.role, p.path,
	format('SELECT medchain.proof(%L, %L)', r.tbl, r.key),
	format('proof(%s) refused to %s, %s', r.tbl, r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor', '"Ward ""7"""."select"', '{"Key \"col\"": 1}'),
			   (2, 'hostile_reader', '"Ward ""7"""."a.b; DROP TABLE x; --"', '{"Patient ü": "Zoë"}')) r(i, role, tbl, key),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
-- verify_proof() reads no table: anyone may check a proof they were given.
INSERT INTO hostile_probe.kept
VALUES ('proof', medchain.proof('"Patient ü"."Befund ü"', '{"id": 1, "Key \"col\"": "a"}'));
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT medchain.verify_proof(k.doc) FROM hostile_probe.kept k
		 WHERE k.label OPERATOR(pg_catalog.=) 'proof'$$),
	'true', format('verify_proof() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_reader')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;

------------------------------------------------------------------------
-- digest(), verify_digest(), export_chain(): auditors and admins
------------------------------------------------------------------------

-- The head's digest and the one kept after the first block both hold.
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT medchain.verify_digest(medchain.digest()) AND medchain.verify_digest(k.doc)
		  FROM hostile_probe.kept k
		 WHERE k.label OPERATOR(pg_catalog.=) 'first digest'$$),
	'true', format('digest() and verify_digest() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT hostile_probe.denied('hostile_reader', p.path, f.sql,
	format('%s refused to an ordinary role, %s', f.name, p.label))
  FROM (VALUES (1, 'digest()', 'SELECT medchain.digest()'),
			   (2, 'verify_digest()', $$SELECT medchain.verify_digest(k.doc) FROM hostile_probe.kept k
										 WHERE k.label OPERATOR(pg_catalog.=) 'first digest'$$),
			   (3, 'export_chain()', 'SELECT pg_catalog.count(*) FROM medchain.export_chain()')) f(i, name, sql),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY f.i, p.i;

-- The export has every block and every sealed entry's hash.
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ', pg_catalog.count(*),
				pg_catalog.sum(pg_catalog.jsonb_array_length(x OPERATOR(pg_catalog.->) 'entry_hashes')))
		  FROM medchain.export_chain(0) x$$),
	(SELECT concat_ws(' ', count(*), sum(entry_count)) FROM medchain.blocks),
	format('export_chain() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;

------------------------------------------------------------------------
-- node_identity(): auditors and admins; retire_node_key(): admins
------------------------------------------------------------------------

-- The identity names the key that signed the head block.
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT (SELECT pg_catalog.encode(b.signer_key, 'hex') FROM medchain.blocks b
				 ORDER BY b.height DESC LIMIT 1)
			   OPERATOR(pg_catalog.=) (medchain.node_identity() OPERATOR(pg_catalog.->>) 'public_key')$$),
	'true', format('node_identity() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT hostile_probe.denied('hostile_reader', p.path, 'SELECT medchain.node_identity()',
	format('node_identity() refused to an ordinary role, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;
-- The background worker's views and findings: auditors and admins read
-- them (this cluster does not preload the library: no process, no pass).
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ', (SELECT pg_catalog.count(*) FROM medchain.worker_status),
									(SELECT s.open_findings FROM medchain.scrub_status s),
									(SELECT pg_catalog.count(*) FROM medchain.findings))$$),
	'0 0 0', format('worker_status, scrub_status and findings as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT hostile_probe.denied('hostile_reader', p.path, 'SELECT pg_catalog.count(*) FROM medchain.worker_status',
	format('worker_status refused to an ordinary role, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;
SELECT hostile_probe.denied('hostile_reader', p.path, 'SELECT pg_catalog.count(*) FROM medchain.findings',
	format('findings refused to an ordinary role, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;
-- A key the chain does not know cannot be retired, nor the node's own.
SELECT hostile_probe.refused('hostile_owner', p.path,
	$$SELECT medchain.retire_node_key(pg_catalog.repeat('ab', 32), 'compromised')$$, '42704',
	format('retire_node_key() of an unknown key refused to the owner, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;
SELECT hostile_probe.refused('superuser', p.path,
	$$SELECT medchain.retire_node_key(medchain.node_identity() OPERATOR(pg_catalog.->>) 'fingerprint', 'compromised')$$,
	'55000', format('retire_node_key() of the node''s own key refused to superuser, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;
SELECT hostile_probe.denied('hostile_reader', p.path,
	$$SELECT medchain.retire_node_key(pg_catalog.repeat('ab', 32), 'compromised')$$,
	format('retire_node_key() refused to an ordinary role, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;

------------------------------------------------------------------------
-- verify() still sees a tamper under a hostile search_path
------------------------------------------------------------------------

-- A superuser goes around the guards and alters a recorded row; each
-- check sees it, then the alteration is rolled back.
SELECT is(hostile_probe.tampered($$
		ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
		ALTER TABLE "Ward ""7"""."select" DISABLE TRIGGER medchain_append_only;
		UPDATE "Ward ""7"""."select" SET note = 'tampered' WHERE "Key ""col""" = 2$$,
		r.role, p.path, format($$
		SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', v.finding, v.relation, v.row_key), '; ')
		  FROM medchain.verify(%s) v$$, r.arg)),
	'row_modified "Ward ""7"""."select" {"Key \"col\"": 2}',
	format('verify(%s) as %s, %s, names the altered row', r.tbl, r.role, p.label))
  FROM (VALUES (1, 'superuser', '', ''),
			   (2, 'hostile_auditor', '"Ward ""7"""."select"',
				$$(SELECT r.relid FROM medchain.ledger_registry r
				   WHERE r.relation OPERATOR(pg_catalog.=) '"Ward ""7"""."select"'
					 AND r.released_at IS NULL)$$)) r(i, role, tbl, arg),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
-- A row deleted, and a row slipped in, behind the triggers.
SELECT is(hostile_probe.tampered($$
		ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
		ALTER TABLE "Patient ü"."Befund ü" DISABLE TRIGGER medchain_append_only;
		DELETE FROM "Patient ü"."Befund ü" WHERE id = 1$$,
		'hostile_auditor', 'pg_catalog, hostile', $$
		SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', v.finding, v.relation, v.row_key), '; ')
		  FROM medchain.verify() v$$),
	'row_missing "Patient ü"."Befund ü" {"id": 1, "Key \"col\"": "a"}',
	'verify() as hostile_auditor, hostile last, names the deleted row');
SELECT is(hostile_probe.tampered($$
		ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
		ALTER TABLE "Ward ""7"""."a.b; DROP TABLE x; --" DISABLE TRIGGER medchain_record;
		INSERT INTO "Ward ""7"""."a.b; DROP TABLE x; --" VALUES ('slipped in', 9)$$,
		'superuser', 'hostile, pg_catalog', $$
		SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', v.finding, v.relation, v.row_key), '; ')
		  FROM medchain.verify('"Ward ""7"""."a.b; DROP TABLE x; --"') v$$),
	'row_unrecorded "Ward ""7"""."a.b; DROP TABLE x; --" {"Patient ü": "slipped in"}',
	'verify(tbl) as superuser, hostile first, names the row slipped in');
SELECT is(hostile_probe.value('hostile_auditor', 'hostile, pg_catalog',
		$$SELECT pg_catalog.count(*) FROM medchain.verify()$$),
	'0', 'with the alterations rolled back, verify() finds nothing again');

------------------------------------------------------------------------
-- Two more blocks, and a row of each table left pending
------------------------------------------------------------------------

-- Proofs anchored below the head need rows sealed below it: each table
-- gets a row in the next block, whose digest is kept as the anchor, and
-- another in the block above it, the head.  The rows after that stay
-- pending, for the check of the queue further down.
SELECT hostile_probe.lives('hostile_owner', 'hostile, pg_catalog', $$
	WITH a AS (INSERT INTO "Ward ""7"""."select" VALUES (7, 'anchor block') RETURNING 1),
		 b AS (INSERT INTO "Ward ""7"""."a.b; DROP TABLE x; --" VALUES ('Ünal', 5) RETURNING 1),
		 c AS (INSERT INTO "Patient ü"."Befund ü" VALUES (5, 'e', 'anchor block') RETURNING 1)
	SELECT 'inserted'$$,
	'rows for the anchor block, hostile first');
SELECT is(hostile_probe.value('hostile_owner', 'pg_catalog, hostile',
		$$SELECT medchain.seal() IS NOT NULL$$),
	'true', 'seal() of the anchor block as the owner, hostile last');
INSERT INTO hostile_probe.kept VALUES ('anchor digest', medchain.digest());
SELECT hostile_probe.lives('superuser', 'pg_catalog, hostile', $$
	WITH a AS (INSERT INTO "Ward ""7"""."select" VALUES (8, 'head block') RETURNING 1),
		 b AS (INSERT INTO "Ward ""7"""."a.b; DROP TABLE x; --" VALUES ('Čapek', 6) RETURNING 1),
		 c AS (INSERT INTO "Patient ü"."Befund ü" VALUES (6, 'f', 'head block') RETURNING 1)
	SELECT 'inserted'$$,
	'rows for the head block, hostile last');
SELECT is(hostile_probe.value('superuser', 'hostile, pg_catalog',
		$$SELECT medchain.seal() IS NOT NULL$$),
	'true', 'seal() of the head block as superuser, hostile first');
INSERT INTO hostile_probe.kept VALUES ('head digest', medchain.digest());
SELECT hostile_probe.lives('hostile_owner', 'pg_catalog, hostile', $$
	WITH a AS (INSERT INTO "Ward ""7"""."select" VALUES (9, 'pending') RETURNING 1),
		 b AS (INSERT INTO "Ward ""7"""."a.b; DROP TABLE x; --" VALUES ('pending ü', 7) RETURNING 1),
		 c AS (INSERT INTO "Patient ü"."Befund ü" VALUES (7, 'g', 'pending') RETURNING 1)
	SELECT 'inserted'$$,
	'rows left pending, hostile last');

------------------------------------------------------------------------
-- proof() up to an anchor height: whoever may read the row
------------------------------------------------------------------------

-- Without an anchor the proof carries the headers up to the head and holds
-- against the head's digest; anchored at the kept digest's height, below
-- the head, it stops there and holds against that digest.  Each row was
-- sealed below the anchor, so both proofs carry headers above its block.
SELECT is(hostile_probe.value(r.role, p.path, format($$
		SELECT pg_catalog.concat_ws(' ', medchain.verify_proof(s.p, k.doc),
									s.p OPERATOR(pg_catalog.#>>) '{chain,-1,height}')
		  FROM (SELECT medchain.proof(%L, %L, %s) AS p) s, hostile_probe.kept k
		 WHERE k.label OPERATOR(pg_catalog.=) %L$$,
		r.tbl, r.key, coalesce(k.doc ->> 'height', 'NULL'), a.digest)),
	't ' || (SELECT doc ->> 'height' FROM hostile_probe.kept WHERE label = a.digest),
	format('proof(%s, %s, %s) as %s, %s, holds against the %s',
		   r.tbl, r.key, a.anchor, r.role, p.label, a.digest))
  FROM (VALUES (1, 'hostile_owner', '"Patient ü"."Befund ü"', '{"id": 2, "Key \"col\"": "b"}'),
			   (2, 'superuser', '"Ward ""7"""."a.b; DROP TABLE x; --"', '{"Patient ü": "ü \"quoted\""}'),
			   (3, 'hostile_reader', '"Ward ""7"""."select"', '{"Key \"col\"": 5}')) r(i, role, tbl, key),
	   (VALUES (1, 'NULL', 'head digest', NULL),
			   (2, 'the anchor''s height', 'anchor digest', 'anchor digest')) a(i, anchor, digest, kept)
	   LEFT JOIN hostile_probe.kept k ON k.label = a.kept,
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, a.i, p.i;
-- An anchor above the head, or below the row's own block, is refused as
-- an invalid argument, whoever asks.
SELECT hostile_probe.refused(r.role, p.path,
	format('SELECT medchain.proof(%L, %L, %s)', r.tbl, r.key,
		   CASE o.i WHEN 1 THEN (SELECT max(height) + 1 FROM medchain.blocks)
					ELSE (SELECT e.block_height - 1 FROM medchain.entries e
						   WHERE e.relation = r.tbl AND e.row_key = r.key::jsonb
						   ORDER BY e.entry_id DESC LIMIT 1) END),
	'22023', format('proof(%s, %s) anchored %s fails as %s, %s', r.tbl, r.key, o.label, r.role, p.label))
  FROM (VALUES (1, 'hostile_owner', '"Patient ü"."Befund ü"', '{"id": 2, "Key \"col\"": "b"}'),
			   (2, 'superuser', '"Ward ""7"""."a.b; DROP TABLE x; --"', '{"Patient ü": "ü \"quoted\""}'),
			   (3, 'hostile_reader', '"Ward ""7"""."select"', '{"Key \"col\"": 5}')) r(i, role, tbl, key),
	   (VALUES (1, 'above the head'), (2, 'below the row''s block')) o(i, label),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, o.i, p.i;
-- An anchor does not open a row to a role that may not read it, named by
-- its oid or by its name, with a key of the right shape or not.
SELECT hostile_probe.denied(r.role, p.path,
	format('SELECT medchain.proof(%L, %L, %s)',
		   CASE WHEN r.by_oid THEN r.tbl::regclass::oid::text ELSE r.tbl END, r.key,
		   (SELECT doc ->> 'height' FROM hostile_probe.kept WHERE label = 'anchor digest')),
	format('proof(%s%s, %s, the anchor''s height) refused to %s, %s',
		   r.tbl, CASE WHEN r.by_oid THEN ' by oid' ELSE '' END, r.key, r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor', '"Ward ""7"""."select"', '{"Key \"col\"": 5}', true),
			   (2, 'hostile_reader', '"Ward ""7"""."a.b; DROP TABLE x; --"', '{"Patient ü": "Zoë"}', false),
			   (3, 'hostile_reader', '"Patient ü"."Befund ü"', '{"id": 2, "Key \"col\"": "b"}', true),
			   (4, 'hostile_reader', '"Patient ü"."Befund ü"', '{"id": 2}', true)) r(i, role, tbl, key, by_oid),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;

------------------------------------------------------------------------
-- event_proof(): auditors, and whoever may read the table
------------------------------------------------------------------------

-- The latest enable and disable events of "select" and of
-- "a.b; DROP TABLE x; --": the proof is of the event asked for, holds
-- against the head's digest, and anchored at the kept digest's height
-- holds against that one.  The auditor reads no table, yet may see every
-- event; the ordinary role may see those of "select" only.
SELECT is(hostile_probe.value(r.role, p.path, format($$
		SELECT pg_catalog.concat_ws(' ',
				(s.p OPERATOR(pg_catalog.->>) 'detail')::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'action',
				medchain.verify_proof(s.p, h.doc), medchain.verify_proof(s.q, a.doc))
		  FROM (SELECT medchain.event_proof(%1$s) AS p, medchain.event_proof(%1$s, %2$s) AS q) s,
			   hostile_probe.kept h, hostile_probe.kept a
		 WHERE h.label OPERATOR(pg_catalog.=) 'head digest'
		   AND a.label OPERATOR(pg_catalog.=) 'anchor digest'$$,
		(SELECT max(e.entry_id) FROM medchain.entries e
		  WHERE e.relation = ev.tbl AND e.kind = 'event' AND e.detail ->> 'action' = ev.action),
		(SELECT doc ->> 'height' FROM hostile_probe.kept WHERE label = 'anchor digest'))),
	ev.action || ' t t',
	format('event_proof() of the %s event of %s as %s, %s', ev.action, ev.tbl, r.role, p.label))
  FROM (VALUES (1, '"Ward ""7"""."select"', 'enable'), (2, '"Ward ""7"""."select"', 'disable'),
			   (3, '"Ward ""7"""."a.b; DROP TABLE x; --"', 'enable'),
			   (4, '"Ward ""7"""."a.b; DROP TABLE x; --"', 'disable')) ev(i, tbl, action),
	   (VALUES (1, 'hostile_owner'), (2, 'hostile_auditor'), (3, 'hostile_reader'), (4, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 WHERE r.role <> 'hostile_reader' OR ev.tbl = '"Ward ""7"""."select"'
 ORDER BY ev.i, r.i, p.i;
SELECT hostile_probe.denied('hostile_reader', p.path,
	format('SELECT medchain.event_proof(%s)',
		   (SELECT max(e.entry_id) FROM medchain.entries e
			 WHERE e.relation = ev.tbl AND e.kind = 'event' AND e.detail ->> 'action' = ev.action)),
	format('event_proof() of the %s event of %s refused to an ordinary role, %s', ev.action, ev.tbl, p.label))
  FROM (VALUES (1, '"Ward ""7"""."a.b; DROP TABLE x; --"', 'enable'),
			   (2, '"Ward ""7"""."a.b; DROP TABLE x; --"', 'disable'),
			   (3, '"Patient ü"."Befund ü"', 'enable')) ev(i, tbl, action),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY ev.i, p.i;
-- An anchor outside the chain is an invalid argument here too.
SELECT hostile_probe.refused(r.role, p.path,
	format('SELECT medchain.event_proof(%s, %s)', e.entry_id,
		   CASE r.i WHEN 1 THEN (SELECT max(height) + 1 FROM medchain.blocks)
					ELSE e.block_height - 1 END),
	'22023', format('event_proof() of the %s event of %s anchored %s fails as %s, %s',
					r.action, r.tbl, r.label, r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor', '"Ward ""7"""."select"', 'enable', 'above the head'),
			   (2, 'hostile_owner', '"Ward ""7"""."a.b; DROP TABLE x; --"', 'disable',
				'below its block')) r(i, role, tbl, action, label)
	   CROSS JOIN LATERAL (SELECT e.entry_id, e.block_height FROM medchain.entries e
						   WHERE e.relation = r.tbl AND e.kind = 'event' AND e.detail ->> 'action' = r.action
						   ORDER BY e.entry_id DESC LIMIT 1) e,
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;

------------------------------------------------------------------------
-- verify_proof() against a trusted digest: anyone
------------------------------------------------------------------------

-- A proof up to the head, one up to the anchor, and digests that must not
-- vouch for them: one of another chain (another node, another block at
-- the same height) and the head's with one digit of its block_hash
-- changed.  A proof that stops at the anchor cannot reach the head's
-- digest either.
INSERT INTO hostile_probe.kept
SELECT 'head proof', medchain.proof('"Patient ü"."Befund ü"', '{"id": 3, "Key \"col\"": "c"}');
INSERT INTO hostile_probe.kept
SELECT 'anchored proof', medchain.proof('"Patient ü"."Befund ü"', '{"id": 3, "Key \"col\"": "c"}',
										(doc ->> 'height')::bigint)
  FROM hostile_probe.kept WHERE label = 'anchor digest';
INSERT INTO hostile_probe.kept
SELECT 'digest of another chain',
	   jsonb_set(jsonb_set(doc, '{node}', '"node-elsewhere"'),
				 '{block_hash}', to_jsonb(encode(sha256('another chain'::bytea), 'hex')))
  FROM hostile_probe.kept WHERE label = 'head digest';
INSERT INTO hostile_probe.kept
SELECT 'digest with a changed block_hash',
	   jsonb_set(doc, '{block_hash}',
				 to_jsonb(overlay(doc ->> 'block_hash'
								  PLACING CASE WHEN right(doc ->> 'block_hash', 1) = '0' THEN '1' ELSE '0' END
								  FROM 64)))
  FROM hostile_probe.kept WHERE label = 'head digest';
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ',
				medchain.verify_proof(hp.doc, hd.doc), medchain.verify_proof(hp.doc, o.doc),
				medchain.verify_proof(hp.doc, c.doc), medchain.verify_proof(ap.doc, hd.doc))
		  FROM hostile_probe.kept hp, hostile_probe.kept hd, hostile_probe.kept o,
			   hostile_probe.kept c, hostile_probe.kept ap
		 WHERE hp.label OPERATOR(pg_catalog.=) 'head proof'
		   AND hd.label OPERATOR(pg_catalog.=) 'head digest'
		   AND o.label OPERATOR(pg_catalog.=) 'digest of another chain'
		   AND c.label OPERATOR(pg_catalog.=) 'digest with a changed block_hash'
		   AND ap.label OPERATOR(pg_catalog.=) 'anchored proof'$$),
	't f f f',
	format('verify_proof() as %s, %s: holds against its digest only', r.role, p.label))
  FROM (VALUES (1, 'hostile_owner'), (2, 'hostile_auditor'), (3, 'hostile_reader'), (4, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
-- A trusted digest that is not one is an invalid argument, not false.
SELECT hostile_probe.refused(m.role, p.path, format($$
		SELECT medchain.verify_proof(k.doc, %L) FROM hostile_probe.kept k
		 WHERE k.label OPERATOR(pg_catalog.=) 'head proof'$$, m.digest),
	'22023', format('verify_proof() with %s as %s, %s', m.what, m.role, p.label))
  FROM (SELECT m.i, m.role, m.what,
			   CASE m.i
					WHEN 1 THEN jsonb_set(k.doc, '{block_hash}', '"not hex digits"')
					WHEN 2 THEN jsonb_set(k.doc, '{height}', to_jsonb(k.doc ->> 'height'))
					WHEN 3 THEN jsonb_build_array(k.doc)
					ELSE k.doc || '{"comment": "kept since"}' END AS digest
		  FROM (VALUES (1, 'hostile_owner', 'a digest whose block_hash is not hex'),
					   (2, 'hostile_auditor', 'a digest whose height is a string'),
					   (3, 'hostile_reader', 'a digest that is an array'),
					   (4, 'superuser', 'a digest with an unknown member')) m(i, role, what),
			   hostile_probe.kept k
		 WHERE k.label = 'head digest') m,
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY m.i, p.i;

------------------------------------------------------------------------
-- verify_digest(): every member it gives is checked
------------------------------------------------------------------------

-- The head's digest with sealed_at a microsecond later, with a higher
-- difficulty floor, with another node: none of them is the head.  A member
-- medchain does not write is an invalid argument.
INSERT INTO hostile_probe.kept
SELECT 'digest, sealed_at changed',
	   jsonb_set(doc, '{sealed_at}',
				 to_jsonb(to_char(((doc ->> 'sealed_at')::timestamptz + interval '1 microsecond')
								  AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))
  FROM hostile_probe.kept WHERE label = 'head digest'
UNION ALL
SELECT 'digest, min_difficulty changed',
	   jsonb_set(doc, '{min_difficulty}', to_jsonb((doc ->> 'min_difficulty')::integer + 1))
  FROM hostile_probe.kept WHERE label = 'head digest'
UNION ALL
SELECT 'digest, node changed', jsonb_set(doc, '{node}', to_jsonb((doc ->> 'node') || ' elsewhere'))
  FROM hostile_probe.kept WHERE label = 'head digest'
UNION ALL
SELECT 'digest with an unknown member', doc || '{"comment": "kept since"}'
  FROM hostile_probe.kept WHERE label = 'head digest';
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ', medchain.verify_digest(h.doc), medchain.verify_digest(s.doc),
									medchain.verify_digest(m.doc), medchain.verify_digest(n.doc))
		  FROM hostile_probe.kept h, hostile_probe.kept s, hostile_probe.kept m, hostile_probe.kept n
		 WHERE h.label OPERATOR(pg_catalog.=) 'head digest'
		   AND s.label OPERATOR(pg_catalog.=) 'digest, sealed_at changed'
		   AND m.label OPERATOR(pg_catalog.=) 'digest, min_difficulty changed'
		   AND n.label OPERATOR(pg_catalog.=) 'digest, node changed'$$),
	't f f f',
	format('verify_digest() as %s, %s: sealed_at, min_difficulty and node are checked', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT hostile_probe.refused(r.role, p.path, $$
		SELECT medchain.verify_digest(k.doc) FROM hostile_probe.kept k
		 WHERE k.label OPERATOR(pg_catalog.=) 'digest with an unknown member'$$,
	r.sqlstate, format('verify_digest() of a digest with an unknown member %s %s, %s',
					   CASE r.sqlstate WHEN '42501' THEN 'refused to' ELSE 'fails as' END, r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor', '22023'), (2, 'hostile_owner', '22023'), (3, 'superuser', '22023'),
			   (4, 'hostile_reader', '42501')) r(i, role, sqlstate),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;

------------------------------------------------------------------------
-- rows_recorded() and ledger_tables: counts of the tables one may read
------------------------------------------------------------------------

-- Each table's current enablement and its first, released one, and an
-- enablement of "a.b; DROP TABLE x; --" asked for under the name of
-- "select", which has no such enablement.  A count counts pending rows
-- too; a table the role may not read has none (NULL).
CREATE TABLE hostile_probe.enablements (n integer PRIMARY KEY, relation text NOT NULL, enablement_id bigint NOT NULL);
GRANT SELECT ON hostile_probe.enablements TO PUBLIC;
INSERT INTO hostile_probe.enablements
SELECT t.n, coalesce(t.asked_as, t.relation),
	   CASE t.which
			WHEN 'current' THEN (SELECT r.enablement_id FROM medchain.ledger_registry r
								  WHERE r.relation = t.relation AND r.released_at IS NULL)
			ELSE (SELECT min(r.enablement_id) FROM medchain.ledger_registry r
				   WHERE r.relation = t.relation) END
  FROM (VALUES (1, '"Ward ""7"""."select"', 'current', NULL),
			   (2, '"Ward ""7"""."select"', 'first', NULL),
			   (3, '"Ward ""7"""."a.b; DROP TABLE x; --"', 'current', NULL),
			   (4, '"Ward ""7"""."a.b; DROP TABLE x; --"', 'first', NULL),
			   (5, '"Patient ü"."Befund ü"', 'current', NULL),
			   (6, '"Patient ü"."Befund ü"', 'first', NULL),
			   (7, '"Ward ""7"""."a.b; DROP TABLE x; --"', 'current', '"Ward ""7"""."select"')) t(n, relation, which, asked_as);
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.string_agg(COALESCE(medchain.rows_recorded(t.relation, t.enablement_id)::pg_catalog.text,
											  'null'), ' ' ORDER BY t.n)
		  FROM hostile_probe.enablements t$$),
	CASE r.role
		WHEN 'hostile_reader' THEN '9 4 null null null null null'
		ELSE '9 4 7 3 7 3 null'
	END,
	format('rows_recorded() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_owner'), (2, 'hostile_auditor'), (3, 'hostile_reader'), (4, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
-- The view counts the current enablement only.
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.string_agg(pg_catalog.concat(relation, '=', rows_recorded), ' '
									 ORDER BY relation COLLATE pg_catalog."C")
		  FROM medchain.ledger_tables$$),
	CASE r.role
		WHEN 'hostile_reader' THEN '"Ward ""7"""."select"=9'
		ELSE '"Patient ü"."Befund ü"=7 "Ward ""7"""."a.b; DROP TABLE x; --"=7 "Ward ""7"""."select"=9'
	END,
	format('ledger_tables after re-enabling, as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_owner'), (2, 'hostile_auditor'), (3, 'hostile_reader'), (4, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;

------------------------------------------------------------------------
-- verify() sees the registry and the queue altered under a hostile
-- search_path
------------------------------------------------------------------------

-- A superuser releases a table by hand in the registry, with no disable
-- event in the journal; then, separately, empties the pending queue, so
-- that the three pending entries are neither sealed nor queued.  Each
-- alteration is rolled back after the check.
SELECT is(hostile_probe.tampered($$
		UPDATE medchain.ledger_registry
		   SET relid = NULL, released_at = now(), released_by = current_user, release_reason = 'x'
		 WHERE relation = '"Ward ""7"""."a.b; DROP TABLE x; --"' AND released_at IS NULL$$,
		r.role, p.path, $$
		SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', v.finding, v.relation, v.row_key), '; ')
		  FROM medchain.verify() v$$),
	'registry_modified "Ward ""7"""."a.b; DROP TABLE x; --"',
	format('verify() as %s, %s, names the registration released by hand', r.role, p.label))
  FROM (VALUES (1, 'superuser'), (2, 'hostile_auditor'), (3, 'hostile_owner')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT is(hostile_probe.tampered($$DELETE FROM medchain.entry_batches$$,
		r.role, p.path, $$
		SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', v.finding, v.relation, v.row_key), '; '
									 ORDER BY v.relation COLLATE pg_catalog."C")
		  FROM medchain.verify() v$$),
	'row_unrecorded "Patient ü"."Befund ü" {"id": 7, "Key \"col\"": "g"}; '
	'row_unrecorded "Ward ""7"""."a.b; DROP TABLE x; --" {"Patient ü": "pending ü"}; '
	'row_unrecorded "Ward ""7"""."select" {"Key \"col\"": 9}',
	format('verify() as %s, %s, names the rows whose batched entries were deleted', r.role, p.label))
  FROM (VALUES (1, 'superuser'), (2, 'hostile_auditor'), (3, 'hostile_owner')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT is(hostile_probe.value('superuser', 'pg_catalog, hostile',
		$$SELECT pg_catalog.count(*) FROM medchain.verify()$$),
	'0', 'with the registry and the queue restored, verify() finds nothing again');

------------------------------------------------------------------------
-- The network's functions on a node without peers: what a peer's login
-- asks (heads, hashes, receipts, payloads of copies), replication and
-- consensus rounds, cosigned digests, proofs on copies, recovery
------------------------------------------------------------------------

SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ',
			(SELECT h.height OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(b.height) FROM medchain.blocks b)
			   FROM medchain.held_head((SELECT g.block_hash FROM medchain.blocks g WHERE g.height OPERATOR(pg_catalog.=) 0)) h),
			(SELECT pg_catalog.count(*) FROM medchain.held_heads()),
			(SELECT h.block_hash OPERATOR(pg_catalog.=) g.block_hash
			   FROM medchain.blocks g,
					medchain.held_hashes(g.block_hash, ARRAY[0::pg_catalog.int8]) h
			  WHERE g.height OPERATOR(pg_catalog.=) 0),
			(SELECT pg_catalog.count(*) FROM medchain.held_payloads(
				(SELECT g.block_hash FROM medchain.blocks g WHERE g.height OPERATOR(pg_catalog.=) 0), 0, 10)))$$),
	't 1 t 0', format('held_head(), held_heads(), held_hashes(), held_payloads() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
-- a node signs receipts for the copies it keeps, not for its own chain
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.count(*) FROM medchain.block_receipts(
			(SELECT g.block_hash FROM medchain.blocks g WHERE g.height OPERATOR(pg_catalog.=) 0), ARRAY[0::pg_catalog.int8, 1])$$),
	'0', format('block_receipts() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_owner'), (2, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ',
			(SELECT pg_catalog.count(*) FROM medchain.replicate_now()),
			(SELECT c.verdict OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) c.agreeing::pg_catalog.text
			   FROM medchain.consensus_check() c))$$),
	'0 agreed/1', format('replicate_now() and consensus_check() with no peers as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_owner'), (2, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ', medchain.verify_digest(medchain.digest(), 0),
									medchain.verify_digest(medchain.digest(), 1),
									(SELECT pg_catalog.count(*) FROM medchain.peer_status),
									(SELECT s.verdict FROM medchain.consensus_status s))$$),
	't f 0 agreed', format('verify_digest(d, k), peer_status and consensus_status as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
-- a proof anchored in this node's own chain, by anyone who may have it
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT medchain.verify_proof_on_copy(k.doc) FROM hostile_probe.kept k WHERE k.label OPERATOR(pg_catalog.=) 'proof'$$),
	'true', format('verify_proof_on_copy() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_reader'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
-- provenance() of every row a role reads, by the same query an analyst writes
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.count(*) FILTER (WHERE (medchain.provenance(t)).intact)::pg_catalog.text
			OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) pg_catalog.count(*)::pg_catalog.text
		  FROM "Ward ""7"""."select" t$$),
	'9/9', format('provenance() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_reader'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT hostile_probe.refused('hostile_owner', p.path, $$SELECT medchain.recover_chain('nobody')$$, '55000',
	format('recover_chain() with nothing to recover, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;
SELECT hostile_probe.denied(r.role, 'hostile, pg_catalog', r.sql, format('%s refused to %s', r.what, r.role))
  FROM (VALUES (1, 'hostile_reader', 'held_heads()', 'SELECT * FROM medchain.held_heads()'),
			   (2, 'hostile_reader', 'block_receipts()', $$SELECT * FROM medchain.block_receipts('\x00', ARRAY[0::bigint])$$),
			   (3, 'hostile_auditor', 'replicate_now()', 'SELECT * FROM medchain.replicate_now()'),
			   (4, 'hostile_auditor', 'consensus_check()', 'SELECT * FROM medchain.consensus_check()'),
			   (5, 'hostile_auditor', 'recover_chain()', $$SELECT medchain.recover_chain('nobody')$$)) r(i, role, what, sql)
 ORDER BY r.i;

------------------------------------------------------------------------
-- compliance_report() and compliance_report_text(): auditors and admins
------------------------------------------------------------------------

-- The report lists every ledger table (the owner reads all three), finds
-- nothing, and carries the head's digest.
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ', x OPERATOR(pg_catalog.->>) 'verdict',
				x OPERATOR(pg_catalog.#>>) '{findings_source,source}',
				(SELECT pg_catalog.string_agg(t OPERATOR(pg_catalog.->>) 'relation', ';'
											  ORDER BY t OPERATOR(pg_catalog.->>) 'relation' COLLATE pg_catalog."C")
				   FROM pg_catalog.jsonb_array_elements(x OPERATOR(pg_catalog.->) 'ledger_tables') t),
				x OPERATOR(pg_catalog.#>>) '{chain,height}' OPERATOR(pg_catalog.=)
					(SELECT pg_catalog.max(b.height)::pg_catalog.text FROM medchain.blocks b),
				(x OPERATOR(pg_catalog.->) 'digest') OPERATOR(pg_catalog.=) medchain.digest())
		  FROM medchain.compliance_report() x$$),
	'clean verify "Patient ü"."Befund ü";"Ward ""7"""."a.b; DROP TABLE x; --";"Ward ""7"""."select" t t',
	format('compliance_report() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' | ', pg_catalog.split_part(t, E'\n', 3),
				pg_catalog.strpos(t, E'\n  "Ward ""7"""."a.b; DROP TABLE x; --"  ') OPERATOR(pg_catalog.>) 0)
		  FROM medchain.compliance_report_text() t$$),
	'Verdict              CLEAN: no open findings | t',
	format('compliance_report_text() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_owner'), (3, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
-- With the batched entries deleted by hand, it names what verify() names.
SELECT is(hostile_probe.tampered($$DELETE FROM medchain.entry_batches$$, r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ', x OPERATOR(pg_catalog.->>) 'verdict',
				x OPERATOR(pg_catalog.->) 'findings_by_kind',
				(SELECT pg_catalog.string_agg(f OPERATOR(pg_catalog.->>) 'relation', ';'
											  ORDER BY f OPERATOR(pg_catalog.->>) 'relation' COLLATE pg_catalog."C")
				   FROM pg_catalog.jsonb_array_elements(x OPERATOR(pg_catalog.->) 'findings') f))
		  FROM medchain.compliance_report() x$$),
	'findings {"row_unrecorded": 3} "Patient ü"."Befund ü";"Ward ""7"""."a.b; DROP TABLE x; --";"Ward ""7"""."select"',
	format('compliance_report() as %s, %s, names the rows whose batched entries were deleted', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT hostile_probe.denied('hostile_reader', p.path, f.sql,
	format('%s refused to an ordinary role, %s', f.name, p.label))
  FROM (VALUES (1, 'compliance_report()', 'SELECT medchain.compliance_report()'),
			   (2, 'compliance_report_text()', 'SELECT medchain.compliance_report_text()')) f(i, name, sql),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY f.i, p.i;
-- A partitioned ledger table: a partition created and a table attached
-- with rows, a partition's DDL guarded, its rows checked and proven
-- through the partitioned table and through a partition
------------------------------------------------------------------------

SET ROLE hostile_owner;
CREATE TABLE "Ward ""7"""."Vitals ü" (id bigint, "Taken ""at""" date, pulse integer,
	PRIMARY KEY (id, "Taken ""at""")) PARTITION BY RANGE ("Taken ""at""");
CREATE TABLE "Ward ""7"""."Vitals 2025" PARTITION OF "Ward ""7"""."Vitals ü"
	FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO "Ward ""7"""."Vitals ü" VALUES (1, '2025-02-01', 70);
-- to be attached: its columns in another order
CREATE TABLE "Patient ü"."Vitals 2024" (pulse integer, "Taken ""at""" date NOT NULL, id bigint NOT NULL);
INSERT INTO "Patient ü"."Vitals 2024" VALUES (71, '2024-02-01', 2);
RESET ROLE;

SELECT is(hostile_probe.value('hostile_owner', 'hostile, pg_catalog',
		$$SELECT medchain.enable('"Ward ""7"""."Vitals ü"')$$),
	'1', 'enable() of a partitioned table, hostile first');
SELECT hostile_probe.lives('hostile_owner', 'pg_catalog, hostile',
	$$CREATE TABLE "Ward ""7"""."Vitals 2026" PARTITION OF "Ward ""7"""."Vitals ü"
		FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')$$,
	'a partition created, hostile last');
SELECT hostile_probe.lives('hostile_owner', 'hostile, pg_catalog',
	$$ALTER TABLE "Ward ""7"""."Vitals ü" ATTACH PARTITION "Patient ü"."Vitals 2024"
		FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')$$,
	'a table with rows attached, hostile first');
SELECT hostile_probe.lives('hostile_owner', 'pg_catalog, hostile',
	$$INSERT INTO "Ward ""7"""."Vitals 2026" VALUES (3, '2026-02-01', 72)$$,
	'an insert into the partition created, hostile last');
SELECT hostile_probe.refused('hostile_owner', 'hostile, pg_catalog',
	$$TRUNCATE "Ward ""7"""."Vitals 2026"$$,
	'55000', 'TRUNCATE of the partition created refused, hostile first');
SELECT hostile_probe.refused('hostile_owner', 'pg_catalog, hostile',
	$$ALTER TABLE "Ward ""7"""."Vitals ü" DETACH PARTITION "Patient ü"."Vitals 2024"$$,
	'55000', 'DETACH PARTITION refused, hostile last');
SELECT hostile_probe.refused('hostile_owner', 'hostile, pg_catalog',
	$$DROP TABLE "Patient ü"."Vitals 2024"$$,
	'55000', 'DROP TABLE of a partition refused, hostile first');
SELECT is(hostile_probe.value('superuser', p.path,
		$$SELECT pg_catalog.count(*) FROM medchain.verify('"Patient ü"."Vitals 2024"')$$),
	'0', format('verify() through a partition, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;
SELECT is(hostile_probe.value('hostile_owner', p.path, $$
		SELECT pg_catalog.count(*) FILTER (WHERE (medchain.provenance(t)).intact)::pg_catalog.text
			OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) pg_catalog.count(*)::pg_catalog.text
		  FROM $$ || p.tbl || $$ t$$),
	p.expected, format('provenance() of the rows of %s, %s', p.tbl, p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first', '"Ward ""7"""."Vitals ü"', '3/3'),
			   (2, 'pg_catalog, hostile', 'hostile last', '"Patient ü"."Vitals 2024"', '1/1')) p(i, path, label, tbl, expected)
 ORDER BY p.i;
SELECT is(hostile_probe.value('hostile_owner', 'pg_catalog, hostile', $$
		SELECT pg_catalog.bool_and(pg_catalog.sha256(medchain.row_encoding('"Patient ü"."Vitals 2024"', e.row_key))
								   OPERATOR(pg_catalog.=) e.row_hash)::pg_catalog.text
		  FROM medchain.entries e
		 WHERE e.relation OPERATOR(pg_catalog.=) '"Ward ""7"""."Vitals ü"' AND e.row_key IS NOT NULL$$),
	'true', 'every row entry of the partitioned table hashes its row, found through a partition, hostile last');
SELECT is(hostile_probe.value('hostile_owner', 'hostile, pg_catalog',
		$$SELECT medchain.disable('"Ward ""7"""."Vitals ü"', 'hostile test') IS NOT NULL$$),
	'true', 'disable() of a partitioned table, hostile first');

------------------------------------------------------------------------
-- Amendments: a versioned table with a hostile name, amended by an
-- ordinary role and read back with history()
------------------------------------------------------------------------

SET ROLE hostile_owner;
CREATE TABLE "Ward ""7"""."Notiz ü" ("Key ""col""" integer PRIMARY KEY, "Text" text);
INSERT INTO "Ward ""7"""."Notiz ü" VALUES (1, 'erste Fassung');
GRANT SELECT, UPDATE ON "Ward ""7"""."Notiz ü" TO hostile_reader;
RESET ROLE;
SELECT is(hostile_probe.value('hostile_owner', 'hostile, pg_catalog',
		$$SELECT medchain.enable('"Ward ""7"""."Notiz ü"', mode => 'versioned')$$),
	'1', 'enable() of a versioned table as the owner, hostile first');
SELECT hostile_probe.lives('hostile_owner', 'pg_catalog, hostile',
	$$SELECT medchain.require_reason('"Ward ""7"""."Notiz ü"')$$, 'require_reason() as the owner, hostile last');
SELECT hostile_probe.denied('hostile_reader', 'hostile, pg_catalog',
	$$SELECT medchain.require_reason('"Ward ""7"""."Notiz ü"', false)$$,
	'require_reason() refused to an ordinary role, hostile first');
SELECT hostile_probe.refused('hostile_reader', 'hostile, pg_catalog',
	$$UPDATE "Ward ""7"""."Notiz ü" SET "Text" = 'ohne Grund' WHERE "Key ""col""" OPERATOR(pg_catalog.=) 1$$,
	'22023', 'an amendment without a reason refused, hostile first');
SELECT ok(pg_catalog.set_config('medchain.reason', 'Korrektur "7"; DROP TABLE x', true) IS NOT NULL,
	'a reason is set for the amendments');
SELECT hostile_probe.lives('hostile_reader', 'hostile, pg_catalog',
	$$UPDATE "Ward ""7"""."Notiz ü" SET "Text" = 'zweite Fassung' WHERE "Key ""col""" OPERATOR(pg_catalog.=) 1$$,
	'an ordinary role amends a row, hostile first');
SELECT hostile_probe.lives('hostile_reader', 'pg_catalog, hostile',
	$$UPDATE "Ward ""7"""."Notiz ü" SET "Text" = 'dritte Fassung' WHERE "Key ""col""" OPERATOR(pg_catalog.=) 1$$,
	'an ordinary role amends it again, hostile last');
SELECT is(hostile_probe.value('hostile_reader', p.path, $$
		SELECT pg_catalog.string_agg(h.kind OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) h.intact::pg_catalog.text
				OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) COALESCE(h.row_data OPERATOR(pg_catalog.->>) 'Text', '-'),
				',' ORDER BY h.ord)
		  FROM medchain.history('"Ward ""7"""."Notiz ü"', '{"Key \"col\"": 1}') WITH ORDINALITY h(entry_id, kind,
				recorded_by, recorded_at, xact, block_height, block_hash, sealed_at, confirmations,
				peers_holding, cosigners, intact, supersedes, reason, current, row_data, ord)$$),
	'baseline:true:erste Fassung,update:true:zweite Fassung,update:true:dritte Fassung',
	format('history() as an ordinary role, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;
SELECT is(hostile_probe.value('superuser', 'hostile, pg_catalog', $$
		SELECT pg_catalog.count(*)::pg_catalog.text FROM medchain.verify('"Ward ""7"""."Notiz ü"')$$),
	'0', 'verify() of the versioned table and its history, hostile first');
SELECT is(hostile_probe.value('hostile_owner', 'pg_catalog, hostile',
		$$SELECT medchain.disable('"Ward ""7"""."Notiz ü"', 'hostile test') IS NOT NULL$$),
	'true', 'disable() of a versioned table, hostile last');
SELECT ok(pg_catalog.set_config('medchain.reason', '', true) IS NOT NULL, 'the reason is cleared');
-- Notarizations: medchain_admin (and medchain_notary) notarizes, anyone
-- attests, auditors list them
------------------------------------------------------------------------

SELECT is(hostile_probe.value(r.role, p.path, format($$
		SELECT (medchain.notarize(pg_catalog.convert_to(%L, 'UTF8'), %L) OPERATOR(pg_catalog.>) 0)::pg_catalog.text$$,
		'protocol notarized by ' || r.role || ', ' || p.label, 'hostile protocol ü, ' || p.label)),
	'true', format('notarize() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_owner'), (2, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT hostile_probe.lives('hostile_owner', 'hostile, pg_catalog',
	$$SELECT pg_catalog.lo_from_bytea(4242420, '\x0304'::pg_catalog.bytea)$$,
	'a large object of the owner''s, hostile first');
SELECT is(hostile_probe.value('hostile_owner', 'hostile, pg_catalog', $$
		SELECT pg_catalog.concat_ws(' ',
			medchain.notarize_hash(pg_catalog.sha256('\x0102'::pg_catalog.bytea), 'hostile hash') OPERATOR(pg_catalog.>) 0,
			medchain.notarize_large_object(4242420, 'hostile large object') OPERATOR(pg_catalog.>) 0)$$),
	't t', 'notarize_hash() and notarize_large_object() as the owner, hostile first');
SELECT hostile_probe.denied(r.role, p.path,
	$$SELECT medchain.notarize('\x00'::pg_catalog.bytea, 'hostile denied')$$,
	format('notarize() refused to %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_reader')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT is(hostile_probe.value('hostile_owner', 'hostile, pg_catalog',
		$$SELECT medchain.seal() IS NOT NULL$$),
	'true', 'seal() of the notarizations as the owner, hostile first');
-- attest(), and its proof checked, by every role
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ', a.label, a.recorded_by OPERATOR(pg_catalog.=) session_user,
									a.block_height IS NOT NULL, medchain.verify_proof(a.proof))
		  FROM medchain.attest(pg_catalog.convert_to('protocol notarized by hostile_owner, hostile first', 'UTF8')) a$$),
	'hostile protocol ü, hostile first t t t', format('attest() as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_reader'), (2, 'hostile_auditor'), (3, 'hostile_owner'), (4, 'superuser')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT is(hostile_probe.value('hostile_owner', p.path, $$
		SELECT pg_catalog.concat_ws(' ',
			(SELECT a.label FROM medchain.attest_hash(pg_catalog.sha256('\x0102'::pg_catalog.bytea)) a),
			(SELECT a.label FROM medchain.attest_large_object(4242420) a))$$),
	'hostile hash hostile large object', format('attest_hash() and attest_large_object() as the owner, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;
SELECT is(hostile_probe.value('hostile_reader', p.path, $$
		SELECT a.label FROM medchain.attest_hash(pg_catalog.sha256('\x0102'::pg_catalog.bytea)) a$$),
	'hostile hash', format('attest_hash() as an ordinary role, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;
SELECT is(hostile_probe.value(r.role, p.path, $$
		SELECT pg_catalog.concat_ws(' ',
			(SELECT pg_catalog.count(*) FROM medchain.notarizations n WHERE n.label OPERATOR(pg_catalog.~~) 'hostile %'),
			(SELECT pg_catalog.count(*) FROM medchain.entries e
			  WHERE e.kind OPERATOR(pg_catalog.=) 'notarize' AND e.note OPERATOR(pg_catalog.~~) 'hostile %'))$$),
	'6 6', format('medchain.notarizations and the entries as %s, %s', r.role, p.label))
  FROM (VALUES (1, 'hostile_auditor'), (2, 'hostile_owner')) r(i, role),
	   (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY r.i, p.i;
SELECT hostile_probe.denied('hostile_reader', p.path, $$SELECT pg_catalog.count(*) FROM medchain.notarizations$$,
	format('medchain.notarizations refused to an ordinary role, %s', p.label))
  FROM (VALUES (1, 'hostile, pg_catalog', 'hostile first'), (2, 'pg_catalog, hostile', 'hostile last')) p(i, path, label)
 ORDER BY p.i;

------------------------------------------------------------------------
-- Afterwards
------------------------------------------------------------------------

SELECT is_empty($$SELECT rolname FROM pg_roles WHERE rolname LIKE 'hostile\_%' AND rolsuper$$,
	'no hostile role became superuser');
SELECT is((SELECT string_agg(m.rolname || ' in ' || r.rolname, ', ' ORDER BY m.rolname, r.rolname)
			 FROM pg_auth_members a
			 JOIN pg_roles m ON m.oid = a.member
			 JOIN pg_roles r ON r.oid = a.roleid
			WHERE m.rolname LIKE 'hostile\_%'),
	'hostile_auditor in medchain_auditor, hostile_owner in medchain_admin',
	'no hostile role gained a membership');
SELECT is((SELECT last_value FROM hostile.calls),
	(SELECT (doc #>> '{}')::bigint FROM hostile_probe.kept WHERE label = 'hostile calls'),
	'no hostile code ran after the checks that meant to run it');
SELECT is_empty($$
	SELECT n, role_label, path_wanted, path_during FROM hostile_probe.statements
	 WHERE path_during <> path_wanted
		OR path_wanted NOT IN ('hostile, pg_catalog', 'pg_catalog, hostile')$$,
	'every statement ran with hostile on its search_path');
SELECT is_empty($$
	SELECT n, role_label, path_wanted, path_after FROM hostile_probe.statements
	 WHERE path_after <> path_wanted$$,
	'every statement left its search_path as it found it');
SELECT is_empty($$
	SELECT n, role_label, user_during FROM hostile_probe.statements
	 WHERE user_during <> CASE role_label WHEN 'superuser' THEN session_user ELSE role_label END$$,
	'every statement ran as the role it was meant for');
SELECT results_eq($$
	SELECT DISTINCT role_label, path_wanted FROM hostile_probe.statements
	 ORDER BY 1, 2$$,
	$$VALUES ('hostile_auditor', 'hostile, pg_catalog'), ('hostile_auditor', 'pg_catalog, hostile'),
			 ('hostile_owner', 'hostile, pg_catalog'), ('hostile_owner', 'pg_catalog, hostile'),
			 ('hostile_reader', 'hostile, pg_catalog'), ('hostile_reader', 'pg_catalog, hostile'),
			 ('superuser', 'hostile, pg_catalog'), ('superuser', 'pg_catalog, hostile')$$,
	'medchain was called by every role under both search_paths');

SELECT * FROM finish();
ROLLBACK;
