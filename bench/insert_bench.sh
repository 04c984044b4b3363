#!/usr/bin/env bash
# INSERT throughput: a ledger table against a plain table and the two things
# a DBA would otherwise write by hand (an audit trigger copying to_jsonb(NEW)
# into a log table; a PL/pgSQL hash chain that locks a chain head per row).
# All four tables have the same definition (an EHR observation row of about
# 250 bytes).  pgbench runs each at 2 and 4 clients, with default durability
# and with synchronous_commit = off, interleaved over several rounds; the
# script prints median tps and the ratio to the plain table.
#
#   bash bench/insert_bench.sh            # BENCH_SECONDS=8 BENCH_ROUNDS=3
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
mc_init

seconds=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-3}
port=$(mc_free_port 57432)
datadir="$MC_SCRATCH/bench"
# Default durability: fsync and synchronous_commit as shipped.
mc_cluster_start "$datadir" "$port" "fsync = on" "shared_buffers = 256MB" \
	"max_wal_size = 4GB" "checkpoint_timeout = 30min"
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

declare -A samples
for round in $(seq 1 "$rounds"); do
	for sync in on off; do
		for clients in 2 4; do
			for v in $variants; do
				psql_bench -c CHECKPOINT
				tps=$(run_pgbench "$v" "$clients" "$sync")
				samples[$sync,$clients,$v]="${samples[$sync,$clients,$v]:-} $tps"
				mc_say "round $round synchronous_commit=$sync clients=$clients $v: $tps tps"
			done
		done
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Every committed row must have been recorded exactly once.
check=$(psql_bench -At -c "SELECT (SELECT count(*) FROM obs_ledger) = (SELECT count(*) FROM medchain.entries WHERE relation = 'public.obs_ledger' AND kind = 'insert')")
[ "$check" = t ] || mc_die "ledger table and journal disagree"

echo
echo "INSERT of one ${row_bytes}-byte observation row per transaction, ${seconds}s runs, median of $rounds rounds"
printf '%-18s %-8s %10s %10s %10s %10s   %s\n' synchronous_commit clients plain ledger audit chain "ratios to plain: ledger audit chain"
for sync in on off; do
	for clients in 2 4; do
		declare -A med=()
		for v in $variants; do med[$v]=$(echo "${samples[$sync,$clients,$v]}" | median); done
		awk -v s="$sync" -v c="$clients" -v p="${med[plain]}" -v l="${med[ledger]}" \
			-v a="${med[audit]}" -v h="${med[chain]}" 'BEGIN {
			printf "%-18s %-8s %10d %10d %10d %10d   %.2fx %.2fx %.2fx\n", s, c, p, l, a, h, l / p, a / p, h / p }'
	done
done
echo "targets: ledger >= 0.90x plain with synchronous_commit = on, >= 0.70x with off"
