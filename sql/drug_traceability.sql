-- Drug traceability (docs/DRUG_TRACEABILITY.md): a manufacturer registers
-- lots, distributors and a pharmacy record the shipments and dispensings,
-- each as its own login; one view gives the whole path of a lot with each
-- step's provenance, and flags a step whose row no longer verifies or a
-- shipment from a holder that never received the lot.
SET medchain.difficulty = 8;
\set ECHO none
\i docs/drug_traceability/schema.sql
\i docs/drug_traceability/lot_path.sql
\set ECHO all
-- The document shows both files as they stand.
\set doc `cat docs/DRUG_TRACEABILITY.md`
\set schema_sql `cat docs/drug_traceability/schema.sql`
\set lot_path_sql `cat docs/drug_traceability/lot_path.sql`
SELECT strpos(:'doc', :'schema_sql') > 0 AS doc_shows_schema,
	   strpos(:'doc', :'lot_path_sql') > 0 AS doc_shows_lot_path;

-- Each party records its own steps under its own login; the regulator's
-- inspector reads.
CREATE ROLE regress_acme;
CREATE ROLE regress_northwind;
CREATE ROLE regress_eastgate;
CREATE ROLE regress_corner;
CREATE ROLE regress_inspector;
GRANT USAGE ON SCHEMA supply
   TO regress_acme, regress_northwind, regress_eastgate, regress_corner, regress_inspector;
GRANT INSERT ON supply.lots, supply.transfers TO regress_acme;
GRANT INSERT ON supply.transfers TO regress_northwind, regress_eastgate;
GRANT INSERT ON supply.transfers, supply.dispensings TO regress_corner;
GRANT SELECT ON ALL TABLES IN SCHEMA supply TO regress_inspector;

INSERT INTO supply.parties VALUES
	('acme', 'Acme Pharma', 'manufacturer'),
	('northwind', 'Northwind Distribution', 'distributor'),
	('eastgate', 'Eastgate Wholesale', 'distributor'),
	('corner', 'Corner Pharmacy', 'pharmacy');
SELECT medchain.enable('supply.parties') AS parties,
	   medchain.enable('supply.lots') AS lots,
	   medchain.enable('supply.transfers') AS transfers,
	   medchain.enable('supply.dispensings') AS dispensings;

SET SESSION AUTHORIZATION regress_acme;
INSERT INTO supply.lots VALUES
	('05012345678900', 'A100', 'amoxicillin 500 mg, 21 capsules', 'acme', 1000, '2028-06-30', '2026-03-02 08:00+00'),
	('05098765432100', 'B200', 'insulin glargine 100 U/ml, 5 pens', 'acme', 200, '2027-09-30', '2026-03-02 09:00+00');
RESET SESSION AUTHORIZATION;
SELECT medchain.seal() AS registered_block \gset

SET SESSION AUTHORIZATION regress_acme;
INSERT INTO supply.transfers (gtin, lot, from_holder, to_holder, quantity, shipped_at) VALUES
	('05012345678900', 'A100', 'acme', 'northwind', 600, '2026-03-03 09:00+00'),
	('05012345678900', 'A100', 'acme', 'eastgate', 400, '2026-03-03 10:00+00'),
	('05098765432100', 'B200', 'acme', 'northwind', 200, '2026-03-03 11:00+00');
SET SESSION AUTHORIZATION regress_northwind;
INSERT INTO supply.transfers (gtin, lot, from_holder, to_holder, quantity, shipped_at)
VALUES ('05012345678900', 'A100', 'northwind', 'corner', 60, '2026-03-05 07:30+00');
-- Eastgate never received lot B200, yet ships it: a diverted (or cloned)
-- lot, recorded under Eastgate's own login.
SET SESSION AUTHORIZATION regress_eastgate;
INSERT INTO supply.transfers (gtin, lot, from_holder, to_holder, quantity, shipped_at)
VALUES ('05098765432100', 'B200', 'eastgate', 'corner', 20, '2026-03-05 08:00+00');
SET SESSION AUTHORIZATION regress_corner;
INSERT INTO supply.dispensings (gtin, lot, pharmacy, quantity, dispensed_at) VALUES
	('05012345678900', 'A100', 'corner', 1, '2026-03-06 10:15+00'),
	('05098765432100', 'B200', 'corner', 1, '2026-03-06 11:40+00');
RESET SESSION AUTHORIZATION;
SELECT medchain.seal() AS shipped_block \gset
-- Northwind's shipment of B200 to Corner: recorded, not sealed yet.
SET SESSION AUTHORIZATION regress_northwind;
INSERT INTO supply.transfers (gtin, lot, from_holder, to_holder, quantity, shipped_at)
VALUES ('05098765432100', 'B200', 'northwind', 'corner', 50, '2026-03-07 07:30+00');
RESET SESSION AUTHORIZATION;

-- The path of a lot as the inspector reads it: block heights counted from
-- the block that sealed the registrations.
CREATE VIEW public.lot_report AS
SELECT gtin, lot, step, event, record_id, from_holder, to_holder, quantity, recorded_by, kind,
	   block_height - :registered_block AS block, confirmations,
	   block_hash IS NOT NULL AS hashed, sealed_at IS NOT NULL AS sealed,
	   recorded_at IS NOT NULL AS has_time, verified, holder_never_received
  FROM supply.lot_path;
GRANT SELECT ON public.lot_report TO regress_inspector;
SET ROLE regress_inspector;
SELECT step, event, record_id, from_holder, to_holder, quantity, recorded_by, kind, block, confirmations,
	   hashed, sealed, has_time, verified, holder_never_received
  FROM public.lot_report WHERE gtin = '05012345678900' AND lot = 'A100' ORDER BY step;
SELECT step, event, record_id, from_holder, to_holder, quantity, recorded_by, kind, block, confirmations,
	   hashed, sealed, has_time, verified, holder_never_received
  FROM public.lot_report WHERE gtin = '05098765432100' AND lot = 'B200' ORDER BY step;
RESET ROLE;
SELECT t.relation, (SELECT count(*) FROM medchain.verify(t.relation)) AS findings
  FROM unnest('{supply.parties,supply.lots,supply.transfers,supply.dispensings}'::regclass[]) AS t(relation);

-- The inspector takes the diverted shipment's proof away: it holds, anchored
-- in a digest the auditor kept, and it names who recorded the shipment.
SELECT medchain.digest() AS digest \gset
SET ROLE regress_inspector;
SELECT medchain.proof('supply.transfers', '{"transfer_id": 5}') AS diverted_proof \gset
RESET ROLE;
SELECT medchain.verify_proof(:'diverted_proof', :'digest') AS anchored,
	   :'diverted_proof'::jsonb -> 'entry' ->> 'recorded_by' AS recorded_by,
	   (:'diverted_proof'::jsonb -> 'block' ->> 'height')::bigint - :registered_block AS block;

-- Nobody corrects a step in place, not even a superuser going through SQL.
UPDATE supply.transfers SET quantity = 600 WHERE transfer_id = 4;
\echo :LAST_ERROR_SQLSTATE

-- A superuser going around medchain's guards inflates Northwind's shipment
-- of A100 to Corner: that step, and only that one, no longer verifies,
-- and verify() names its row.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE supply.transfers DISABLE TRIGGER medchain_append_only;
UPDATE supply.transfers SET quantity = 600 WHERE transfer_id = 4;
ALTER TABLE supply.transfers ENABLE TRIGGER medchain_append_only;
ALTER EVENT TRIGGER medchain_guard_ddl ENABLE;
SELECT step, event, record_id, from_holder, to_holder, quantity, recorded_by, block, verified, holder_never_received
  FROM public.lot_report WHERE gtin = '05012345678900' AND lot = 'A100' ORDER BY step;
SELECT finding, relation, row_key, block_height - :registered_block AS block, detail
  FROM medchain.verify('supply.transfers');
ROLLBACK;

-- A cover-up: the diverted shipment rewritten to come from Northwind.  The
-- path no longer shows a holder that never received the lot, but the step
-- does not verify, and its entry still says who recorded it.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE supply.transfers DISABLE TRIGGER medchain_append_only;
UPDATE supply.transfers SET from_holder = 'northwind' WHERE transfer_id = 5;
ALTER TABLE supply.transfers ENABLE TRIGGER medchain_append_only;
ALTER EVENT TRIGGER medchain_guard_ddl ENABLE;
SELECT step, event, record_id, from_holder, to_holder, quantity, recorded_by, block, verified, holder_never_received
  FROM public.lot_report WHERE gtin = '05098765432100' AND lot = 'B200' ORDER BY step;
SELECT finding, relation, row_key, block_height - :registered_block AS block, detail
  FROM medchain.verify('supply.transfers');
ROLLBACK;

-- A shipment slipped in behind medchain's back has no entry: nobody is
-- named as its recorder, and it does not verify.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE supply.transfers DISABLE TRIGGER medchain_record;
INSERT INTO supply.transfers (gtin, lot, from_holder, to_holder, quantity, shipped_at)
VALUES ('05012345678900', 'A100', 'eastgate', 'corner', 100, '2026-03-04 12:00+00');
ALTER TABLE supply.transfers ENABLE TRIGGER medchain_record;
ALTER EVENT TRIGGER medchain_guard_ddl ENABLE;
SELECT step, event, record_id, from_holder, to_holder, quantity, recorded_by, kind, block, verified, holder_never_received
  FROM public.lot_report WHERE gtin = '05012345678900' AND lot = 'A100' ORDER BY step;
SELECT finding, relation, row_key FROM medchain.verify('supply.transfers');
ROLLBACK;

-- The diverted shipment deleted: it drops out of the path, verify() names
-- it, and Corner's dispensing of B200 now comes from a holder that never
-- received the lot.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE supply.transfers DISABLE TRIGGER medchain_append_only;
DELETE FROM supply.transfers WHERE transfer_id = 5;
ALTER TABLE supply.transfers ENABLE TRIGGER medchain_append_only;
ALTER EVENT TRIGGER medchain_guard_ddl ENABLE;
SELECT step, event, record_id, from_holder, to_holder, quantity, recorded_by, block, verified, holder_never_received
  FROM public.lot_report WHERE gtin = '05098765432100' AND lot = 'B200' ORDER BY step;
SELECT finding, relation, row_key, block_height - :registered_block AS block
  FROM medchain.verify('supply.transfers');
ROLLBACK;
