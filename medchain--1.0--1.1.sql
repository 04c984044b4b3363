/* medchain--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION medchain UPDATE TO '1.1'" to load this file. \quit

------------------------------------------------------------------------
-- Readers see the registry and the views only for tables they may read,
-- as they see the journal.
------------------------------------------------------------------------

ALTER TABLE medchain.ledger_registry ENABLE ROW LEVEL SECURITY;
CREATE POLICY registry_readable ON medchain.ledger_registry FOR SELECT TO PUBLIC
	USING (pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
		   OR medchain.can_read_relation(relation));

-- A view reads its tables as the view's owner, whom row-level security
-- does not restrict; the filter on the caller is written out instead.
CREATE OR REPLACE VIEW medchain.ledger_tables AS
SELECT r.relation,
	   r.key_columns,
	   r.enabled_at,
	   r.enabled_by,
	   (SELECT pg_catalog.count(*)
		  FROM medchain.entries e
		 WHERE e.relation OPERATOR(pg_catalog.=) r.relation
		   AND e.kind OPERATOR(pg_catalog.=) ANY (ARRAY['baseline', 'insert'])
		   AND e.entry_id OPERATOR(pg_catalog.>) r.prior_entry_id) AS rows_recorded
  FROM medchain.ledger_registry r
 WHERE r.released_at IS NULL
   AND (pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
		OR medchain.can_read_relation(r.relation));

CREATE OR REPLACE VIEW medchain.chain_status AS
SELECT (SELECT pg_catalog.max(height) FROM medchain.blocks) AS height,
	   (SELECT b.block_hash FROM medchain.blocks b
		 ORDER BY b.height DESC LIMIT 1) AS head_hash,
	   (SELECT pg_catalog.count(*)
		  FROM medchain.pending p
		  JOIN medchain.entries e ON e.entry_id OPERATOR(pg_catalog.=) p.entry_id
		 WHERE pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
			OR medchain.can_read_relation(e.relation)) AS pending_entries,
	   (SELECT pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.min(e.recorded_at)
		  FROM medchain.pending p
		  JOIN medchain.entries e ON e.entry_id OPERATOR(pg_catalog.=) p.entry_id
		 WHERE pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
			OR medchain.can_read_relation(e.relation)) AS oldest_pending_age;

------------------------------------------------------------------------
-- The DDL guard also refuses CREATE RULE on ledger tables: a DO INSTEAD
-- rule would divert inserts away from the row trigger.
------------------------------------------------------------------------

DROP EVENT TRIGGER medchain_guard_ddl;
CREATE EVENT TRIGGER medchain_guard_ddl ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE', 'ALTER SCHEMA', 'ALTER TRIGGER', 'ALTER TYPE',
				 'DROP TRIGGER', 'DROP INDEX', 'DROP SCHEMA', 'DROP EXTENSION',
				 'CREATE RULE')
	EXECUTE FUNCTION medchain.guard_ddl();
ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;

------------------------------------------------------------------------
-- Format version 2 (docs/FORMAT.md).  Entries say which version they are
-- in and, from version 2 on, which enablement of their table they belong
-- to; blocks of version 2 record the chain's difficulty floor.  Entries
-- and blocks already written stay version 1 and stay verifiable.
------------------------------------------------------------------------

ALTER TABLE medchain.entries ADD COLUMN format_version smallint NOT NULL DEFAULT 1;
ALTER TABLE medchain.entries ALTER COLUMN format_version DROP DEFAULT;
ALTER TABLE medchain.entries ADD COLUMN enablement_id bigint;
COMMENT ON COLUMN medchain.entries.format_version IS
	'Format version of the entry encoding, and of the row encoding its row_hash covers';
COMMENT ON COLUMN medchain.entries.enablement_id IS
	'entry_id of the enable event of the enablement the entry belongs to (format version 2 and later)';
COMMENT ON COLUMN medchain.entries.kind IS
	'baseline (recorded by enable), insert, or event (enable, disable)';

ALTER TABLE medchain.blocks ADD COLUMN min_difficulty integer;
COMMENT ON COLUMN medchain.blocks.min_difficulty IS
	'The chain''s difficulty floor, fixed by its genesis block (format version 2 and later)';

-- A registration names its enablement: the entry_id of its enable event.
-- Version 1 enable events come after the baseline entries they close.
ALTER TABLE medchain.ledger_registry ADD COLUMN enablement_id bigint;
UPDATE medchain.ledger_registry r
   SET enablement_id = (SELECT pg_catalog.min(e.entry_id)
						  FROM medchain.entries e
						 WHERE e.relation OPERATOR(pg_catalog.=) r.relation
						   AND e.kind OPERATOR(pg_catalog.=) 'event'
						   AND e.detail OPERATOR(pg_catalog.->>) 'action' OPERATOR(pg_catalog.=) 'enable'
						   AND e.entry_id OPERATOR(pg_catalog.>) r.prior_entry_id);
ALTER TABLE medchain.ledger_registry ALTER COLUMN enablement_id SET NOT NULL;
COMMENT ON COLUMN medchain.ledger_registry.enablement_id IS
	'entry_id of the enable event of this enablement; verify() checks the registry against the journal''s events';

CREATE FUNCTION medchain.rows_recorded(relation text, enablement_id bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_rows_recorded'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION medchain.rows_recorded(text, bigint) IS
	'Number of rows the enablement recorded (baseline and insert entries) that the caller may see';

CREATE OR REPLACE VIEW medchain.ledger_tables AS
SELECT r.relation,
	   r.key_columns,
	   r.enabled_at,
	   r.enabled_by,
	   medchain.rows_recorded(r.relation, r.enablement_id) AS rows_recorded
  FROM medchain.ledger_registry r
 WHERE r.released_at IS NULL
   AND (pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
		OR medchain.can_read_relation(r.relation));

ALTER TABLE medchain.ledger_registry DROP COLUMN prior_entry_id;

------------------------------------------------------------------------
-- Proofs anchored in a trusted digest, proofs of events.
------------------------------------------------------------------------

DROP FUNCTION medchain.proof(regclass, jsonb);
CREATE FUNCTION medchain.proof(tbl regclass, key jsonb, anchor_height bigint DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'medchain_proof'
LANGUAGE C STABLE;
COMMENT ON FUNCTION medchain.proof(regclass, jsonb, bigint) IS
	'Inclusion proof of a sealed row: its encoding, its entry, the Merkle audit path, its block header and the headers above it up to anchor_height (default: the head)';
-- A proof holds the row itself: whoever may read the row may have it.
GRANT EXECUTE ON FUNCTION medchain.proof(regclass, jsonb, bigint) TO PUBLIC;

CREATE FUNCTION medchain.event_proof(entry_id bigint, anchor_height bigint DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'medchain_event_proof'
LANGUAGE C STABLE;
COMMENT ON FUNCTION medchain.event_proof(bigint, bigint) IS
	'Inclusion proof of a sealed event entry (an enablement, a release), with the headers up to anchor_height';
GRANT EXECUTE ON FUNCTION medchain.event_proof(bigint, bigint) TO PUBLIC;

DROP FUNCTION medchain.verify_proof(jsonb);
CREATE FUNCTION medchain.verify_proof(p jsonb, trusted jsonb DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'medchain_verify_proof'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION medchain.verify_proof(jsonb, jsonb) IS
	'Checks a proof from its own contents, reading no table; with a trusted digest, also that the proof''s block is on the chain the digest names';

COMMENT ON FUNCTION medchain.verify(regclass) IS
	'One row per finding (row_modified, row_missing, row_unrecorded, entry_modified, entry_missing, entry_unqueued, queue_modified, block_modified, chain_broken, registry_modified, table_unverifiable); none when clean';
COMMENT ON FUNCTION medchain.digest() IS
	'The head block (format_version, node, height, block_hash, sealed_at in UTC, min_difficulty), to keep outside the database';

-- row_encoding() returns the row itself: it checks SELECT on the table.
COMMENT ON FUNCTION medchain.row_encoding(regclass, jsonb) IS
	'Canonical encoding of the ledger row with this key, in the format version of its entry; its SHA-256 is the row_hash';

-- The export carries each block's header as its format version has it.
CREATE OR REPLACE FUNCTION medchain.export_chain(from_height bigint DEFAULT 0)
RETURNS SETOF jsonb
LANGUAGE sql STABLE STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_build_object(
			'height', b.height,
			'format_version', b.format_version,
			'prev_hash', encode(b.prev_hash, 'hex'),
			'merkle_root', encode(b.merkle_root, 'hex'),
			'sealed_at', (extract(epoch FROM b.sealed_at) OPERATOR(pg_catalog.*) 1000000)::bigint,
			'entry_count', b.entry_count,
			'difficulty', b.difficulty,
			'node_id', encode(sha256(convert_to(b.node_name, 'UTF8')), 'hex'),
			'node_name', b.node_name,
			'nonce', b.nonce::numeric OPERATOR(pg_catalog.+)
					 CASE WHEN b.nonce OPERATOR(pg_catalog.<) 0 THEN 18446744073709551616 ELSE 0 END,
			'block_hash', encode(b.block_hash, 'hex'),
			'entry_hashes', coalesce((SELECT jsonb_agg(encode(e.entry_hash, 'hex') ORDER BY e.entry_id)
										FROM medchain.entries e
									   WHERE e.entry_id BETWEEN b.first_entry_id AND b.last_entry_id
										 AND e.block_height OPERATOR(pg_catalog.=) b.height), '[]'::jsonb))
		   OPERATOR(pg_catalog.||)
		   CASE WHEN b.format_version OPERATOR(pg_catalog.>=) 2
				THEN jsonb_build_object('min_difficulty', b.min_difficulty)
				ELSE '{}'::jsonb END
	  FROM medchain.blocks b
	 WHERE b.height OPERATOR(pg_catalog.>=) from_height
	 ORDER BY b.height
$$;
