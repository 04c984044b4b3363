#!/usr/bin/env bash
# Bulk loading into ledger tables, measured in one run on one cluster, with
# default durability (fsync and synchronous_commit on):
#
#   1. COPY from a server-side CSV file and INSERT ... SELECT from a staging
#      table, of 100,000 and of 1,000,000 rows, into three tables of the same
#      definition (a 7-column lab/vital-sign measurement row): plain (no
#      triggers), audit (a hand-written PL/pgSQL statement-level trigger that
#      writes sha256(row_to_json(row)) of every new row into an indexed audit
#      log) and ledger (medchain.enable() on the empty table).  Up to 100,000
#      rows also as multi-row INSERT ... VALUES, 1,000 rows a statement, all
#      in one transaction, as a loader sending batches would.
#   2. medchain.enable() on existing tables of 1,000,000 and 10,000,000 rows,
#      next to a CREATE TABLE ... AS SELECT copy of the same table; and
#      enable(tbl, concurrently => true) on such a copy when the installed
#      medchain has that argument.
#   3. The peak anonymous memory (RssAnon, which leaves out shared buffers)
#      of the backend running a COPY of 1,000,000 and of 10,000,000 rows into
#      a plain and into a ledger table, sampled every 20 ms.
#
# Method.  Each measured load goes into a freshly created empty table,
# created (and enabled) outside the timing; a CHECKPOINT runs before every
# timed statement, and psql's \timing is on around the statement alone, so
# the time includes its commit (and WAL flush) but neither connecting nor
# the client: COPY reads its file on the server, as superuser.  The CSV file
# and the staging table are made once per size, from bulk_rows() in
# bench/bulk_bench_schema.sql: the same rows in every run.  Each size has a
# database of its own; in it the audit log and the journal are shared by all
# tables and grow over the rounds, as they would in service.  The three
# variants run BULK_ROUNDS times, their order rotated every round; the
# script prints the median time of each and the ratios of the medians:
# ledger/plain = plain time / ledger time (throughput relative to plain,
# goal >= 0.50x) and audit/ledger = audit time / ledger time (how many times
# faster than the audit trigger, goal >= 2.5x).
#
# Like the other benchmarks it builds and installs this tree first;
# BULK_NO_BUILD=1 measures the medchain already installed instead.  The
# defaults take about 10 minutes on a 2-core machine; a quick check:
#
#   BULK_SIZES=20000 BULK_ENABLE_SIZES=50000 BULK_MEMORY_SIZES=50000 BULK_ROUNDS=1 \
#     bash bench/bulk_bench.sh
#
#   bash bench/bulk_bench.sh   # BULK_SIZES="100000 1000000" BULK_ROUNDS=3
#                              # BULK_ENABLE_SIZES="1000000 10000000"
#                              # BULK_MEMORY_SIZES="1000000 10000000"
#                              # BULK_VALUES_MAX=100000 BULK_VALUES_BATCH=1000
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
if [ -n "${BULK_NO_BUILD:-}" ]; then
	mc_build_install() { mc_say "measuring the installed medchain (BULK_NO_BUILD is set)"; }
fi
mc_init

sizes=${BULK_SIZES:-100000 1000000}
rounds=${BULK_ROUNDS:-3}
enable_sizes=${BULK_ENABLE_SIZES:-1000000 10000000}
memory_sizes=${BULK_MEMORY_SIZES:-1000000 10000000}
values_max=${BULK_VALUES_MAX:-100000}
values_batch=${BULK_VALUES_BATCH:-1000}
rounds_text="$rounds round"; [ "$rounds" = 1 ] || rounds_text+=s
for n in $sizes $enable_sizes $memory_sizes $rounds $values_max $values_batch; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || mc_die "sizes and rounds must be positive integers, not '$n'"
done

port=$(mc_free_port 60432)
datadir="$MC_SCRATCH/bulk"
settings=("fsync = on" "shared_buffers = 256MB" "max_wal_size = 4GB" "checkpoint_timeout = 30min")
mc_cluster_start "$datadir" "$port" "${settings[@]}"
sql() { local db=$1; shift; mc_psql "$datadir" "$port" "$db" -At "$@"; }

library="$("$PG_CONFIG" --pkglibdir)/medchain.so"
library_sum() { sha256sum "$library" 2>/dev/null | cut -c1-16; }
library_at_start=$(library_sum)

# A database of its own, with medchain and the benchmark's objects.
new_db() {
	sql postgres -c "CREATE DATABASE $1"
	sql "$1" -q -f "$MC_ROOT/bench/bulk_bench_schema.sql" >/dev/null
}
drop_db() { sql postgres -c "DROP DATABASE $1"; }

# run_timed DB PSQL-ARGS...: a CHECKPOINT, then the statements of the psql
# arguments with \timing on.  Sets timed_ms (the sum of their times) and
# timed_out (what they printed).
run_timed() {
	local db=$1 out
	shift
	out=$(sql "$db" -c CHECKPOINT -c '\timing on' "$@")
	timed_ms=$(awk '/^Time: / { s += $2 } END { printf "%.1f", s }' <<<"$out")
	timed_out=$(grep -v '^Time: ' <<<"$out" || true)
}

# check_loaded DB TABLE VARIANT ROWS: the table holds ROWS rows, and the audit
# log or the journal one for each.
check_loaded() {
	local got
	got=$(sql "$1" -F ' ' -c "SELECT in_table, recorded FROM bulk_rows_loaded('$2', '$3')")
	[ "$got" = "$4 $4" ] || mc_die "$2: expected $4 rows in the table and as many recorded, found (table, recorded) = ($got)"
}

# copy_peak DB TABLE CSV: COPY CSV into TABLE in a session whose backend's
# RssAnon is sampled every 20 ms.  Sets peak_kb and copy_ms.
copy_peak() {
	local db=$1 tbl=$2 csv=$3 pidfile="$MC_SCRATCH/backend.pid" out="$MC_SCRATCH/copy.out"
	local pid="" key kb runner
	rm -f "$pidfile"
	sql "$db" -c "\\o $pidfile" -c "SELECT pg_backend_pid()" -c '\o' -c CHECKPOINT \
		-c '\timing on' -c "COPY $tbl FROM '$csv' (FORMAT csv)" >"$out" 2>&1 &
	runner=$!
	while [ ! -s "$pidfile" ] && kill -0 "$runner" 2>/dev/null; do sleep 0.01; done
	[ -s "$pidfile" ] && pid=$(head -1 "$pidfile")
	peak_kb=0
	while [ -n "$pid" ] && kill -0 "$runner" 2>/dev/null; do
		while read -r key kb _; do
			if [ "$key" = RssAnon: ] && [ "$kb" -gt "$peak_kb" ]; then peak_kb=$kb; fi
		done 2>/dev/null <"/proc/$pid/status" || true
		sleep 0.02
	done
	wait "$runner" || mc_die "COPY into $tbl failed: $(cat "$out")"
	copy_ms=$(awk '/^Time: / { t = $2 } END { print t }' "$out")
	if [ -z "$copy_ms" ] || [ "$peak_kb" -eq 0 ]; then
		mc_die "no timing or memory sample for the COPY into $tbl: $(cat "$out")"
	fi
}

sorted() { tr ' ' '\n' | grep . | sort -g; }
median() { sorted | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
human() { awk -v n="$1" 'BEGIN { if (n >= 1000000) printf "%gM", n / 1000000; else if (n >= 1000) printf "%gk", n / 1000; else print n }'; }

# ---------------------------------------------------------------------------
# Header
# ---------------------------------------------------------------------------

pg_version=$(sql postgres -c "SHOW server_version")
mc_version=$(sql postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'medchain'")
shown=$(sql postgres -c "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY ord)
	FROM unnest(ARRAY['fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers',
		'max_wal_size', 'checkpoint_timeout', 'work_mem', 'maintenance_work_mem']) WITH ORDINALITY AS s(name, ord)")
echo "medchain bulk-load benchmark"
echo "machine:  $(nproc) cores, $(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo) GB memory"
echo "server:   PostgreSQL $pg_version; medchain $mc_version (library sha256 $library_at_start...)"
echo "settings: $shown"
echo "sizes:    loads of $sizes rows, $rounds_text (INSERT ... VALUES up to $values_max rows, $values_batch a statement);"
echo "          enable() on $enable_sizes rows; memory at COPY of $memory_sizes rows"

# ---------------------------------------------------------------------------
# 1. COPY, INSERT ... SELECT and INSERT ... VALUES into plain, audit, ledger
# ---------------------------------------------------------------------------

variants=(plain audit ledger)
declare -A times=() methods_of=()
row_bytes=""
for size in $sizes; do
	db="bulk_$size"
	csv="$MC_SCRATCH/rows_$size.csv"
	values_file="$MC_SCRATCH/values_$size.sql"
	mc_say "loads of $size rows: staging table and CSV file"
	new_db "$db"
	sql "$db" -q -c "SELECT make_bulk_table('staging')" -c "INSERT INTO staging SELECT * FROM bulk_rows(1, $size)" \
		-c "VACUUM ANALYZE staging" -c "COPY staging TO '$csv' (FORMAT csv)" >/dev/null
	[ -n "$row_bytes" ] || row_bytes=$(sql "$db" -c "SELECT round(avg(pg_column_size(s.*))) FROM staging s")
	methods="copy insert"
	if [ "$size" -le "$values_max" ]; then
		methods="$methods values"
		sql "$db" -c "COPY (SELECT 'INSERT INTO :\"target\" VALUES '
				|| string_agg(format('(%s, %s, %s, %L, %L, %L, %L)', measurement_id, person_id,
					measurement_concept_id, measurement_date, value_as_number, unit_source_value,
					recorded_at), ', ' ORDER BY measurement_id) || ';'
			FROM staging GROUP BY (measurement_id - 1) / $values_batch ORDER BY (measurement_id - 1) / $values_batch)
			TO '$values_file'"
		# one transaction, as a loader sending batches would
		{ echo "BEGIN;"; cat "$values_file"; echo "COMMIT;"; } > "$values_file.tx"
		mv "$values_file.tx" "$values_file"
	fi
	methods_of[$size]=$methods
	for round in $(seq 1 "$rounds"); do
		order=()
		for i in 0 1 2; do order+=("${variants[$(((round - 1 + i) % 3))]}"); done
		for method in $methods; do
			for v in "${order[@]}"; do
				tbl="${v}_${method}_$round"
				sql "$db" -c "SELECT make_bulk_table('$tbl', '$v')" >/dev/null
				case $method in
				copy) run_timed "$db" -c "COPY $tbl FROM '$csv' (FORMAT csv)" ;;
				insert) run_timed "$db" -c "INSERT INTO $tbl SELECT * FROM staging" ;;
				values) run_timed "$db" -v target="$tbl" -f "$values_file" ;;
				esac
				check_loaded "$db" "$tbl" "$v" "$size"
				times[$size,$method,$v]="${times[$size,$method,$v]:-} $timed_ms"
				mc_say "round $round: $method of $size rows into $v: $timed_ms ms"
				sql "$db" -c "SELECT drop_bulk_table('$tbl', '$v')" >/dev/null
			done
		done
	done
	drop_db "$db"
	rm -f "$csv" "$values_file"
done

# ---------------------------------------------------------------------------
# 2. enable() on existing tables
# ---------------------------------------------------------------------------

declare -A enable_ms=() ctas_ms=() concurrent_ms=()
for size in $enable_sizes; do
	db="enable_$size"
	mc_say "enable() on $size rows: filling the table"
	new_db "$db"
	sql "$db" -q -c "SELECT make_bulk_table('measurement')" \
		-c "INSERT INTO measurement SELECT * FROM bulk_rows(1, $size)" -c "VACUUM ANALYZE measurement" >/dev/null
	run_timed "$db" -c "CREATE TABLE measurement_copy AS SELECT * FROM measurement"
	ctas_ms[$size]=$timed_ms
	mc_say "CREATE TABLE AS copy of $size rows: $timed_ms ms"
	run_timed "$db" -c "SELECT medchain.enable('measurement')"
	[ "$timed_out" = "$size" ] || mc_die "enable('measurement') returned '$timed_out', expected $size"
	check_loaded "$db" measurement ledger "$size"
	enable_ms[$size]=$timed_ms
	mc_say "enable() of $size rows: $timed_ms ms"
	concurrent=$(sql "$db" -c "SELECT count(*) FROM pg_proc WHERE proname = 'enable'
		AND pronamespace = 'medchain'::regnamespace AND 'concurrently' = ANY(proargnames)")
	if [ "$concurrent" -gt 0 ]; then
		sql "$db" -q -c "ALTER TABLE measurement_copy ADD PRIMARY KEY (measurement_id)" \
			-c "VACUUM ANALYZE measurement_copy"
		run_timed "$db" -c "SELECT medchain.enable('measurement_copy', concurrently => true)"
		# Should it return before its baseline is complete, the time until it is.
		returned=$(date +%s%N)
		deadline=$(($(date +%s) + 7200))
		waited=""
		until [ "$(sql "$db" -c "SELECT count(*) FROM medchain.ledger_tables t
				WHERE to_regclass(t.relation) = 'measurement_copy'::regclass AND t.rows_recorded = $size
				  AND coalesce(to_jsonb(t) ->> 'state', 'enabled') = 'enabled'")" = 1 ]; do
			[ "$(date +%s)" -lt "$deadline" ] || mc_die "enable(concurrently => true) did not complete the baseline of $size rows within 2 hours"
			sleep 0.1
			waited=1
		done
		if [ -n "$waited" ]; then
			timed_ms=$(awk -v t="$timed_ms" -v a="$returned" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", t + (b - a) / 1e6 }')
			mc_say "enable(concurrently => true) returned before its baseline was complete: counting the wait"
		fi
		check_loaded "$db" measurement_copy ledger "$size"
		concurrent_ms[$size]=$timed_ms
		mc_say "enable(concurrently => true) of $size rows: $timed_ms ms"
	fi
	drop_db "$db"
done

# ---------------------------------------------------------------------------
# 3. Peak backend memory of COPY into plain and ledger
# ---------------------------------------------------------------------------

declare -A peak=() peak_ms=()
for size in $memory_sizes; do
	db="memory_$size"
	csv="$MC_SCRATCH/memory_$size.csv"
	mc_say "memory at COPY of $size rows: CSV file"
	new_db "$db"
	sql "$db" -c "COPY (SELECT * FROM bulk_rows(1, $size)) TO '$csv' (FORMAT csv)"
	for v in plain ledger; do
		sql "$db" -c "SELECT make_bulk_table('mem_$v', '$v')" >/dev/null
		copy_peak "$db" "mem_$v" "$csv"
		check_loaded "$db" "mem_$v" "$v" "$size"
		peak[$size,$v]=$peak_kb
		peak_ms[$size,$v]=$copy_ms
		mc_say "COPY of $size rows into $v: peak RssAnon $peak_kb kB, $copy_ms ms"
		sql "$db" -c "SELECT drop_bulk_table('mem_$v', '$v')" >/dev/null
	done
	drop_db "$db"
	rm -f "$csv"
done

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

summary=()
echo
echo "1. Bulk loads of ${row_bytes}-byte measurement rows into a fresh table; median of $rounds_text (ms)"
printf '%-22s %10s %10s %10s %12s %14s %14s\n' load plain audit ledger "ledger rows/s" ledger/plain audit/ledger
for size in $sizes; do
	for method in ${methods_of[$size]}; do
		case $method in
		copy) label="COPY $(human "$size")" ;;
		insert) label="INSERT SELECT $(human "$size")" ;;
		values) label="INSERT VALUES $(human "$size")" ;;
		esac
		p=$(echo "${times[$size,$method,plain]}" | median)
		a=$(echo "${times[$size,$method,audit]}" | median)
		l=$(echo "${times[$size,$method,ledger]}" | median)
		lp=$(ratio "$p" "$l")
		al=$(ratio "$a" "$l")
		printf '%-22s %10.0f %10.0f %10.0f %12.0f %13sx %13sx\n' "$label" "$p" "$a" "$l" \
			"$(awk -v n="$size" -v t="$l" 'BEGIN { print n / t * 1000 }')" "$lp" "$al"
		summary+=("$(printf '%-22s ledger/plain %5sx (goal >= 0.50x)   audit/ledger %5sx (goal >= 2.5x)' "$label" "$lp" "$al")")
	done
done
echo "ledger/plain = plain time / ledger time; audit/ledger = audit time / ledger time"
echo "(INSERT VALUES: $values_batch rows a statement, all in one transaction)"

echo
echo "2. medchain.enable() on an existing table (after VACUUM ANALYZE and CHECKPOINT)"
printf '%-36s %10s %12s\n' "" seconds rows/s
for size in $enable_sizes; do
	e=${enable_ms[$size]}
	c=${ctas_ms[$size]}
	printf '%-36s %10.2f %12.0f\n' "enable() of $(human "$size") rows" "$(awk -v t="$e" 'BEGIN { print t / 1000 }')" \
		"$(awk -v n="$size" -v t="$e" 'BEGIN { print n / t * 1000 }')"
	printf '%-36s %10.2f %12.0f\n' "  CREATE TABLE AS copy, reference" "$(awk -v t="$c" 'BEGIN { print t / 1000 }')" \
		"$(awk -v n="$size" -v t="$c" 'BEGIN { print n / t * 1000 }')"
	line=$(printf '%-22s %9.0f rows/s, %.2fx the time of a CREATE TABLE AS copy' "enable() $(human "$size")" \
		"$(awk -v n="$size" -v t="$e" 'BEGIN { print n / t * 1000 }')" "$(ratio "$e" "$c")")
	if [ -n "${concurrent_ms[$size]:-}" ]; then
		k=${concurrent_ms[$size]}
		printf '%-36s %10.2f %12.0f\n' "  enable(concurrently => true)" "$(awk -v t="$k" 'BEGIN { print t / 1000 }')" \
			"$(awk -v n="$size" -v t="$k" 'BEGIN { print n / t * 1000 }')"
		line="$line; concurrently $(awk -v n="$size" -v t="$k" 'BEGIN { printf "%.0f", n / t * 1000 }') rows/s"
	else
		printf '%-36s %s\n' "  enable(concurrently => true)" "not available"
		line="$line; concurrently: not available"
	fi
	summary+=("$line")
done

echo
echo "3. Peak anonymous memory (RssAnon) of the backend running the COPY"
printf '%-22s %10s %10s %10s %12s %12s\n' load "plain MB" "ledger MB" "diff MB" "plain ms" "ledger ms"
for size in $memory_sizes; do
	pk=${peak[$size,plain]}
	lk=${peak[$size,ledger]}
	diff=$(awk -v a="$lk" -v b="$pk" 'BEGIN { printf "%+.1f", (a - b) / 1024 }')
	printf '%-22s %10.1f %10.1f %10s %12.0f %12.0f\n' "COPY $(human "$size")" \
		"$(awk -v k="$pk" 'BEGIN { print k / 1024 }')" "$(awk -v k="$lk" 'BEGIN { print k / 1024 }')" "$diff" \
		"${peak_ms[$size,plain]}" "${peak_ms[$size,ledger]}"
	summary+=("$(printf '%-22s ledger peak %s MB against plain (goal: a few MB at most)' "memory COPY $(human "$size")" "$diff")")
done

echo
echo "Summary"
for line in "${summary[@]}"; do echo "  $line"; done
if [ "$(library_sum)" != "$library_at_start" ]; then
	echo "warning: $library changed during the run (sha256 now $(library_sum)...): results may mix two builds"
fi
