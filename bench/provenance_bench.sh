#!/usr/bin/env bash
# Provenance at index speed, measured in one run on one cluster, on the
# sample EHR at scale (scripts/sample_ehr.sql: 10,000 patients, 1,050,000
# measurement rows), every clinical table a ledger table, all sealed:
#
#   - 1,000 measurement rows found by their primary key, read alone (the
#     baseline), with (medchain.provenance(m)).*, with provenance through
#     LATERAL, and joined to medchain.entries by row_key as an analyst
#     would write it without provenance();
#   - the same 1,000 rows once 50,000 rows recorded since the last seal
#     wait in batches (provenance() reads a table's batches once a query);
#   - one patient's whole record (every clinical table) with provenance.
#
# Each query is wrapped as SELECT sum(length(s::text)) FROM (...) s, so
# that every column is computed and turned into text as a client's would
# be; the figure is the best of five runs in one session after an untimed
# run.  Goal: provenance ≤ 3x the baseline.
#
#   bash bench/provenance_bench.sh     # BENCH_PATIENTS=10000 BENCH_MEASUREMENTS_PER_VISIT=35
#
# PG_CONFIG picks the server to build against and run (scripts/lib.sh),
# MC_PORT the first port to try.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
mc_init

patients=${BENCH_PATIENTS:-10000}
per_visit=${BENCH_MEASUREMENTS_PER_VISIT:-35}
port=$(mc_free_port 58532)
datadir="$MC_SCRATCH/provenance"
mc_cluster_start "$datadir" "$port" "shared_buffers = 1GB" "max_wal_size = 8GB" \
	"checkpoint_timeout = 30min" "work_mem = 64MB"
sql() { mc_psql "$datadir" "$port" ehr -At "$@"; }

# Best of five runs, after an untimed one, of $1 wrapped so that every
# column is computed and printed.
time_ms() {
	local wrapped="SELECT sum(length(s::text)) FROM ($1) s" timed="" i
	for i in 1 2 3 4 5; do
		timed="$timed DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); r record; BEGIN
			EXECUTE \$q\$ $wrapped \$q\$ INTO r;
			RAISE NOTICE 'elapsed_ms=%', round(extract(epoch FROM clock_timestamp() - t0) * 1000, 2);
		END \$\$;"
	done
	sql -c "$wrapped" -c "$timed" 2>&1 | sed -n 's/.*elapsed_ms=//p' | sort -g | head -1
}

mc_psql "$datadir" "$port" postgres -c "CREATE DATABASE ehr"
sql -q -c "CREATE EXTENSION medchain"
mc_say "loading the sample EHR: $patients patients, $per_visit measurements per visit"
sql -q -v patients="$patients" -v measurements_per_visit="$per_visit" \
	-f "$MC_ROOT/scripts/sample_ehr.sql"
measurements=$(sql -c "SELECT count(*) FROM cdm.measurement")
mc_say "enabling every clinical table and sealing (difficulty 0)"
sql -q -c "SET medchain.difficulty = 0" \
	-c "SELECT medchain.enable(t) FROM unnest('{cdm.person,cdm.visit_occurrence,cdm.condition_occurrence,cdm.drug_exposure,cdm.measurement}'::regclass[]) t" \
	-c "SELECT medchain.seal()" -c "VACUUM ANALYZE" >/dev/null

# 1,000 rows spread over the table, found by their primary key.
ids="SELECT array_agg(g) FROM generate_series(1, $measurements, $((measurements / 1000))) g"
ids_array=$(sql -c "$ids")
where="WHERE m.measurement_id = ANY ('$ids_array'::int[])"
base_q="SELECT m.* FROM cdm.measurement m $where"
prov_q="SELECT m.*, (medchain.provenance(m)).* FROM cdm.measurement m $where"
lateral_q="SELECT m.*, p.* FROM cdm.measurement m CROSS JOIN LATERAL medchain.provenance(m) p $where"
join_q="SELECT m.*, e.entry_id, e.kind, e.recorded_by, e.recorded_at, e.block_height
	FROM cdm.measurement m JOIN medchain.entries e ON e.relation = 'cdm.measurement'
	 AND e.row_key = jsonb_build_object('measurement_id', m.measurement_id) $where"
rows=$(sql -c "SELECT count(*) FROM ($prov_q) s WHERE intact")
[ "$rows" = 1000 ] || mc_die "provenance() found $rows intact rows of 1000"

mc_say "timing: sealed"
base_ms=$(time_ms "$base_q")
prov_ms=$(time_ms "$prov_q")
lateral_ms=$(time_ms "$lateral_q")
join_ms=$(time_ms "$join_q")

person="WHERE person_id = $((patients / 2))"
record_q="SELECT 'person' AS t, p.person_id AS id, x.* FROM cdm.person p, medchain.provenance(p) x $person
	UNION ALL SELECT 'visit', v.visit_occurrence_id, x.* FROM cdm.visit_occurrence v, medchain.provenance(v) x $person
	UNION ALL SELECT 'condition', c.condition_occurrence_id, x.* FROM cdm.condition_occurrence c, medchain.provenance(c) x $person
	UNION ALL SELECT 'drug', d.drug_exposure_id, x.* FROM cdm.drug_exposure d, medchain.provenance(d) x $person
	UNION ALL SELECT 'measurement', m.measurement_id, x.* FROM cdm.measurement m, medchain.provenance(m) x $person"
record_rows=$(sql -c "SELECT count(*) FROM ($record_q) s")
sql -q -c "CREATE INDEX ON cdm.measurement (person_id)" -c "CREATE INDEX ON cdm.visit_occurrence (person_id)" \
	-c "CREATE INDEX ON cdm.condition_occurrence (person_id)" -c "CREATE INDEX ON cdm.drug_exposure (person_id)" \
	-c "ANALYZE"
record_ms=$(time_ms "$record_q")

mc_say "timing: 50,000 rows waiting in batches"
sql -q -c "INSERT INTO cdm.measurement (measurement_id, person_id, measurement_concept_id,
	measurement_date, measurement_type_concept_id, value_as_number)
	SELECT $measurements + g, 1 + g % $patients, 3004410, date '2026-12-01', 32817, 6.0
	  FROM generate_series(1, 50000) g"
pending_ms=$(time_ms "$prov_q")



awk -v n="$measurements" -v base="$base_ms" -v prov="$prov_ms" -v lateral="$lateral_ms" \
	-v join="$join_ms" -v pending="$pending_ms" -v record="$record_ms" -v record_rows="$record_rows" 'BEGIN {
	printf "\n1,000 of %d measurement rows, found by primary key (best of 5)\n", n;
	printf "  rows alone                             %8.2f ms\n", base;
	printf "  with (medchain.provenance(m)).*        %8.2f ms   %5.2fx   (goal <= 3x)\n", prov, prov / base;
	printf "  with LATERAL medchain.provenance(m)    %8.2f ms   %5.2fx\n", lateral, lateral / base;
	printf "  joined to medchain.entries by row_key  %8.2f ms   %5.2fx\n", join, join / base;
	printf "  provenance, 50,000 rows pending        %8.2f ms   %5.2fx\n", pending, pending / base;
	printf "one patient'"'"'s whole record, %d rows with provenance  %8.2f ms\n", record_rows, record;
}'
