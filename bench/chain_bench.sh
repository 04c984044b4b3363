#!/usr/bin/env bash
# Sealing and verification, measured in one run on one cluster:
#   - entries sealed per second, proof-of-work excluded (difficulty 0);
#   - verify(tbl) rows per second on a clean ledger table of 1,000,000
#     EHR observation rows (~250 bytes), next to SELECT count(*) and a plain
#     SQL re-hash of the same table, with the ratio to the re-hash (best of
#     three runs each; verify() with its default parallel worker, and
#     without);
#   - the one-process ratio: verify(tbl) and the SQL re-hash
#     SELECT sum(length(sha256(convert_to(row_to_json(t)::text, 'UTF8'))))
#     both with max_parallel_workers_per_gather = 0 (best of three each,
#     in one session after an untimed run); both ratios again with each
#     run in a new session;
#   - peak private memory of the verifying backend at 100,000 and at
#     1,000,000 rows (it should not grow with the table).
#
#   bash bench/chain_bench.sh        # BENCH_ROWS=1000000 BENCH_SMALL_ROWS=100000
#
# PG_CONFIG picks the server to build against and run (scripts/lib.sh),
# MC_PORT the first port to try.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
mc_init

rows=${BENCH_ROWS:-1000000}
small_rows=${BENCH_SMALL_ROWS:-100000}
port=$(mc_free_port 58432)
datadir="$MC_SCRATCH/chain"
# shared_buffers holds the table and its journal, as a server sized for them would.
mc_cluster_start "$datadir" "$port" "shared_buffers = 2GB" "max_wal_size = 8GB" \
	"checkpoint_timeout = 30min" "work_mem = 64MB"
# Two databases, so that each chain holds only its own table's entries.
db=large
sql() { mc_psql "$datadir" "$port" "$db" -At "$@"; }

# Milliseconds taken by one statement, run in a fresh session after the
# optional setting $2.
time_once_ms() {
	sql -c "SET medchain.difficulty = 0" -c "${2:-SELECT 1}" -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); r record; BEGIN
		EXECUTE \$q\$ $1 \$q\$ INTO r;
		RAISE NOTICE 'elapsed_ms=%', round(extract(epoch FROM clock_timestamp() - t0) * 1000, 1);
	END \$\$" 2>&1 | sed -n 's/.*elapsed_ms=//p'
}

# The best of three runs in one session, after a run that is not timed:
# what the statement costs without interference.  A new backend pays for
# its first touch of every shared buffer it reads (its page tables are
# filled one 4 kB page at a time), which on some virtual machines costs
# as much as the scan itself; a long-lived process, like the scrubber,
# pays it once.  time_fresh_ms times each run in a new session instead.
time_ms() {
	local timed="" i
	for i in 1 2 3; do
		timed="$timed DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); r record; BEGIN
			EXECUTE \$q\$ $1 \$q\$ INTO r;
			RAISE NOTICE 'elapsed_ms=%', round(extract(epoch FROM clock_timestamp() - t0) * 1000, 1);
		END \$\$;"
	done
	sql -c "SET medchain.difficulty = 0" -c "${2:-SELECT 1}" -c "$1" -c "$timed" 2>&1 \
		| sed -n 's/.*elapsed_ms=//p' | sort -g | head -1
}

time_fresh_ms() {
	local best="" ms i
	for i in 1 2 3; do
		ms=$(time_once_ms "$1" "${2:-}")
		best=$(awk -v a="$ms" -v b="$best" 'BEGIN { print (b == "" || a < b) ? a : b }')
	done
	echo "$best"
}

# Peak anonymous (private) memory of the backend running $1, in kB.
peak_private_kb() {
	local query=$1 pidfile="$MC_SCRATCH/backend.pid" pid peak=0 kb
	rm -f "$pidfile"
	( sql -c "SELECT pg_backend_pid()" -c "$query" > "$pidfile" ) &
	local runner=$!
	while [ ! -s "$pidfile" ]; do sleep 0.01; done
	pid=$(head -1 "$pidfile")
	while kill -0 "$runner" 2>/dev/null; do
		kb=$(awk '/^Anonymous:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
		[ -n "$kb" ] && [ "$kb" -gt "$peak" ] && peak=$kb
		sleep 0.02
	done
	wait "$runner"
	echo "$peak"
}

mc_psql "$datadir" "$port" postgres -q -c "CREATE DATABASE large" -c "CREATE DATABASE small"
for db in small large; do
	n=$rows; [ "$db" = small ] && n=$small_rows
	sql -q -c "CREATE EXTENSION medchain"
	sql -q -f "$MC_ROOT/bench/chain_bench_schema.sql" -v rows="$n"
done

db=small
sql -q -c "SELECT medchain.enable('obs')" -c "SET medchain.difficulty = 0" -c "SELECT medchain.seal()" \
	-c "VACUUM ANALYZE" >/dev/null
db=large
mc_say "enabling: $rows baseline entries"
enable_ms=$(time_once_ms "SELECT medchain.enable('obs')")
sql -q -c "VACUUM ANALYZE"

mc_say "sealing (difficulty 0)"
seal_small_ms=$(time_once_ms "SELECT medchain.seal($small_rows)")
seal_rest_ms=$(time_once_ms "SELECT medchain.seal()")
sealed=$(sql -c "SELECT count(*) FROM medchain.entries WHERE block_height IS NOT NULL")
sql -q -c "VACUUM ANALYZE"

mc_say "verifying"
findings=$(sql -c "SELECT count(*) FROM medchain.verify('obs')")
[ "$findings" = 0 ] || mc_die "verify('obs') reported $findings findings on a clean table"
sql -q -c "SELECT count(*) FROM obs" >/dev/null	# warm the cache alike for all three
count_ms=$(time_ms "SELECT count(*) FROM obs")
rehash_ms=$(time_ms "SELECT count(sha256(convert_to(row_to_json(t)::text, 'UTF8'))) FROM obs t")
verify_ms=$(time_ms "SELECT count(*) FROM medchain.verify('obs')")
verify_serial_ms=$(time_ms "SELECT count(*) FROM medchain.verify('obs')" \
	"SET max_parallel_workers_per_gather = 0")
# The same work in one process each: the re-hash without its parallel plan.
rehash_serial_ms=$(time_ms "SELECT sum(length(sha256(convert_to(row_to_json(t)::text, 'UTF8')))) FROM obs t" \
	"SET max_parallel_workers_per_gather = 0")
verify_fresh_par_ms=$(time_fresh_ms "SELECT count(*) FROM medchain.verify('obs')")
rehash_fresh_par_ms=$(time_fresh_ms "SELECT count(sha256(convert_to(row_to_json(t)::text, 'UTF8'))) FROM obs t")
verify_fresh_ms=$(time_fresh_ms "SELECT count(*) FROM medchain.verify('obs')" \
	"SET max_parallel_workers_per_gather = 0")
rehash_fresh_ms=$(time_fresh_ms "SELECT sum(length(sha256(convert_to(row_to_json(t)::text, 'UTF8')))) FROM obs t" \
	"SET max_parallel_workers_per_gather = 0")
db=small
mem_small=$(peak_private_kb "SELECT count(*) FROM medchain.verify('obs')")
db=large
mem_large=$(peak_private_kb "SELECT count(*) FROM medchain.verify('obs')")

awk -v rows="$rows" -v small="$small_rows" -v sealed="$sealed" \
	-v enable="$enable_ms" -v seal_small="$seal_small_ms" -v seal_rest="$seal_rest_ms" \
	-v count="$count_ms" -v rehash="$rehash_ms" -v verify="$verify_ms" -v serial="$verify_serial_ms" \
	-v rehash_serial="$rehash_serial_ms" -v verify_fresh="$verify_fresh_ms" -v rehash_fresh="$rehash_fresh_ms" \
	-v verify_fresh_par="$verify_fresh_par_ms" -v rehash_fresh_par="$rehash_fresh_par_ms" \
	-v mem_small="$mem_small" -v mem_large="$mem_large" 'BEGIN {
	printf "\n";
	printf "enable (baseline of %d rows)          %9.0f ms   %9.0f rows/s\n", rows, enable, rows / enable * 1000;
	printf "seal, first %d entries            %9.0f ms   %9.0f entries/s\n", small, seal_small, small / seal_small * 1000;
	printf "seal, remaining %d entries        %9.0f ms   %9.0f entries/s\n", sealed - small, seal_rest, (sealed - small) / seal_rest * 1000;
	printf "  (difficulty 0: proof-of-work excluded; target >= 200000 entries/s)\n";
	printf "SELECT count(*) over %d rows          %9.0f ms   %9.0f rows/s\n", rows, count, rows / count * 1000;
	printf "SQL re-hash (sha256 of row_to_json)     %9.0f ms   %9.0f rows/s\n", rehash, rows / rehash * 1000;
	printf "verify(tbl)                             %9.0f ms   %9.0f rows/s\n", verify, rows / verify * 1000;
	printf "verify(tbl) without parallel workers    %9.0f ms   %9.0f rows/s\n", serial, rows / serial * 1000;
	printf "SQL re-hash without parallel workers    %9.0f ms   %9.0f rows/s\n", rehash_serial, rows / rehash_serial * 1000;
	printf "verify / SQL re-hash: %.2fx (target >= 2.0x); without workers %.2fx\n", rehash / verify, rehash / serial;
	printf "one-process verify / one-process SQL re-hash: %.2fx (target >= 3.0x)\n", rehash_serial / serial;
	printf "each run in a new session, which pays a new backend'"'"'s first touch of the buffers:\n";
	printf "  verify / SQL re-hash: %.2fx (%.0f / %.0f ms); one-process: %.2fx (%.0f / %.0f ms)\n", rehash_fresh_par / verify_fresh_par, rehash_fresh_par, verify_fresh_par, rehash_fresh / verify_fresh, rehash_fresh, verify_fresh;
	printf "verify peak private memory: %d kB at %d rows, %d kB at %d rows\n", mem_small, small, mem_large, rows;
}'
