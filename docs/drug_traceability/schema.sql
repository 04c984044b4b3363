-- A drug supply chain in four tables: the trading partners, the lots
-- their manufacturer registers, the shipments between partners and the
-- dispensings at a pharmacy.  Each row is one party's statement of one
-- step; medchain.enable() makes each table a ledger table.
CREATE SCHEMA supply;

-- The partners that may hold a lot.
CREATE TABLE supply.parties (
	party_id	text PRIMARY KEY,
	name		text NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('manufacturer', 'distributor', 'pharmacy'))
);

-- A lot as its manufacturer registers it.  A lot number is unique within
-- its product, so the key is the product's GTIN and the lot number, the
-- two that are printed on the pack.
CREATE TABLE supply.lots (
	gtin		text NOT NULL CHECK (gtin ~ '^[0-9]{14}$'),
	lot			text NOT NULL,
	product		text NOT NULL,
	manufacturer text NOT NULL REFERENCES supply.parties,
	quantity	integer NOT NULL CHECK (quantity > 0),
	expiry		date NOT NULL,
	registered_at timestamptz NOT NULL,
	PRIMARY KEY (gtin, lot)
);

-- One shipment of part of a lot from one holder to another.
CREATE TABLE supply.transfers (
	transfer_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	gtin		text NOT NULL,
	lot			text NOT NULL,
	from_holder text NOT NULL REFERENCES supply.parties,
	to_holder	text NOT NULL REFERENCES supply.parties,
	quantity	integer NOT NULL CHECK (quantity > 0),
	shipped_at	timestamptz NOT NULL,
	FOREIGN KEY (gtin, lot) REFERENCES supply.lots,
	CHECK (from_holder <> to_holder)
);
CREATE INDEX transfers_lot_idx ON supply.transfers (gtin, lot);

-- Packs handed out by a pharmacy.  The prescription and the patient stay
-- in the pharmacy's own records: the supply chain needs neither.
CREATE TABLE supply.dispensings (
	dispensing_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	gtin		text NOT NULL,
	lot			text NOT NULL,
	pharmacy	text NOT NULL REFERENCES supply.parties,
	quantity	integer NOT NULL CHECK (quantity > 0),
	dispensed_at timestamptz NOT NULL,
	FOREIGN KEY (gtin, lot) REFERENCES supply.lots
);
CREATE INDEX dispensings_lot_idx ON supply.dispensings (gtin, lot);
