-- The whole path of every lot, one row per step in the order the steps
-- happened: its registration, each shipment, each dispensing.  Each step
-- carries the provenance of the row that states it, and two flags:
--   verified               the row still hashes to the entry medchain
--                          recorded for it: nobody changed it since
--   holder_never_received  the step starts from a holder that no earlier
--                          step of this lot delivered it to
-- record_id is the step's transfer_id or dispensing_id (NULL for the
-- registration, whose key is the lot's).  Ask for one lot with
-- WHERE gtin = ... AND lot = ... ORDER BY step.
CREATE VIEW supply.lot_path WITH (security_invoker = true) AS
SELECT s.gtin, s.lot,
	   row_number() OVER path AS step,
	   s.event, s.record_id, s.from_holder, s.to_holder, s.quantity, s.happened_at,
	   (s.prov).recorded_by, (s.prov).recorded_at, (s.prov).kind, (s.prov).entry_id,
	   (s.prov).block_height, (s.prov).block_hash, (s.prov).sealed_at,
	   (s.prov).confirmations, (s.prov).peers_holding, (s.prov).cosigners,
	   (s.prov).intact AS verified,
	   s.from_holder IS NOT NULL
	   AND array_position(array_agg(s.to_holder) OVER earlier, s.from_holder) IS NULL
		   AS holder_never_received
  FROM (SELECT l.gtin, l.lot, 1 AS phase, 'registered' AS event, NULL::bigint AS record_id,
			   NULL::text AS from_holder, l.manufacturer AS to_holder,
			   l.quantity, l.registered_at AS happened_at, medchain.provenance(l) AS prov
		  FROM supply.lots l
		UNION ALL
		SELECT t.gtin, t.lot, 2, 'shipped', t.transfer_id,
			   t.from_holder, t.to_holder,
			   t.quantity, t.shipped_at, medchain.provenance(t)
		  FROM supply.transfers t
		UNION ALL
		SELECT d.gtin, d.lot, 3, 'dispensed', d.dispensing_id,
			   d.pharmacy, NULL,
			   d.quantity, d.dispensed_at, medchain.provenance(d)
		  FROM supply.dispensings d) s
WINDOW path AS (PARTITION BY s.gtin, s.lot ORDER BY s.happened_at, s.phase, s.record_id),
	   earlier AS (path ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING);
