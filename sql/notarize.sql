-- Proof of existence: a research team notarizes a trial protocol (its
-- SHA-256 and a label go into the chain, the document does not), and
-- anyone holding a file can later ask whether it is that protocol,
-- unchanged, and since when.
SET medchain.difficulty = 8;
CREATE ROLE regress_researcher LOGIN IN ROLE medchain_notary;
-- Notarizations sit in the chain beside a ledger table's rows.
CREATE TABLE public.trial_sites (site_id int PRIMARY KEY, city text);
INSERT INTO public.trial_sites VALUES (1, 'Leiden'), (2, 'Porto');
SELECT medchain.enable('public.trial_sites');
CREATE TEMP TABLE doc (name text PRIMARY KEY, body bytea NOT NULL);
GRANT SELECT ON doc TO PUBLIC;
INSERT INTO doc VALUES
	('protocol', convert_to(E'Trial NCT-0042, protocol version 1\nPrimary endpoint: HbA1c at 24 weeks.\n', 'UTF8')),
	('results', convert_to(E'NCT-0042 results: 412 participants, HbA1c -0.6%\n', 'UTF8')),
	('amendment', convert_to(E'NCT-0042 amendment 1: adds a 52-week follow-up.\n', 'UTF8')),
	('consent', convert_to(E'NCT-0042 consent form, version 3\n', 'UTF8'));

-- Errors whose message names an entry or an object by a number that
-- depends on what ran before, with the number left out.
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE query;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '\d+', 'N', 'g');
END
$$;

-- Only notaries and admins write notarizations into the chain.
SET SESSION AUTHORIZATION regress_stranger;
SELECT medchain.notarize((SELECT body FROM doc WHERE name = 'protocol'), 'NCT-0042 protocol v1');
\echo :LAST_ERROR_SQLSTATE
SET SESSION AUTHORIZATION regress_auditor;
SELECT medchain.notarize_hash(sha256('x'), 'an auditor only reads');
RESET SESSION AUTHORIZATION;
-- EXECUTE alone is not enough: the caller must be a notary.
GRANT EXECUTE ON FUNCTION medchain.notarize(bytea, text) TO regress_clinician;
SET SESSION AUTHORIZATION regress_clinician;
SELECT medchain.notarize((SELECT body FROM doc WHERE name = 'protocol'), 'NCT-0042 protocol v1');
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
REVOKE EXECUTE ON FUNCTION medchain.notarize(bytea, text) FROM regress_clinician;

SET SESSION AUTHORIZATION regress_researcher;
SELECT medchain.notarize(body, 'NCT-0042 protocol v1') AS protocol_entry FROM doc WHERE name = 'protocol' \gset
RESET SESSION AUTHORIZATION;

-- The entry holds the document's SHA-256 and the label, nothing else.
SELECT relation, kind, format_version, enablement_id, row_key, supersedes, note, detail,
	   recorded_by, row_hash = (SELECT sha256(body) FROM doc WHERE name = 'protocol') AS document_hash,
	   block_height
  FROM medchain.entries WHERE entry_id = :protocol_entry;
-- Its hash is FORMAT.md's entry encoding, version 3.
SELECT forge.entry_hash(j) = j.entry_hash AS format_md FROM medchain.journal j WHERE entry_id = :protocol_entry;

-- Pending: anyone may attest; the block fields and the proof are NULL.
SET SESSION AUTHORIZATION regress_stranger;
SELECT a.entry_id = :protocol_entry AS first_entry, a.label, a.recorded_by, a.block_height,
	   a.block_hash, a.sealed_at, a.confirmations, a.peers_holding, a.cosigners, a.proof
  FROM doc d, medchain.attest(d.body) a WHERE d.name = 'protocol';
RESET SESSION AUTHORIZATION;

-- Sealed: the block, and confirmations that grow with the chain.
SELECT medchain.seal() AS protocol_block \gset
SELECT a.entry_id = :protocol_entry AS first_entry, a.label, a.block_height - :protocol_block AS block,
	   a.block_hash = b.block_hash AS block_hash, a.sealed_at = b.sealed_at AS sealed_at,
	   a.recorded_at = e.recorded_at AS recorded_at, a.confirmations, a.peers_holding, a.cosigners,
	   a.proof IS NOT NULL AS proven
  FROM doc d, medchain.attest(d.body) a
  JOIN medchain.blocks b ON b.height = a.block_height
  JOIN medchain.journal e ON e.entry_id = a.entry_id
 WHERE d.name = 'protocol';
SET SESSION AUTHORIZATION regress_dba;
SELECT medchain.notarize(body, 'NCT-0042 results') AS results_entry FROM doc WHERE name = 'results' \gset
RESET SESSION AUTHORIZATION;
SELECT medchain.seal() AS results_block \gset
SELECT d.name, a.label, a.recorded_by, a.block_height - :protocol_block AS block, a.confirmations
  FROM doc d, medchain.attest(d.body) a ORDER BY d.name;

-- A single changed byte, or a document never notarized: no row.
SELECT count(*) AS changed_byte
  FROM doc d, medchain.attest(set_byte(d.body, 10, get_byte(d.body, 10) # 1)) a WHERE d.name = 'protocol';
SELECT count(*) AS appended_byte
  FROM doc d, medchain.attest(d.body || '\x0a'::bytea) a WHERE d.name = 'protocol';
SELECT count(*) AS never_notarized FROM doc d, medchain.attest(d.body) a WHERE d.name = 'amendment';
SELECT count(*) AS empty_document FROM medchain.attest(''::bytea);
SELECT count(*) AS null_document FROM medchain.attest(NULL);

-- The same document twice: attest() answers for the first recording.
-- Notarized again once sealed: the sealed one is the first.
SET SESSION AUTHORIZATION regress_researcher;
SELECT medchain.notarize(body, 'NCT-0042 protocol v1, again') AS protocol_again FROM doc WHERE name = 'protocol' \gset
SELECT a.entry_id = :protocol_entry AS first_entry, a.label FROM doc d, medchain.attest(d.body) a WHERE d.name = 'protocol';
-- Twice while pending, in two transactions: the one recorded first.
SELECT medchain.notarize(body) AS amendment_entry FROM doc WHERE name = 'amendment' \gset
SELECT medchain.notarize(body, 'amendment, again') > 0 AS notarized FROM doc WHERE name = 'amendment';
SELECT a.entry_id = :amendment_entry AS first_entry, a.label, a.block_height
  FROM doc d, medchain.attest(d.body) a WHERE d.name = 'amendment';
RESET SESSION AUTHORIZATION;
-- Sealed in one block: still the first.
SELECT medchain.seal() IS NOT NULL AS sealed;
SELECT a.entry_id = :amendment_entry AS first_entry, a.label, a.block_height IS NOT NULL AS sealed
  FROM doc d, medchain.attest(d.body) a WHERE d.name = 'amendment';
SELECT a.entry_id = :protocol_entry AS first_entry FROM doc d, medchain.attest(d.body) a WHERE d.name = 'protocol';

-- A document hashed elsewhere: notarize_hash() and attest_hash() take the
-- 32-byte SHA-256; attest() finds it from the document.
SET SESSION AUTHORIZATION regress_researcher;
SELECT medchain.notarize_hash(sha256(body), 'consent form v3, hashed at the site') AS consent_entry
  FROM doc WHERE name = 'consent' \gset
RESET SESSION AUTHORIZATION;
SELECT a.entry_id = :consent_entry AS found, a.label FROM doc d, medchain.attest(d.body) a WHERE d.name = 'consent';
SELECT d.name, a.entry_id IN (:consent_entry, :protocol_entry) AS found
  FROM doc d, medchain.attest_hash(sha256(d.body)) a ORDER BY d.name;

-- Labels: none, or 1 to 1000 characters.
SET SESSION AUTHORIZATION regress_researcher;
SELECT medchain.notarize_hash(sha256('no label'), NULL) AS unlabelled \gset
SELECT label IS NULL AS no_label FROM medchain.attest('no label'::bytea);
SELECT medchain.notarize_hash(sha256('long label'), repeat('x', 1000)) > 0 AS notarized;
SELECT length(label) FROM medchain.attest('long label'::bytea);
SELECT medchain.notarize('x'::bytea, '');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.notarize('x'::bytea, repeat('x', 1001));
\echo :LAST_ERROR_SQLSTATE
-- Errors: a NULL document, a hash that is not 32 bytes, a large object
-- that does not exist.
SELECT medchain.notarize(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.notarize(NULL, 'no document');
SELECT medchain.notarize_hash(NULL, 'no hash');
SELECT medchain.notarize_hash('\x0102', 'too short');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.notarize_hash(decode(encode(sha256('x'), 'hex') || '00', 'hex'));
SELECT * FROM medchain.attest_hash('\x01');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.notarize_large_object(NULL);
SELECT medchain.notarize_large_object('4242424242');
\echo :LAST_ERROR_SQLSTATE
-- Not in a read-only transaction, nor on a standby.
BEGIN TRANSACTION READ ONLY;
SELECT medchain.notarize('x'::bytea);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS attest_null_hash FROM medchain.attest_hash(NULL);

-- A large object, read a slice at a time with the caller's privileges.
SET SESSION AUTHORIZATION regress_researcher;
SELECT lo_from_bytea(0, decode(string_agg(md5(i::text), ''), 'hex')) AS results_lo
  FROM generate_series(1, 200000) i \gset
SELECT medchain.notarize_large_object(:results_lo, 'NCT-0042 raw data, 3.2 MB') AS lo_entry \gset
SELECT j.row_hash = sha256(lo_get(:results_lo)) AS lo_hash FROM medchain.journal j WHERE j.entry_id = :lo_entry;
SELECT a.entry_id = :lo_entry AS found, a.label FROM medchain.attest_large_object(:results_lo) a;
SELECT a.entry_id = :lo_entry AS found FROM medchain.attest(lo_get(:results_lo)) a;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_stranger;
SELECT pg_temp.error_of(format('SELECT medchain.attest_large_object(%s)', :results_lo)) AS stranger;
RESET SESSION AUTHORIZATION;

-- Values stored out of line: uncompressed (STORAGE EXTERNAL), read a
-- slice at a time, of sizes at and around the slice boundary (2 slices
-- of 512 TOAST chunks of 1996 bytes); compressed, read whole.  Each gives
-- the digest sha256() gives.
CREATE TABLE public.trial_files (name text PRIMARY KEY, body bytea);
ALTER TABLE public.trial_files ALTER COLUMN body SET STORAGE EXTERNAL;
INSERT INTO public.trial_files
SELECT 'raw ' || n, substring(lo_get(:results_lo) FROM 1 FOR n)
  FROM unnest(ARRAY[2043903, 2043904, 2043905, 3199999]) n;
ALTER TABLE public.trial_files ALTER COLUMN body SET STORAGE EXTENDED;
INSERT INTO public.trial_files VALUES ('compressed', convert_to(repeat('HbA1c 6.1; ', 300000), 'UTF8'));
SELECT name, octet_length(body), pg_column_compression(body) AS compression FROM public.trial_files ORDER BY name;
CREATE TEMP TABLE trial_file_entries AS
SELECT name, medchain.notarize(body, name) AS entry_id FROM public.trial_files;
SELECT f.name, j.row_hash = sha256(f.body) AS same_digest, a.entry_id = j.entry_id AS attested
  FROM public.trial_files f
  JOIN trial_file_entries n USING (name)
  JOIN medchain.journal j ON j.entry_id = n.entry_id
 CROSS JOIN LATERAL medchain.attest(f.body) a
 ORDER BY f.name;

-- Who sees notarizations in the journal: notaries, admins and auditors,
-- through medchain.notarizations and medchain.entries; nobody else.
SET SESSION AUTHORIZATION regress_researcher;
SELECT label, recorded_by, document_sha256 = sha256('no label') AS hash
  FROM medchain.notarizations WHERE entry_id = :unlabelled;
SELECT count(*) > 0 AS sees_entries FROM medchain.entries WHERE kind = 'notarize';
SET SESSION AUTHORIZATION regress_auditor;
SELECT count(*) = (SELECT count(*) FROM medchain.entries WHERE kind = 'notarize') AS sees_all
  FROM medchain.notarizations;
SET SESSION AUTHORIZATION regress_stranger;
SELECT count(*) AS visible_notarizations FROM medchain.entries WHERE kind = 'notarize';
SELECT count(*) FROM medchain.notarizations;
RESET SESSION AUTHORIZATION;

-- The proof: the entry, its Merkle path and the chain up to the head
-- (or an anchor), checked by verify_proof() as an outside verifier would.
SELECT medchain.seal() IS NOT NULL AS sealed;
SELECT a.proof ->> 'document_sha256' = encode(sha256(d.body), 'hex') AS document_sha256,
	   a.proof -> 'entry' ->> 'kind' AS kind, a.proof -> 'entry' ->> 'schema' AS schema,
	   a.proof -> 'entry' ->> 'table' AS table, a.proof -> 'entry' ->> 'note' AS note,
	   a.proof -> 'entry' -> 'row_key' AS row_key, a.proof ? 'row' AS has_row,
	   jsonb_array_length(a.proof -> 'chain') = a.confirmations AS chain_to_head,
	   medchain.verify_proof(a.proof) AS valid,
	   medchain.verify_proof(a.proof, medchain.digest()) AS anchored
  FROM doc d, medchain.attest(d.body) a WHERE d.name = 'protocol';
SELECT jsonb_array_length(a.proof -> 'chain') AS chain, medchain.verify_proof(a.proof) AS valid
  FROM doc d, medchain.attest(d.body, :results_block) a WHERE d.name = 'protocol';
SELECT pg_temp.error_of(format('SELECT medchain.attest(%L, %s)', d.body, :protocol_block - 1)) AS below_block
  FROM doc d WHERE d.name = 'protocol';
-- A proof for another document does not hold; one without the document's
-- hash, or a row proof with one, is not a proof medchain writes.
SELECT medchain.verify_proof(jsonb_set(a.proof, '{document_sha256}',
									   to_jsonb(encode(sha256('\x00'::bytea), 'hex')))) AS other_document
  FROM doc d, medchain.attest(d.body) a WHERE d.name = 'protocol';
SELECT medchain.verify_proof(a.proof - 'document_sha256') FROM doc d, medchain.attest(d.body) a WHERE d.name = 'protocol';
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.verify_proof(medchain.proof('public.trial_sites', '{"site_id": 1}')
							 || jsonb_build_object('document_sha256', encode(sha256('x'), 'hex')));
-- A notarization is no event.
SELECT pg_temp.error_of(format('SELECT medchain.event_proof(%s)', :protocol_entry)) AS event_proof;

-- Under a hostile search_path, nothing of the caller's runs.
CREATE SCHEMA evil;
CREATE FUNCTION evil.byteaeq(bytea, bytea) RETURNS boolean LANGUAGE plpgsql AS
	$$ BEGIN RAISE NOTICE 'hijacked bytea ='; RETURN true; END $$;
CREATE OPERATOR evil.= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = evil.byteaeq);
CREATE FUNCTION evil.texteq(text, text) RETURNS boolean LANGUAGE plpgsql AS
	$$ BEGIN RAISE NOTICE 'hijacked text ='; RETURN true; END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq);
CREATE FUNCTION evil.sha256(bytea) RETURNS bytea LANGUAGE plpgsql AS
	$$ BEGIN RAISE NOTICE 'hijacked sha256'; RETURN '\x00'; END $$;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
SET SESSION AUTHORIZATION regress_researcher;
SET search_path = evil, pg_catalog, pg_temp;
SELECT medchain.notarize(body, 'under a hostile search_path') > 0 AS notarized
  FROM pg_temp.doc WHERE name OPERATOR(pg_catalog.=) 'amendment';
SELECT a.entry_id OPERATOR(pg_catalog.=) :amendment_entry AS first_entry, a.proof IS NOT NULL AS proven
  FROM pg_temp.doc d, medchain.attest(d.body) a WHERE d.name OPERATOR(pg_catalog.=) 'amendment';
SELECT count(*) AS listed FROM medchain.notarizations
 WHERE label OPERATOR(pg_catalog.=) 'under a hostile search_path';
SELECT count(*) AS visible FROM medchain.entries
 WHERE note OPERATOR(pg_catalog.=) 'under a hostile search_path';
RESET search_path;
RESET SESSION AUTHORIZATION;
DROP SCHEMA evil CASCADE;

-- verify() checks notarizations as it checks every entry.
SELECT medchain.seal() IS NOT NULL AS sealed;
SELECT * FROM medchain.verify();
-- A label changed behind medchain's back: the entry no longer hashes
-- right, and attest() refuses to vouch for it.
BEGIN;
UPDATE medchain.journal SET note = 'NCT-0042 protocol v2' WHERE entry_id = :protocol_entry;
SELECT finding, relation, entry_id = :protocol_entry AS protocol_entry, block_height - :protocol_block AS block, detail
  FROM medchain.verify();
SELECT pg_temp.error_of(format('SELECT medchain.attest(%L)', body)) AS attest FROM doc WHERE name = 'protocol';
ROLLBACK;
-- Rehashed, it breaks its block instead; a notarization forged to name a
-- ledger table is no notarization at all.
BEGIN;
UPDATE medchain.journal j SET note = 'NCT-0042 protocol v2' WHERE entry_id = :protocol_entry;
UPDATE medchain.journal j SET entry_hash = forge.entry_hash(j) WHERE entry_id = :protocol_entry;
SELECT finding, relation, block_height - :protocol_block AS block, detail FROM medchain.verify();
ROLLBACK;
BEGIN;
SELECT medchain.notarize_hash(sha256('forged'), 'to be forged') AS forged_entry \gset
UPDATE medchain.journal j SET relation = 'public.trial_sites',
	   enablement_id = (SELECT enablement_id FROM medchain.ledger_registry WHERE relation = 'public.trial_sites')
 WHERE entry_id = :forged_entry;
UPDATE medchain.journal j SET entry_hash = forge.entry_hash(j) WHERE entry_id = :forged_entry;
SELECT finding, relation, entry_id = :forged_entry AS forged_entry, detail FROM medchain.verify();
SELECT count(*) AS attested FROM medchain.attest('forged'::bytea);
ROLLBACK;
SELECT * FROM medchain.verify();
SELECT lo_unlink(:results_lo);
DROP TABLE public.trial_files;
SELECT medchain.disable('public.trial_sites', 'test done') IS NOT NULL AS released;
