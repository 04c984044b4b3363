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
# Each query runs as COPY (...) TO '/dev/null': planned as the analyst's
# query is, every column computed and turned into text as it would be for
# a client, no client on the timing's path.  (Wrapped in a subquery under
# an aggregate, (f(m)).* would be planned with one whole-row reference m,
# where the analyst's query has one for each of f's columns.)  The figure
# is the best of seven runs in one session after an untimed run; the
# queries compared take turns, one run of each at a time, so that a burst
# of other work on the machine weighs on all of them alike.  Goal:
# provenance ≤ 3x the baseline.
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

# time_ms RUNS QUERY...: the best of RUNS runs of each query, after an
# untimed one, each run as COPY (query) TO '/dev/null'; the queries take
# turns.  One figure a line, in the order given.
time_ms() {
	local runs=$1 queries="" q
	shift
	for q in "$@"; do
		queries="$queries${queries:+, }\$q\$ COPY ($q) TO '/dev/null' \$q\$"
	done
	sql -c "DO \$\$ DECLARE q text[] := ARRAY[$queries]; best float8[]; t0 timestamptz; BEGIN
		best := array_fill('Infinity'::float8, ARRAY[cardinality(q)]);
		FOR i IN 1 .. cardinality(q) LOOP EXECUTE q[i]; END LOOP;
		FOR run IN 1 .. $runs LOOP
			FOR i IN 1 .. cardinality(q) LOOP
				t0 := clock_timestamp();
				EXECUTE q[i];
				best[i] := least(best[i], extract(epoch FROM clock_timestamp() - t0) * 1000);
			END LOOP;
		END LOOP;
		FOR i IN 1 .. cardinality(q) LOOP
			RAISE NOTICE 'elapsed_ms=%', round(best[i]::numeric, 2);
		END LOOP;
	END \$\$;" 2>&1 | sed -n 's/.*elapsed_ms=//p'
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
mapfile -t ms < <(time_ms 7 "$base_q" "$prov_q" "$lateral_q")
base_ms=${ms[0]} prov_ms=${ms[1]} lateral_ms=${ms[2]}
join_ms=$(time_ms 3 "$join_q")

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
record_ms=$(time_ms 7 "$record_q")

mc_say "timing: 50,000 rows waiting in batches"
sql -q -c "INSERT INTO cdm.measurement (measurement_id, person_id, measurement_concept_id,
	measurement_date, measurement_type_concept_id, value_as_number)
	SELECT $measurements + g, 1 + g % $patients, 3004410, date '2026-12-01', 32817, 6.0
	  FROM generate_series(1, 50000) g"
mapfile -t ms < <(time_ms 7 "$base_q" "$prov_q")
pending_base_ms=${ms[0]} pending_ms=${ms[1]}



awk -v n="$measurements" -v base="$base_ms" -v prov="$prov_ms" -v lateral="$lateral_ms" \
	-v join="$join_ms" -v pending_base="$pending_base_ms" -v pending="$pending_ms" \
	-v record="$record_ms" -v record_rows="$record_rows" 'BEGIN {
	printf "\n1,000 of %d measurement rows, found by primary key (best of 7)\n", n;
	printf "  rows alone                             %8.2f ms\n", base;
	printf "  with (medchain.provenance(m)).*        %8.2f ms   %5.2fx   (goal <= 3x)\n", prov, prov / base;
	printf "  with LATERAL medchain.provenance(m)    %8.2f ms   %5.2fx\n", lateral, lateral / base;
	printf "  joined to medchain.entries by row_key  %8.2f ms   %5.2fx   (best of 3)\n", join, join / base;
	printf "  provenance, 50,000 rows pending        %8.2f ms   %5.2fx   (rows alone %.2f ms)\n", pending,
		pending / pending_base, pending_base;
	printf "one patient'"'"'s whole record, %d rows with provenance  %8.2f ms\n", record_rows, record;
}'
