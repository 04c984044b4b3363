-- scripts/sample_ehr.sql: a small EHR schema with generated patients.
--
-- The tables follow the OMOP Common Data Model 5.4 (person,
-- visit_occurrence, condition_occurrence, drug_exposure, measurement):
-- same table names, column names and column types, so analysts recognise
-- them.  Concept ids are standard OMOP vocabulary ids.  The data is
-- generated deterministically (no random()), so every run and every test
-- sees the same rows.
--
--   psql -v patients=200 -f scripts/sample_ehr.sql
--
-- Each patient gets 3 visits, 1 condition per visit, 1 drug exposure per
-- visit and 2 measurements per visit.

\if :{?patients}
\else
\set patients 100
\endif

CREATE SCHEMA cdm;

CREATE TABLE cdm.person (
	person_id integer NOT NULL PRIMARY KEY,
	gender_concept_id integer NOT NULL,
	year_of_birth integer NOT NULL,
	month_of_birth integer,
	day_of_birth integer,
	birth_datetime timestamp,
	race_concept_id integer NOT NULL,
	ethnicity_concept_id integer NOT NULL,
	location_id integer,
	provider_id integer,
	care_site_id integer,
	person_source_value varchar(50),
	gender_source_value varchar(50),
	gender_source_concept_id integer,
	race_source_value varchar(50),
	race_source_concept_id integer,
	ethnicity_source_value varchar(50),
	ethnicity_source_concept_id integer
);

CREATE TABLE cdm.visit_occurrence (
	visit_occurrence_id integer NOT NULL PRIMARY KEY,
	person_id integer NOT NULL REFERENCES cdm.person,
	visit_concept_id integer NOT NULL,
	visit_start_date date NOT NULL,
	visit_start_datetime timestamp,
	visit_end_date date NOT NULL,
	visit_end_datetime timestamp,
	visit_type_concept_id integer NOT NULL,
	provider_id integer,
	care_site_id integer,
	visit_source_value varchar(50),
	visit_source_concept_id integer,
	admitted_from_concept_id integer,
	admitted_from_source_value varchar(50),
	discharged_to_concept_id integer,
	discharged_to_source_value varchar(50),
	preceding_visit_occurrence_id integer
);

CREATE TABLE cdm.condition_occurrence (
	condition_occurrence_id integer NOT NULL PRIMARY KEY,
	person_id integer NOT NULL REFERENCES cdm.person,
	condition_concept_id integer NOT NULL,
	condition_start_date date NOT NULL,
	condition_start_datetime timestamp,
	condition_end_date date,
	condition_end_datetime timestamp,
	condition_type_concept_id integer NOT NULL,
	condition_status_concept_id integer,
	stop_reason varchar(20),
	provider_id integer,
	visit_occurrence_id integer REFERENCES cdm.visit_occurrence,
	visit_detail_id integer,
	condition_source_value varchar(50),
	condition_source_concept_id integer,
	condition_status_source_value varchar(50)
);

CREATE TABLE cdm.drug_exposure (
	drug_exposure_id integer NOT NULL PRIMARY KEY,
	person_id integer NOT NULL REFERENCES cdm.person,
	drug_concept_id integer NOT NULL,
	drug_exposure_start_date date NOT NULL,
	drug_exposure_start_datetime timestamp,
	drug_exposure_end_date date NOT NULL,
	drug_exposure_end_datetime timestamp,
	verbatim_end_date date,
	drug_type_concept_id integer NOT NULL,
	stop_reason varchar(20),
	refills integer,
	quantity numeric,
	days_supply integer,
	sig text,
	route_concept_id integer,
	lot_number varchar(50),
	provider_id integer,
	visit_occurrence_id integer REFERENCES cdm.visit_occurrence,
	visit_detail_id integer,
	drug_source_value varchar(50),
	drug_source_concept_id integer,
	route_source_value varchar(50),
	dose_unit_source_value varchar(50)
);

CREATE TABLE cdm.measurement (
	measurement_id integer NOT NULL PRIMARY KEY,
	person_id integer NOT NULL REFERENCES cdm.person,
	measurement_concept_id integer NOT NULL,
	measurement_date date NOT NULL,
	measurement_datetime timestamp,
	measurement_time varchar(10),
	measurement_type_concept_id integer NOT NULL,
	operator_concept_id integer,
	value_as_number numeric,
	value_as_concept_id integer,
	unit_concept_id integer,
	range_low numeric,
	range_high numeric,
	provider_id integer,
	visit_occurrence_id integer REFERENCES cdm.visit_occurrence,
	visit_detail_id integer,
	measurement_source_value varchar(50),
	measurement_source_concept_id integer,
	unit_source_value varchar(50),
	unit_source_concept_id integer,
	value_source_value varchar(50),
	measurement_event_id bigint,
	meas_event_field_concept_id integer
);

-- Patients: gender 8507 male / 8532 female; race 8527 white, 8516 black,
-- 8515 asian; ethnicity 38003564 not Hispanic, 38003563 Hispanic.
INSERT INTO cdm.person
SELECT p,
	   CASE WHEN p % 2 = 0 THEN 8532 ELSE 8507 END,
	   1935 + (p * 37) % 70,
	   1 + (p * 7) % 12,
	   1 + (p * 11) % 28,
	   make_timestamp(1935 + (p * 37) % 70, 1 + (p * 7) % 12, 1 + (p * 11) % 28, (p * 5) % 24, 0, 0),
	   (ARRAY[8527, 8516, 8515])[1 + p % 3],
	   CASE WHEN p % 5 = 0 THEN 38003563 ELSE 38003564 END,
	   1 + p % 10, 1 + p % 25, 1 + p % 4,
	   'MRN-' || lpad(p::text, 7, '0'),
	   CASE WHEN p % 2 = 0 THEN 'F' ELSE 'M' END, 0,
	   (ARRAY['White', 'Black or African American', 'Asian'])[1 + p % 3], 0,
	   CASE WHEN p % 5 = 0 THEN 'Hispanic' ELSE 'Not Hispanic' END, 0
  FROM generate_series(1, :patients) AS p;

-- Visits: 9201 inpatient, 9202 outpatient, 9203 emergency room;
-- type 32817 EHR.
INSERT INTO cdm.visit_occurrence
SELECT v, p,
	   (ARRAY[9202, 9202, 9201, 9203])[1 + v % 4],
	   start_date, start_date + time '08:30' + (v % 8) * interval '1 hour',
	   start_date + (v % 4 = 2)::int * (1 + v % 5),
	   start_date + (v % 4 = 2)::int * (1 + v % 5) + time '17:00',
	   32817, 1 + v % 25, 1 + v % 4,
	   'V' || v, 0, NULL, NULL,
	   CASE WHEN v % 4 = 2 THEN 8536 END,
	   CASE WHEN v % 4 = 2 THEN 'home' END,
	   CASE WHEN k > 1 THEN v - 1 END
  FROM generate_series(1, :patients) AS p,
	   generate_series(1, 3) AS k,
	   LATERAL (SELECT (p - 1) * 3 + k AS v,
					   date '2024-01-01' + ((p * 13 + k * 97) % 700) AS start_date) AS s;

-- Conditions: 201826 type 2 diabetes, 320128 essential hypertension,
-- 317009 asthma, 4112343 acute pharyngitis; type 32817 EHR.
INSERT INTO cdm.condition_occurrence
SELECT v.visit_occurrence_id, v.person_id,
	   c.concept_id, v.visit_start_date, v.visit_start_datetime,
	   CASE WHEN c.concept_id = 4112343 THEN v.visit_start_date + 10 END, NULL,
	   32817, 32902, NULL, v.provider_id, v.visit_occurrence_id, NULL,
	   c.icd10, 0, 'Primary diagnosis'
  FROM cdm.visit_occurrence v,
	   LATERAL (SELECT (ARRAY[201826, 320128, 317009, 4112343])[1 + v.visit_occurrence_id % 4] AS concept_id,
					   (ARRAY['E11.9', 'I10', 'J45.909', 'J02.9'])[1 + v.visit_occurrence_id % 4] AS icd10) AS c;

-- Drugs: 1503297 metformin, 1308216 lisinopril, 1154343 albuterol,
-- 1713332 amoxicillin; type 32838 EHR prescription; route 4132161 oral.
INSERT INTO cdm.drug_exposure
SELECT v.visit_occurrence_id, v.person_id, d.concept_id,
	   v.visit_start_date, v.visit_start_datetime,
	   v.visit_start_date + d.days, NULL, NULL,
	   32838, NULL, v.visit_occurrence_id % 3, d.quantity, d.days, d.sig,
	   4132161, 'LOT' || (1000 + v.visit_occurrence_id % 97), v.provider_id,
	   v.visit_occurrence_id, NULL, d.source, 0, 'oral', d.unit
  FROM cdm.visit_occurrence v,
	   LATERAL (SELECT (ARRAY[1503297, 1308216, 1154343, 1713332])[i] AS concept_id,
					   (ARRAY[90, 90, 30, 10])[i] AS days,
					   (ARRAY[180.0, 90.0, 1.0, 30.0])[i]::numeric AS quantity,
					   (ARRAY['500 mg twice daily', '10 mg once daily',
							  '2 puffs every 4 hours as needed', '500 mg three times daily'])[i] AS sig,
					   (ARRAY['metformin 500 MG Oral Tablet', 'lisinopril 10 MG Oral Tablet',
							  'albuterol 0.09 MG/ACTUAT Inhaler', 'amoxicillin 500 MG Oral Capsule'])[i] AS source,
					   (ARRAY['mg', 'mg', 'puff', 'mg'])[i] AS unit
				  FROM (SELECT 1 + v.visit_occurrence_id % 4 AS i) AS pick) AS d;

-- Measurements: 3004410 HbA1c (%, unit 8554), 3027018 heart rate
-- (/min, unit 8541); type 32817 EHR.
INSERT INTO cdm.measurement
SELECT (v.visit_occurrence_id - 1) * 2 + m.k, v.person_id, m.concept_id,
	   v.visit_start_date, v.visit_start_datetime,
	   to_char(v.visit_start_datetime, 'HH24:MI'),
	   32817, 4172703, m.value, NULL, m.unit, m.low, m.high, v.provider_id,
	   v.visit_occurrence_id, NULL, m.source, 0, m.unit_source, 0,
	   m.value::text, NULL, NULL
  FROM cdm.visit_occurrence v,
	   LATERAL (SELECT 1 AS k, 3004410 AS concept_id,
					   round(5.0 + (v.visit_occurrence_id * 7 % 45) / 10.0, 1) AS value,
					   8554 AS unit, 4.0 AS low, 5.6 AS high,
					   'HbA1c' AS source, '%' AS unit_source
				UNION ALL
				SELECT 2, 3027018, 55 + v.visit_occurrence_id * 13 % 50,
					   8541, 60, 100, 'Heart rate', '/min') AS m;
