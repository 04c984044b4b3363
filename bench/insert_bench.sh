#!/usr/bin/env bash
# INSERT throughput: a ledger table against a plain table and the two things
# a DBA would otherwise write by hand (an audit trigger copying to_jsonb(NEW)
# into a log table; a PL/pgSQL hash chain that locks a chain head per row).
# All four tables have the same definition (an EHR observation row of about
# 250 bytes).  pgbench runs each at 2 and 4 clients, with default durability
# and with synchronous_commit = off, interleaved over several rounds.
#
# Within a round the four variants of a setting run back to back (in
# reverse order every other round), so each round gives a ratio to a plain
# run measured a few seconds away.  The script prints median tps and the
# median of those per-round ratios, with their range: on a small machine
# the WAL flush latency drifts by more than the effect being measured, and
# pairing runs close in time cancels the drift that medians of whole
# columns would keep.
#
# Many short rounds rather than a few long ones: with default durability
# one round's ratio can land anywhere between about 0.65x and 1.3x on a
# 2-core virtual machine, so only the median of many pairs is worth
# quoting.  The defaults take about 27 minutes.
#
# With BENCH_WORKER=1 the cluster preloads medchain and its background
# worker seals every second (medchain.seal_interval = 1s) and scrubs at its
# default rate while the inserts run: the ratios then include what the
# worker costs the inserting backends.
#
#   bash bench/insert_bench.sh            # BENCH_SECONDS=3 BENCH_ROUNDS=30 BENCH_WORKER=0
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
mc_init

seconds=${BENCH_SECONDS:-3}
rounds=${BENCH_ROUNDS:-30}
port=$(mc_free_port 57432)
datadir="$MC_SCRATCH/bench"
worker=${BENCH_WORKER:-0}
worker_settings=()
[ "$worker" = 1 ] && worker_settings=("shared_preload_libraries = 'medchain'" "medchain.seal_interval = 1s")
# Default durability: fsync and synchronous_commit as shipped.
mc_cluster_start "$datadir" "$port" "fsync = on" "shared_buffers = 256MB" \
	"max_wal_size = 4GB" "checkpoint_timeout = 30min" "${worker_settings[@]}"
psql_bench() { mc_psql "$datadir" "$port" postgres "$@"; }

psql_bench -f "$MC_ROOT/bench/insert_bench_schema.sql"
row_bytes=$(psql_bench -At -c "SELECT pg_column_size(o.*) FROM obs_plain o LIMIT 1")

variants="plain ledger audit chain"
for v in $variants; do
	sed "s/@TABLE@/obs_$v/" "$MC_ROOT/bench/insert_bench_row.sql" > "$MC_SCRATCH/insert_$v.sql"
done
[ "$(id -u)" -eq 0 ] && chown "$MC_USER" "$MC_SCRATCH"/insert_*.sql

run_pgbench() {	# variant clients sync -> tps
	local v=$1 clients=$2 sync=$3
	mc_as_user env PGOPTIONS="-c synchronous_commit=$sync" \
		pgbench -n -h "$datadir" -p "$port" -U postgres -c "$clients" -j "$clients" \
		-T "$seconds" -f "$MC_SCRATCH/insert_$v.sql" postgres 2>/dev/null \
		| awk '/^tps = / { printf "%.0f\n", $3 }'
}

declare -A samples ratios
for round in $(seq 1 "$rounds"); do
	order=$variants
	[ $((round % 2)) -eq 0 ] && order=$(echo "$variants" | tr ' ' '\n' | tac | tr '\n' ' ')
	for sync in on off; do
		for clients in 2 4; do
			declare -A tps=()
			for v in $order; do
				psql_bench -c CHECKPOINT
				tps[$v]=$(run_pgbench "$v" "$clients" "$sync")
				samples[$sync,$clients,$v]="${samples[$sync,$clients,$v]:-} ${tps[$v]}"
				mc_say "round $round synchronous_commit=$sync clients=$clients $v: ${tps[$v]} tps"
			done
			for v in $variants; do
				ratios[$sync,$clients,$v]="${ratios[$sync,$clients,$v]:-} $(awk -v a="${tps[$v]}" -v b="${tps[plain]}" 'BEGIN { printf "%.3f", a / b }')"
			done
		done
	done
done

sorted() { tr ' ' '\n' | grep . | sort -g; }
median() { sorted | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
range() { sorted | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }'; }

# Every committed row must have been recorded exactly once.
check=$(psql_bench -At -c "SELECT (SELECT count(*) FROM obs_ledger) = (SELECT count(*) FROM medchain.entries WHERE relation = 'public.obs_ledger' AND kind = 'insert')")
[ "$check" = t ] || mc_die "ledger table and journal disagree"

echo
echo "INSERT of one ${row_bytes}-byte observation row per transaction, ${seconds}s runs, $rounds rounds"
if [ "$worker" = 1 ]; then
	echo "background worker sealing every second: $(psql_bench -At -c "SELECT count(*) || ' blocks, ' || coalesce(sum(entry_count), 0) || ' entries sealed, ' || (SELECT pending_entries FROM medchain.chain_status) || ' pending at the end' FROM medchain.blocks")"
fi
echo "tps: median of the rounds; ratio to plain: median of the per-round ratios (range in brackets)"
printf '%-18s %-8s %8s %8s %8s %8s   %-20s %-20s %-20s\n' synchronous_commit clients plain ledger audit chain \
	"ledger/plain" "audit/plain" "chain/plain"
for sync in on off; do
	for clients in 2 4; do
		line=$(printf '%-18s %-8s' "$sync" "$clients")
		for v in $variants; do
			line="$line $(printf '%8s' "$(echo "${samples[$sync,$clients,$v]}" | median)")"
		done
		line="$line  "
		for v in ledger audit chain; do
			line="$line $(printf '%-20s' "$(printf '%.2f' "$(echo "${ratios[$sync,$clients,$v]}" | median)")x [$(echo "${ratios[$sync,$clients,$v]}" | range)]")"
		done
		echo "$line"
	done
done
echo "targets: ledger >= 0.90x plain with synchronous_commit = on, >= 0.70x with off"
