-- Roles: medchain_admin enables and disables, medchain_auditor reads the
-- whole journal, everybody else reads only entries of tables they can read
-- and nobody writes the journal but medchain.
CREATE TABLE cdm.note (note_id int PRIMARY KEY, person_id int, note_text text);
ALTER TABLE cdm.note OWNER TO regress_dba;
GRANT SELECT, INSERT ON cdm.note TO regress_clinician;

-- Only medchain_admin may enable, and only tables it owns.
SET ROLE regress_clinician;
SELECT medchain.enable('cdm.note');
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_dba;
SELECT medchain.enable('cdm.person');
SELECT medchain.enable('cdm.note');
RESET ROLE;

-- Rows are recorded as the session user, whoever inserts them.
SET SESSION AUTHORIZATION regress_clinician;
INSERT INTO cdm.note VALUES (1, 1, 'Patient reports improvement.');
INSERT INTO cdm.measurement (measurement_id, person_id, measurement_concept_id, measurement_date, measurement_type_concept_id)
VALUES (5000, 1, 3004410, '2026-01-01', 32817);
-- The clinician sees entries of tables it can read, nothing else.
SELECT DISTINCT relation FROM medchain.entries ORDER BY 1;
SELECT relation, row_key, recorded_by FROM medchain.entries WHERE kind = 'insert' ORDER BY entry_id;
-- Nobody writes the journal or the registry directly.
INSERT INTO medchain.journal (entry_id, relation, row_hash, entry_hash, kind, recorded_by, recorded_at, xact)
VALUES (-1, 'cdm.note', '\x00', '\x00', 'insert', 'forger', now(), '1');
\echo :LAST_ERROR_SQLSTATE
UPDATE medchain.journal SET row_hash = '\x00';
DELETE FROM medchain.journal;
DELETE FROM medchain.entry_batches;
UPDATE medchain.entries SET row_hash = '\x00';
UPDATE medchain.ledger_registry SET released_at = now();
SELECT nextval('medchain.entries_entry_id_seq');
RESET SESSION AUTHORIZATION;

-- A role with no privileges on the tables sees no entries at all.
SET SESSION AUTHORIZATION regress_stranger;
SELECT count(*) AS visible_entries FROM medchain.entries;
RESET SESSION AUTHORIZATION;

-- The auditor sees everything, and still cannot write.
SET SESSION AUTHORIZATION regress_auditor;
SELECT count(*) = (SELECT count(*) FROM medchain.entries) AS sees_all,
       count(DISTINCT relation) > 3 AS many_tables
  FROM medchain.entries;
DELETE FROM medchain.journal;
DELETE FROM medchain.entry_batches;
SELECT medchain.enable('public.keyless');
RESET SESSION AUTHORIZATION;

-- disable(): medchain_admin only, a reason required, an event recorded.
SET SESSION AUTHORIZATION regress_clinician;
SELECT medchain.disable('cdm.note', 'not allowed');
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_dba;
SELECT medchain.disable('cdm.note', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.disable('cdm.note', '');
SELECT medchain.disable('cdm.note', E' \t ');
SELECT medchain.disable(NULL, 'why');
SELECT medchain.disable('cdm.condition_occurrence', 'never enabled');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.disable('cdm.note', 'superseded by the notes service') AS event_entry \gset
SELECT kind, row_key, recorded_by, detail FROM medchain.entries WHERE entry_id = :event_entry;
SELECT relation, released_by, release_reason FROM medchain.ledger_registry WHERE relation = 'cdm.note';
SELECT medchain.disable('cdm.note', 'twice');
RESET SESSION AUTHORIZATION;
-- The released table's entries stay; it is no longer listed; it accepts
-- changes and records nothing new.
SELECT kind, count(*) FROM medchain.entries WHERE relation = 'cdm.note' GROUP BY kind ORDER BY kind;
SELECT count(*) AS listed FROM medchain.ledger_tables WHERE relation = 'cdm.note';
UPDATE cdm.note SET note_text = 'corrected' WHERE note_id = 1;
INSERT INTO cdm.note VALUES (2, 1, 'after release');
SELECT count(*) AS entries FROM medchain.entries WHERE relation = 'cdm.note';
-- And can be enabled again: a new registration with a fresh baseline.
SELECT medchain.enable('cdm.note');
SELECT count(*) AS registrations FROM medchain.ledger_registry WHERE relation = 'cdm.note';
SELECT rows_recorded FROM medchain.ledger_tables WHERE relation = 'cdm.note';
