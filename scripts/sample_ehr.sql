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
-- psql variables (all optional):
--   patients                number of patients (default 100)
--   visits_per_patient      visits per patient (default 3)
--   measurements_per_visit  measurements per visit (default 2)
-- Each visit gets 1 condition and 1 drug exposure.  The defaults make,
-- row for row, the small data set the tests, fixtures and demo were written
-- against, so keep them.
--
-- A realistic EHR at scale (over a million measurements, vital signs and
-- laboratory results through each visit):
--
--   psql -v patients=10000 -v measurements_per_visit=35 -f scripts/sample_ehr.sql

\if :{?patients}
\else
\set patients 100
\endif
\if :{?visits_per_patient}
\else
\set visits_per_patient 3
\endif
\if :{?measurements_per_visit}
\else
\set measurements_per_visit 2
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
	   generate_series(1, :visits_per_patient) AS k,
	   LATERAL (SELECT (p - 1) * :visits_per_patient + k AS v,
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
-- (/min, unit 8541), both taken when the visit starts; type 32817 EHR.
-- Past those two, each visit cycles through the 20 vital signs and
-- laboratory results of the panel below (the 20 is in the join), spread
-- evenly from the start to the end of the visit, so every date lies inside
-- it.  A value is the concept's base plus a share of its between-patient
-- spread fixed per patient and concept (a patient keeps their height and
-- stays high or low in glucose) plus a share of its noise that changes from
-- one measurement to the next; both shares come from integer arithmetic on
-- the ids, so every run is the same.
-- One statement, generate_series and plain arithmetic: the million rows of
-- the large example above load in about 11 s on 2 cores.
INSERT INTO cdm.measurement
WITH panel (i, concept_id, source, unit, unit_source, low, high, base, spread, noise, scale) AS (
	VALUES (1, 3004249, 'Systolic blood pressure', 8876, 'mm[Hg]', 90, 120, 100, 45, 20, 0),
		   (2, 3012888, 'Diastolic blood pressure', 8876, 'mm[Hg]', 60, 80, 60, 30, 12, 0),
		   (3, 3020891, 'Body temperature', 586, 'Cel', 36.1, 37.2, 36.2, 0.6, 1.2, 1),
		   (4, 3024171, 'Respiratory rate', 8541, '/min', 12, 20, 12, 6, 6, 0),
		   (5, 40762499, 'Oxygen saturation by pulse oximetry', 8554, '%', 95, 100, 91, 5, 4, 0),
		   (6, 3025315, 'Body weight', 9529, 'kg', NULL, NULL, 50, 60, 3, 1),
		   (7, 3036277, 'Body height', 8582, 'cm', NULL, NULL, 150, 40, 0, 0),
		   (8, 3004501, 'Glucose', 8840, 'mg/dL', 70, 99, 75, 80, 30, 0),
		   (9, 3016723, 'Creatinine', 8840, 'mg/dL', 0.6, 1.3, 0.6, 0.9, 0.2, 2),
		   (10, 3019550, 'Sodium', 8753, 'mmol/L', 135, 145, 134, 8, 4, 0),
		   (11, 3023103, 'Potassium', 8753, 'mmol/L', 3.5, 5.1, 3.4, 1.4, 0.5, 1),
		   (12, 3000963, 'Hemoglobin', 8713, 'g/dL', 12.0, 17.5, 10.5, 6, 1, 1),
		   (13, 3000905, 'Leukocytes', 8848, '10*3/uL', 4.5, 11.0, 4, 6, 4, 1),
		   (14, 3024929, 'Platelets', 8848, '10*3/uL', 150, 400, 150, 200, 50, 0),
		   (15, 3027114, 'Cholesterol total', 8840, 'mg/dL', NULL, 200, 140, 110, 20, 0),
		   (16, 3028437, 'LDL cholesterol', 8840, 'mg/dL', NULL, 100, 60, 110, 15, 0),
		   (17, 3007070, 'HDL cholesterol', 8840, 'mg/dL', 40, NULL, 30, 45, 8, 0),
		   (18, 3022192, 'Triglycerides', 8840, 'mg/dL', NULL, 150, 60, 200, 40, 0),
		   (19, 3006923, 'ALT', 8645, 'U/L', 7, 56, 10, 40, 20, 0),
		   (20, 3013721, 'AST', 8645, 'U/L', 8, 33, 10, 30, 15, 0))
SELECT (v.visit_occurrence_id - 1) * :measurements_per_visit + m.k, v.person_id, m.concept_id,
	   m.at::date, m.at,
	   to_char(m.at, 'HH24:MI'),
	   32817, 4172703, m.value, NULL, m.unit, m.low, m.high, v.provider_id,
	   v.visit_occurrence_id, NULL, m.source, 0, m.unit_source, 0,
	   m.value::text, NULL, NULL
  FROM cdm.visit_occurrence v,
	   LATERAL (SELECT 1 AS k, 3004410 AS concept_id, v.visit_start_datetime AS at,
					   round(5.0 + (v.visit_occurrence_id * 7 % 45) / 10.0, 1) AS value,
					   8554 AS unit, 4.0 AS low, 5.6 AS high,
					   'HbA1c' AS source, '%' AS unit_source
				UNION ALL
				SELECT 2, 3027018, v.visit_start_datetime, 55 + v.visit_occurrence_id * 13 % 50,
					   8541, 60, 100, 'Heart rate', '/min'
				UNION ALL
				SELECT k, c.concept_id,
					   date_trunc('minute', v.visit_start_datetime
							+ (v.visit_end_datetime - v.visit_start_datetime)
							  * ((k - 2)::float8 / (:measurements_per_visit - 1))),
					   round(c.base
							 + c.spread * ((v.person_id::bigint * 919 + c.i * 729) % 1000) / 1000.0
							 + c.noise * (((v.visit_occurrence_id - 1)::bigint * :measurements_per_visit + k) * 761 % 1000) / 1000.0,
							 c.scale),
					   c.unit, c.low, c.high, c.source, c.unit_source
				  FROM generate_series(3, :measurements_per_visit) AS k
				  JOIN panel c ON c.i = 1 + (k - 3) % 20) AS m
 WHERE m.k <= :measurements_per_visit;
