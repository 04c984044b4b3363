-- Nobody runs someone else's code through medchain: no search_path
-- hijack of medchain's own queries, and the table owner's code (domain
-- checks, type I/O) runs as the owner, never as the caller.
CREATE ROLE regress_alice LOGIN IN ROLE medchain_admin;
CREATE SCHEMA alice AUTHORIZATION regress_alice;
GRANT CREATE ON SCHEMA public TO regress_stranger;

-- A medchain_admin with an operator of her own first on her search_path
-- does not become superuser through enable() or disable().
SET SESSION AUTHORIZATION regress_alice;
CREATE TABLE alice.pt (id int PRIMARY KEY, note text);
INSERT INTO alice.pt VALUES (1, 'x');
CREATE FUNCTION alice.evil_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE 'ALTER ROLE regress_alice SUPERUSER';
	RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR alice.= (LEFTARG = text, RIGHTARG = text, FUNCTION = alice.evil_eq);
CREATE FUNCTION alice.evil_eq_oid(oid, oid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE 'ALTER ROLE regress_alice SUPERUSER';
	RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR alice.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = alice.evil_eq_oid);
SET search_path = alice, pg_catalog;
SELECT medchain.enable('alice.pt');
INSERT INTO alice.pt VALUES (2, 'y');
SELECT medchain.disable('alice.pt', 'testing the search_path') > 0 AS released;
SELECT medchain.enable('alice.pt');
RESET search_path;
RESET SESSION AUTHORIZATION;
SELECT rolsuper AS alice_is_superuser FROM pg_roles WHERE rolname = 'regress_alice';

-- An operator =(oid, integer) in public, where anyone with CREATE can put
-- it, is never called by verify() under the default search_path, and
-- verify() still sees a tampered row.
SET SESSION AUTHORIZATION regress_stranger;
CREATE FUNCTION public.never_equal(oid, integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'hostile operator ran as %', current_user;
	RETURN false;
END $$;
CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = integer, FUNCTION = public.never_equal);
CREATE FUNCTION public.never_equal_text(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'hostile text operator ran as %', current_user;
	RETURN false;
END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.never_equal_text);
RESET SESSION AUTHORIZATION;
SHOW search_path;
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE alice.pt DISABLE TRIGGER medchain_append_only;
UPDATE alice.pt SET note = 'tampered' WHERE id = 2;
SELECT finding, relation, row_key FROM medchain.verify();
SELECT finding, relation, row_key FROM medchain.verify('alice.pt');
ROLLBACK;
DROP OPERATOR public.= (oid, integer);
DROP OPERATOR public.= (text, text);

-- A domain check written by a table owner who is not a superuser runs as
-- that owner when a superuser asks for a row's encoding or proof.
SET SESSION AUTHORIZATION regress_alice;
CREATE FUNCTION alice.mrn_ok(v text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'domain check runs as %', current_user;
	RETURN v LIKE 'MRN-%';
END $$;
CREATE DOMAIN alice.mrn AS text CHECK (alice.mrn_ok(VALUE));
CREATE TABLE alice.patients (mrn alice.mrn PRIMARY KEY, name text);
INSERT INTO alice.patients VALUES ('MRN-1', 'A');
SELECT medchain.enable('alice.patients');
RESET SESSION AUTHORIZATION;
SELECT length(medchain.row_encoding('alice.patients', '{"mrn": "MRN-1"}')) > 0 AS encoded;
SET medchain.difficulty = 8;
SELECT medchain.seal() IS NOT NULL AS sealed;
SELECT medchain.verify_proof(medchain.proof('alice.patients', '{"mrn": "MRN-1"}')) AS proof_holds;
SELECT count(*) AS findings FROM medchain.verify('alice.patients');

-- What readers see of the registry and the views: only tables they may read.
SET SESSION AUTHORIZATION regress_stranger;
SELECT count(*) AS registrations FROM medchain.ledger_registry;
SELECT count(*) AS ledger_tables FROM medchain.ledger_tables;
SELECT pending_entries, oldest_pending_age IS NULL AS no_age FROM medchain.chain_status;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_clinician;
SELECT DISTINCT relation FROM medchain.ledger_registry ORDER BY 1;
SELECT relation FROM medchain.ledger_tables ORDER BY 1;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_auditor;
SELECT count(*) = (SELECT count(*) FROM medchain.ledger_registry WHERE released_at IS NULL)
       AND count(*) > 0 AS auditor_sees_all
  FROM medchain.ledger_tables;
RESET SESSION AUTHORIZATION;

-- CREATE RULE on a ledger table is refused: a DO INSTEAD rule would keep
-- inserts from being recorded.
CREATE TABLE public.rule_target (id int PRIMARY KEY);
CREATE RULE divert AS ON INSERT TO alice.pt DO INSTEAD INSERT INTO public.rule_target VALUES (NEW.id);
\echo :LAST_ERROR_SQLSTATE
-- and a table with a rule cannot be enabled
CREATE TABLE public.ruled (id int PRIMARY KEY);
CREATE RULE divert AS ON INSERT TO public.ruled DO INSTEAD INSERT INTO public.rule_target VALUES (NEW.id);
SELECT medchain.enable('public.ruled');
\echo :LAST_ERROR_SQLSTATE
