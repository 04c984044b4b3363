#!/usr/bin/env bash
# The background worker, measured in one run on one cluster preloaded with
# medchain:
#   - a sealing backlog after downtime: BENCH_ROWS pending baseline
#     entries (default 1,000,000), worked off by the worker once
#     medchain.seal_interval lets it (default difficulty, blocks of
#     medchain.block_max_entries), in entries per second (target >= 200,000),
#     and as a ratio to a baseline measured right after it: the same
#     journal rows, with the same indexes, written by one INSERT ... SELECT;
#   - scrub throughput at full rate: a whole pass over the sealed table
#     (its rows and every entry), in rows and entries per second, next to
#     one-process verify(tbl) of the same table (best of three), which a
#     pass runs once;
#   - the rate honoured: a pass at medchain.scrub_rate = BENCH_PACED_RATE
#     (default 200,000) against that rate.
#
#   bash bench/worker_bench.sh        # BENCH_ROWS=1000000 BENCH_PACED_RATE=200000
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
mc_init

rows=${BENCH_ROWS:-1000000}
paced_rate=${BENCH_PACED_RATE:-200000}
port=$(mc_free_port 58532)
datadir="$MC_SCRATCH/worker"
# The worker starts idle: it seals only once the interval is shortened.
mc_cluster_start "$datadir" "$port" "shared_preload_libraries = 'medchain'" \
	"shared_buffers = 2GB" "max_wal_size = 8GB" "checkpoint_timeout = 30min" "work_mem = 64MB" \
	"medchain.seal_interval = '24h'" "medchain.scrub_rate = 0"
sql() { mc_psql "$datadir" "$port" postgres -At "$@"; }
setting() {	# name value: set in postgresql.conf and reload
	sql -c "ALTER SYSTEM SET $1 = '$2'" -c "SELECT pg_reload_conf()" >/dev/null
}
poll() {	# query expected: wait until the query returns expected
	while [ "$(sql -c "$1")" != "$2" ]; do sleep 0.05; done
}

sql -q -c "CREATE EXTENSION medchain"
sql -q -f "$MC_ROOT/bench/chain_bench_schema.sql" -v rows="$rows"
mc_say "enabling: $rows baseline entries, left pending"
sql -q -c "SELECT medchain.enable('obs')" -c "VACUUM ANALYZE obs"
pending=$(sql -c "SELECT pending_entries FROM medchain.chain_status")

mc_say "the worker seals the backlog"
# Timed by the server's clocks, from just before the reload to the worker's
# last seal, and polled slowly: a psql started every few milliseconds would
# take CPU from the worker it measures.
t0=$(sql -c "SELECT clock_timestamp()")
setting medchain.seal_interval 10ms
# Polled in shared memory: counting what is pending would itself scan the
# batches, competing with the worker for the machine.
while [ "$(sql -c "SELECT entries_sealed >= $pending FROM medchain.worker_status WHERE process = 'worker'")" != t ]; do
	sleep 0.5
done
seal_ms=$(sql -c "SELECT round(extract(epoch FROM last_seal_at - '$t0') * 1000) FROM medchain.worker_status WHERE process = 'worker'")
poll "SELECT pending_entries FROM medchain.chain_status" 0
blocks=$(sql -c "SELECT count(*) FROM medchain.blocks")
max_block=$(sql -c "SELECT max(entry_count) FROM medchain.blocks")
sql -q -c "VACUUM ANALYZE"
findings=$(sql -c "SELECT count(*) FROM medchain.verify('obs')")
[ "$findings" = 0 ] || mc_die "verify('obs') reported $findings findings after the worker sealed"

# The baseline: the same journal rows, with the same indexes, written by
# plain SQL in one statement, on the same server right after the worker.
# It is what PostgreSQL itself takes to write those pages, index entries
# and WAL; the worker's rate is quoted as a ratio to it.
mc_say "the same journal rows written by INSERT ... SELECT"
sql -q -c "CREATE TABLE journal_copy (LIKE medchain.journal INCLUDING INDEXES)"
copy_ms=$(sql -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
		INSERT INTO journal_copy SELECT * FROM medchain.journal;
		RAISE NOTICE 'elapsed_ms=%', round(extract(epoch FROM clock_timestamp() - t0) * 1000, 1);
	END \$\$" 2>&1 | sed -n 's/.*elapsed_ms=//p')
copied=$(sql -c "SELECT count(*) FROM journal_copy")
sql -q -c "DROP TABLE journal_copy"

mc_say "one-process verify(tbl), best of three"
verify_ms=""
for i in 1 2 3; do
	ms=$(sql -c "SET max_parallel_workers_per_gather = 0" -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); n bigint; BEGIN
		SELECT count(*) INTO n FROM medchain.verify('obs');
		RAISE NOTICE 'elapsed_ms=%', round(extract(epoch FROM clock_timestamp() - t0) * 1000, 1);
	END \$\$" 2>&1 | sed -n 's/.*elapsed_ms=//p')
	verify_ms=$(awk -v a="$ms" -v b="$verify_ms" 'BEGIN { print (b == "" || a < b) ? a : b }')
done

# A pass that starts after the setting: wait for the pass number to move on twice.
pass_after() {	# rate -> "duration_ms rows" of the first pass begun under that rate
	local start
	start=$(sql -c "SELECT pass FROM medchain.scrub_status")
	setting medchain.scrub_rate "$1"
	poll "SELECT pass > $start + 1 OR (pass = $start + 1 AND pass_started_at IS NULL) FROM medchain.scrub_status" t
	sql -c "SELECT round(extract(epoch FROM last_pass_finished_at - last_pass_started_at) * 1000), last_pass_rows FROM medchain.scrub_status" | tr '|' ' '
}
mc_say "scrubbing at full rate"
read -r full_ms full_rows <<<"$(pass_after 1000000000)"
setting medchain.scrub_rate 0
mc_say "scrubbing at $paced_rate rows and entries per second"
read -r paced_ms paced_rows <<<"$(pass_after "$paced_rate")"
setting medchain.scrub_rate 0
open=$(sql -c "SELECT open_findings FROM medchain.scrub_status")
[ "$open" = 0 ] || mc_die "the scrubber reported $open findings on a clean ledger"

awk -v rows="$rows" -v pending="$pending" -v seal_ms="$seal_ms" -v blocks="$blocks" \
	-v copy_ms="$copy_ms" -v copied="$copied" \
	-v max_block="$max_block" -v verify="$verify_ms" -v full_ms="$full_ms" -v full_rows="$full_rows" \
	-v paced_ms="$paced_ms" -v paced_rows="$paced_rows" -v paced_rate="$paced_rate" 'BEGIN {
	printf "\n";
	printf "backlog of %d pending entries sealed by the worker   %8.0f ms   %9.0f entries/s (target >= 200000)\n", pending, seal_ms, pending / seal_ms * 1000;
	printf "  in %d blocks of at most %d entries (default difficulty; the time includes the worker noticing the reload)\n", blocks, max_block;
	printf "  baseline: INSERT INTO a copy of the journal SELECT its %d rows  %8.0f ms   %9.0f rows/s (the worker: %.2fx its rate)\n", copied, copy_ms, copied / copy_ms * 1000, (pending / seal_ms) / (copied / copy_ms);
	printf "one-process verify(tbl) over %d rows               %8.0f ms   %9.0f rows/s\n", rows, verify, rows / verify * 1000;
	printf "scrub pass at full rate: %d rows and entries       %8.0f ms   %9.0f per second (%.2fx the one-process verify time)\n", full_rows, full_ms, full_rows / full_ms * 1000, full_ms / verify;
	printf "scrub pass at scrub_rate %d: %d rows and entries %8.0f ms   %9.0f per second (%.2f of the rate)\n", paced_rate, paced_rows, paced_ms, paced_rows / paced_ms * 1000, paced_rows / paced_ms * 1000 / paced_rate;
}'
