-- Shared fixtures: the sample EHR schema (scripts/sample_ehr.sql, which the
-- demo uses too) and the roles the other suites act as.
\set patients 20
\set ECHO none
\i scripts/sample_ehr.sql
\set ECHO all

CREATE ROLE regress_dba LOGIN IN ROLE medchain_admin;
CREATE ROLE regress_auditor LOGIN IN ROLE medchain_auditor;
CREATE ROLE regress_clinician LOGIN;
CREATE ROLE regress_stranger LOGIN;
GRANT USAGE ON SCHEMA cdm TO regress_clinician, regress_dba;
GRANT SELECT, INSERT ON cdm.measurement TO regress_clinician;

SELECT count(*) AS persons FROM cdm.person;
SELECT count(*) AS measurements FROM cdm.measurement;
