-- Node keys and signed blocks: every block sealed from 1.3 on is format 3,
-- signed with the node's Ed25519 key over its chain id, height and hash;
-- the chain records each key that signs it, and verify() names a forged,
-- missing or misattributed signature, an unsigned block above a signed one
-- and a key the chain never announced.  Tampering is done as a superuser
-- going around medchain, in transactions rolled back afterwards.
SET medchain.difficulty = 8;

-- The node's identity: its name, its key, the key's fingerprint (what
-- identifies the node) and the chain's id, the hash of the genesis block.
SELECT medchain.node_identity() AS identity \gset
SELECT k AS member FROM jsonb_object_keys(:'identity') k ORDER BY k;
SELECT i->>'algorithm' AS algorithm,
	   i->>'node_name' = (SELECT node_name FROM medchain.blocks ORDER BY height DESC LIMIT 1) AS node_name,
	   i->>'public_key' ~ '^[0-9a-f]{64}$' AS public_key_hex,
	   i->>'fingerprint' = encode(sha256(decode(i->>'public_key', 'hex')), 'hex') AS fingerprint_is_key_hash,
	   i->>'chain_id' = (SELECT encode(block_hash, 'hex') FROM medchain.blocks WHERE height = 0) AS chain_id_is_genesis
  FROM (SELECT :'identity'::jsonb AS i) x;

-- A block sealed now: format 3, signed by the node's key, which its node_id
-- names; its chain_id is the genesis block's hash; its header, built in
-- SQL from FORMAT.md, hashes to block_hash.
CREATE TABLE public.heart_rates (id int PRIMARY KEY, pulse int);
SELECT medchain.enable('public.heart_rates');
INSERT INTO public.heart_rates SELECT i, 60 + i FROM generate_series(1, 6) i;
SELECT medchain.seal() AS head \gset
SELECT b.format_version, length(b.signer_key) AS key_bytes, length(b.signature) AS signature_bytes,
	   b.signer_key = decode(:'identity'::jsonb->>'public_key', 'hex') AS node_key,
	   b.node_id = sha256(b.signer_key) AS node_id_is_fingerprint,
	   b.chain_id = g.block_hash AS chain_id_is_genesis,
	   sha256(forge.header(b)) = b.block_hash AS header_matches,
	   length(forge.header(b)) AS header_bytes,
	   length(forge.signed_message(b)) AS message_bytes
  FROM medchain.blocks b, medchain.blocks g WHERE b.height = :head AND g.height = 0;
-- The signature verifies outside medchain, with the openssl command.
SELECT forge.program_output(format(
		'f=$(mktemp) s=$(mktemp) && perl -e ''print pack("H*", shift)'' %s > "$f"'
		' && perl -e ''print pack("H*", shift)'' %s > "$s"'
		' && openssl pkeyutl -verify -rawin -inkey %s -in "$f" -sigfile "$s"; rm -f "$f" "$s"',
		encode(forge.signed_message(b), 'hex'), encode(b.signature, 'hex'), forge.node_key_file()))
	   AS openssl_says
  FROM medchain.blocks b WHERE b.height = :head;
-- Every block sealed since the update is signed; the genesis block of this
-- database was sealed by 1.3.
SELECT format_version, count(*) > 0 AS blocks, bool_and(signature IS NOT NULL) AS all_signed
  FROM medchain.blocks GROUP BY 1 ORDER BY 1;

-- The chain announced the key once, with the first block it signed: a
-- node_key event of medchain.blocks, sealed in that block.
SELECT relation, kind, detail->>'action' AS action,
	   detail->>'public_key' = :'identity'::jsonb->>'public_key' AS public_key,
	   detail->>'fingerprint' = :'identity'::jsonb->>'fingerprint' AS fingerprint,
	   detail->>'node_name' = :'identity'::jsonb->>'node_name' AS node_name,
	   block_height = (SELECT min(height) FROM medchain.blocks WHERE format_version = 3) AS in_first_signed_block
  FROM medchain.entries WHERE relation = 'medchain.blocks';
SELECT entry_id AS announcement FROM medchain.entries WHERE relation = 'medchain.blocks' \gset
SELECT medchain.verify_proof(medchain.event_proof(:announcement), medchain.digest()) AS announcement_proof;

-- The digest of a signed block carries its chain id, signer key and
-- signature, and holds.
SELECT medchain.digest() AS digest \gset
SELECT d->>'chain_id' = :'identity'::jsonb->>'chain_id' AS chain_id,
	   d->>'signer_key' = :'identity'::jsonb->>'public_key' AS signer_key,
	   d->>'signature' = (SELECT encode(signature, 'hex') FROM medchain.blocks WHERE height = :head) AS signature,
	   medchain.verify_digest(d) AS holds,
	   medchain.verify_digest(jsonb_set(d, '{signature}', to_jsonb(repeat('00', 64)))) AS other_signature_holds
  FROM (SELECT :'digest'::jsonb AS d) x;

-- Clean so far.
SELECT count(*) AS findings FROM medchain.verify();

CREATE VIEW public.signature_report AS
SELECT finding, block_height - :head AS block,
	   regexp_replace(regexp_replace(detail, '[0-9a-f]{64}', 'K', 'g'), '\d+', 'N', 'g') AS detail
  FROM medchain.verify() ORDER BY block_height, finding;

-- signature_invalid: a signature with one bit changed, a signature
-- removed, another key put in place of the signer's, a block re-mined by
-- someone without the key (its old signature no longer verifies).
BEGIN;
UPDATE medchain.blocks SET signature = set_byte(signature, 10, get_byte(signature, 10) # 1)
 WHERE height = :head;
SELECT * FROM public.signature_report;
SELECT medchain.verify_digest(:'digest') AS digest_holds;
ROLLBACK;
BEGIN;
UPDATE medchain.blocks SET signature = NULL WHERE height = :head;
SELECT * FROM public.signature_report;
ROLLBACK;
BEGIN;
UPDATE medchain.blocks SET signer_key = forge.public_key(forge.new_key('forge_other.key'))
 WHERE height = :head;
SELECT * FROM public.signature_report;
ROLLBACK;
BEGIN;
UPDATE medchain.blocks SET sealed_at = sealed_at - interval '1 minute' WHERE height = :head;
SELECT forge.reseal(:head, 8, resign => false);
SELECT * FROM public.signature_report;
ROLLBACK;

-- A superuser who can read the key file re-signs what they re-mine: one
-- node cannot tell (DESIGN.md, "Signatures"); a digest kept outside can.
BEGIN;
UPDATE medchain.blocks SET sealed_at = sealed_at - interval '1 minute' WHERE height = :head;
SELECT forge.reseal(:head, 8);
SELECT * FROM public.signature_report;
SELECT medchain.verify_digest(:'digest') AS digest_holds;
ROLLBACK;

-- signer_unknown: a block re-mined and signed with a key of the forger's
-- own, consistently (node_id, signer_key, signature): no node_key event of
-- the chain announces that key.
BEGIN;
SELECT forge.reseal(:head, 8, key_file => forge.new_key('forge_other.key'));
SELECT * FROM public.signature_report;
ROLLBACK;

-- block_unsigned: the head replaced by an unsigned block of format 2,
-- re-mined, above the signed blocks; a digest of the block below no longer
-- holds, as the chain above it breaks the rules.
BEGIN;
UPDATE medchain.blocks SET format_version = 2, chain_id = NULL, node_id = NULL,
	   signer_key = NULL, signature = NULL
 WHERE height = :head;
SELECT forge.reseal(:head, 8);
SELECT * FROM public.signature_report;
SELECT medchain.verify_digest(jsonb_build_object('height', :head,
		'block_hash', (SELECT encode(block_hash, 'hex') FROM medchain.blocks WHERE height = :head - 1)))
	   AS digest_below_holds;
ROLLBACK;

-- block_modified: a signed block moved to another chain (its chain_id
-- changed, re-mined and re-signed).
BEGIN;
UPDATE medchain.blocks SET chain_id = sha256('another chain') WHERE height = :head;
SELECT forge.reseal(:head, 8);
SELECT * FROM public.signature_report;
ROLLBACK;

-- Retiring a key: only for medchain_admin, only a key the chain knows, not
-- the key this node signs with, with a reason.
SELECT :'identity'::jsonb->>'fingerprint' AS fingerprint \gset
SET SESSION AUTHORIZATION regress_clinician;
SELECT medchain.retire_node_key(:'fingerprint', 'compromised');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.node_identity();
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_dba;
SELECT medchain.retire_node_key(repeat('ab', 32), 'compromised');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY sqlstate
SELECT medchain.retire_node_key(:'fingerprint', 'compromised');
\set VERBOSITY default
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate,
	   replace(:'LAST_ERROR_MESSAGE', :'fingerprint', 'K') AS error;
SELECT medchain.retire_node_key('not hex', 'compromised');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.retire_node_key(repeat('ab', 32), '');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.retire_node_key(NULL, 'compromised');
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_auditor;
SELECT medchain.node_identity()->>'fingerprint' = :'fingerprint' AS auditor_sees_identity;
RESET SESSION AUTHORIZATION;

-- Still clean, and the key still announced once.
SELECT count(*) AS findings FROM medchain.verify();
SELECT count(*) AS announcements FROM medchain.entries WHERE relation = 'medchain.blocks';
