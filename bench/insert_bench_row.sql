\set person random(1, 100000)
\set value random(40, 140)
INSERT INTO @TABLE@ (person_id, observation_concept_id, observation_date, observation_datetime,
	observation_type_concept_id, value_as_number, value_as_string, unit_source_value,
	qualifier_source_value, provider_id, visit_occurrence_id, observation_source_value, note)
VALUES (:person, 3004410, current_date, now(), 32817, :value / 10.0, 'HbA1c ' || (:value / 10.0) || ' %',
	'percent', 'fasting', :person % 500, :person * 10, 'LAB:HBA1C:4548-4',
	'Patient fasting since midnight; sample drawn by nurse on ward 7; result reviewed by the attending; repeat in three months.');
