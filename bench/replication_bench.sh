#!/usr/bin/env bash
# Replication between three clusters on loopback, measured in one run: A
# seals, B and C are its peers; each preloads medchain, whose worker,
# scrubber and replicator run on all three.
#   - replication lag: BENCH_LAG_BLOCKS blocks (default 200) of
#     BENCH_LAG_ROWS rows each (default 3), sealed on A by seal() one
#     every BENCH_PACE_MS ms (default 75), with medchain.replication_interval
#     = BENCH_INTERVAL_MS (default 100).  A block's lag is the later of its
#     two copies' received_at on B and C minus its sealed_at on A: median,
#     p99, and p99 beyond the interval (target < 100 ms).  The same to the
#     commits that made the copies visible, per peer, and the part of it A
#     spends committing its own seal; next to it, what one round to both
#     peers costs when there is nothing to send (replicate_now(), with the
#     replicator idle).  Measured while the peers hold a few blocks of A's
#     chain, and again at the end, once they hold all of it;
#   - catch-up: with B and C stopped, A seals BENCH_BLOCKS blocks (default
#     10,000) of BENCH_BLOCK_ENTRIES entries (default 10) before anything
#     is timed; B is started and A's replicator brings it up to A's head,
#     in blocks and entries per second (target >= 1,000 blocks/s), with
#     the time B spends in receive_blocks() and the time until A holds B's
#     receipts for all of them;
#   - the same catch-up of C by medchain.replicate_now() called by hand
#     while the replicator is idle, and the calls that then take the rest
#     of C's receipts (a round takes at most 1,000).
#
#   bash bench/replication_bench.sh   # BENCH_BLOCKS=10000 BENCH_BLOCK_ENTRIES=10
#                                     # BENCH_LAG_BLOCKS=200 BENCH_LAG_ROWS=3
#                                     # BENCH_PACE_MS=75 BENCH_INTERVAL_MS=100
#
# PG_CONFIG picks the server to build against and run (scripts/lib.sh),
# MC_PORT the first port to try.  About a minute and a half on a 2-core
# machine, after the build.
#
# The clocks: the three servers share the machine's clock.
#   - sealed_at is GetCurrentTimestamp() in seal.c's seal_block(), taken
#     once the block's entries are hashed and before its proof-of-work, its
#     signature and the commit of the seal: a lag counted from it includes
#     those, which only makes it larger (the part up to A's commit is
#     printed).
#   - received_at is now() on the peer: the start of the transaction of
#     the receive_blocks() call, before the block is checked and written.
#     The copies' commit times (track_commit_timestamp) say when each copy
#     was stored and visible; both lags are printed.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
mc_init

blocks=${BENCH_BLOCKS:-10000}
block_entries=${BENCH_BLOCK_ENTRIES:-10}
lag_blocks=${BENCH_LAG_BLOCKS:-200}
lag_rows=${BENCH_LAG_ROWS:-3}
pace_ms=${BENCH_PACE_MS:-75}
interval_ms=${BENCH_INTERVAL_MS:-100}

# The settings of the three clusters.  The worker runs but does not seal:
# its seal_interval is not reached, and the benchmark calls seal() itself,
# so that each block is sealed when the benchmark says.  Difficulty 4
# keeps the proof-of-work of 10,000 blocks short (it may not be lowered
# once a chain has blocks).  Consensus checks run at their default
# interval; the scrubber at its default rate.
common_conf=(
	"shared_preload_libraries = 'medchain'"
	"track_commit_timestamp = on"
	"medchain.difficulty = 4"
	"medchain.block_max_entries = $lag_rows"
	"medchain.seal_interval = '1h'"
	"medchain.replication_interval = '${interval_ms}ms'"
	"medchain.consensus_interval = '60s'"
	"medchain.peer_timeout = '10s'"
)
conf_a=("${common_conf[@]}" "medchain.node_name = 'node_a'")
conf_b=("${common_conf[@]}" "medchain.node_name = 'node_b'")
conf_c=("${common_conf[@]}" "medchain.node_name = 'node_c'")

declare -A dir port
on() {	# node [psql args]: psql on a node's postgres database
	local n=$1
	shift
	mc_psql "${dir[$n]}" "${port[$n]}" postgres -At "$@"
}
start_again() {	# node: start a node stopped by mc_cluster_stop
	mc_as_user pg_ctl -D "${dir[$1]}" -l "${dir[$1]}/server.log" -w -t 60 start >/dev/null \
		|| { cat "${dir[$1]}/server.log" >&2; mc_die "server in ${dir[$1]} did not start again"; }
}
poll() {	# node query expected seconds what: wait until the query returns expected
	local deadline=$((SECONDS + $4))
	while [ "$(on "$1" -c "$2")" != "$3" ]; do
		[ $SECONDS -lt $deadline ] || mc_die "$5: not within $4 s"
		sleep 0.2
	done
}
elapsed_ms() {	# node statement: milliseconds the statement takes, by the server's clock
	on "$1" -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
		$2;
		RAISE NOTICE 'elapsed_ms=%', round(extract(epoch FROM clock_timestamp() - t0) * 1000, 1);
	END \$\$" 2>&1 | sed -n 's/.*elapsed_ms=//p'
}

last_port=58632
for n in a b c; do
	dir[$n]="$MC_SCRATCH/node_$n"
	port[$n]=$(mc_free_port "$last_port")
	last_port=$((port[$n] + 1))
	conf="conf_$n[@]"
	mc_cluster_start "${dir[$n]}" "${port[$n]}" "${!conf}"
	on "$n" -q -c "CREATE EXTENSION medchain" -c "CREATE ROLE peer_login LOGIN IN ROLE medchain_peer"
done
on a -q -f "$MC_ROOT/bench/obs_table.sql" -c "SELECT make_obs_table('obs')" \
	-c "SELECT medchain.enable('obs')" -c "CREATE FUNCTION add_obs(n integer) RETURNS void LANGUAGE sql AS \$\$
		INSERT INTO obs (person_id, observation_concept_id, observation_date, observation_datetime,
						 observation_type_concept_id, value_as_number, value_as_string, unit_source_value,
						 qualifier_source_value, provider_id, visit_occurrence_id, observation_source_value, note)
		SELECT (i * 7919) % 100000, 3004410, date '2024-01-01' + (i % 700)::int,
			   timestamptz '2024-01-01 08:00+00' + i * interval '1 minute', 32817,
			   (40 + i % 100) / 10.0, 'HbA1c ' || ((40 + i % 100) / 10.0) || ' %', 'percent',
			   'fasting', i % 500, i * 10, 'LAB:HBA1C:4548-4',
			   'Patient fasting since midnight; sample drawn by nurse on ward 7; result reviewed by the attending; repeat in three months.'
		  FROM generate_series(1, n) AS i \$\$" \
	-c "CREATE TABLE copies (peer text, height bigint, received_at timestamptz, stored_at timestamptz)" >/dev/null

# A sends to B and C; each of them accepts A's chain from A's key.
conninfo() { echo "host=${dir[$1]} port=${port[$1]} dbname=postgres user=peer_login"; }
key() { on "$1" -c "SELECT medchain.node_identity()->>'public_key'"; }
for n in b c; do
	on a -q -c "SELECT medchain.add_peer('node_$n', '$(conninfo "$n")', '$(key "$n")')" >/dev/null
	on "$n" -q -c "SELECT medchain.add_peer('node_a', '$(conninfo a)', '$(key a)')" >/dev/null
done

head_of_a() { on a -c "SELECT max(height) FROM medchain.blocks"; }
held_by() {	# the query: up to which height a peer holds A's chain
	echo "SELECT coalesce(max(height), -1) FROM medchain.peer_blocks WHERE chain_id = '\\x$chain'"
}

# The genesis block (with the node key's announcement), held by both
# peers before anything is timed.
on a -c "SELECT add_obs($lag_rows)" -c "SELECT medchain.seal()" >/dev/null
chain=$(on a -c "SELECT medchain.node_identity()->>'chain_id'")
h0=$(head_of_a)
for n in b c; do
	poll "$n" "$(held_by)" "$h0" 60 "node_$n did not receive A's genesis block"
done

# The replicator made idle (a day between rounds and between consensus
# checks), and back to its settings.  The reload wakes it for one more
# round; after that it waits.
replicator_idle() {
	local t
	t=$(on a -c "SELECT clock_timestamp()")
	on a -q -c "ALTER SYSTEM SET medchain.replication_interval = '24h'" \
		-c "ALTER SYSTEM SET medchain.consensus_interval = '24h'" -c "SELECT pg_reload_conf()" >/dev/null
	poll a "SELECT last_attempt > '$t' FROM medchain.peer_status WHERE peer = 'node_c'" t 30 \
		"the replicator made no round after the reload"
	sleep 0.5
}
replicator_resume() {
	on a -q -c "ALTER SYSTEM RESET medchain.replication_interval" \
		-c "ALTER SYSTEM RESET medchain.consensus_interval" -c "SELECT pg_reload_conf()" >/dev/null
}

# One round to both peers with nothing to send, by replicate_now() with
# the replicator idle: the median of five in one session, after one that
# is not timed.  What each round costs before it sends anything.
idle_round_ms() {
	local timed="" i
	replicator_idle
	for i in 1 2 3 4 5; do
		timed="$timed DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
			PERFORM * FROM medchain.replicate_now();
			RAISE NOTICE 'elapsed_ms=%', round(extract(epoch FROM clock_timestamp() - t0) * 1000, 1);
		END \$\$;"
	done
	on a -c "SELECT count(*) FROM medchain.replicate_now()" -c "$timed" 2>&1 \
		| sed -n 's/.*elapsed_ms=//p' | sort -g | sed -n 3p
	replicator_resume
}

# Lag: $lag_blocks paced seals on A in one psql session, then each copy's
# receipt and commit time gathered on A.  Prints
# blocks|recv p50|recv p99|recv max|stored p50|stored p99|stored max|
# A's commit p50|A's commit p99|pace|per peer.
lag_run() {
	local from to i n pace_s
	from=$(head_of_a)
	pace_s=$(awk -v ms="$pace_ms" 'BEGIN { printf "%.3f", ms / 1000 }')
	for ((i = 0; i < lag_blocks; i++)); do
		echo "SELECT add_obs($lag_rows); SELECT medchain.seal(); SELECT pg_sleep($pace_s);"
	done | on a >/dev/null
	to=$(head_of_a)
	[ "$to" -eq $((from + lag_blocks)) ] || mc_die "A sealed $((to - from)) blocks, not $lag_blocks"
	for n in b c; do
		poll "$n" "$(held_by)" "$to" 60 "node_$n did not receive all of A's blocks"
	done
	on a -q -c "TRUNCATE copies"
	for n in b c; do
		on "$n" -c "COPY (SELECT 'node_$n', height, received_at, pg_xact_commit_timestamp(xmin)
						   FROM medchain.peer_blocks WHERE chain_id = '\\x$chain' AND height > $from) TO STDOUT" \
			| on a -q -c "COPY copies FROM STDIN"
	done
	on a -c "
		WITH a AS (
			SELECT height, sealed_at, pg_xact_commit_timestamp(xmin) AS committed_at
			  FROM medchain.blocks WHERE height > $from),
		lag AS (
			SELECT a.height,
				   extract(epoch FROM max(c.received_at) - a.sealed_at) * 1000 AS recv_ms,
				   extract(epoch FROM max(c.stored_at) - a.sealed_at) * 1000 AS stored_ms,
				   extract(epoch FROM a.committed_at - a.sealed_at) * 1000 AS commit_ms
			  FROM a JOIN copies c USING (height)
			 GROUP BY a.height, a.sealed_at, a.committed_at
			HAVING count(*) = 2),
		-- each peer alone: a round serves B, then C
		per_peer AS (
			SELECT c.peer,
				   round(percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.stored_at - a.sealed_at) * 1000), 1) AS p50,
				   round(percentile_disc(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM c.stored_at - a.sealed_at) * 1000), 1) AS p99
			  FROM copies c JOIN a USING (height) GROUP BY c.peer)
		SELECT count(*),
			   round(percentile_disc(0.5) WITHIN GROUP (ORDER BY recv_ms), 1),
			   round(percentile_disc(0.99) WITHIN GROUP (ORDER BY recv_ms), 1),
			   round(max(recv_ms), 1),
			   round(percentile_disc(0.5) WITHIN GROUP (ORDER BY stored_ms), 1),
			   round(percentile_disc(0.99) WITHIN GROUP (ORDER BY stored_ms), 1),
			   round(max(stored_ms), 1),
			   round(percentile_disc(0.5) WITHIN GROUP (ORDER BY commit_ms), 1),
			   round(percentile_disc(0.99) WITHIN GROUP (ORDER BY commit_ms), 1),
			   (SELECT round(extract(epoch FROM max(sealed_at) - min(sealed_at)) * 1000 / (count(*) - 1), 1) FROM a),
			   (SELECT string_agg(format('%s %s / %s ms', peer, p50, p99), ', ' ORDER BY peer) FROM per_peer)
		  FROM lag"
}

mc_say "an idle round, peers holding $((h0 + 1)) blocks of A's chain"
idle_small_ms=$(idle_round_ms)
mc_say "lag: $lag_blocks blocks sealed on A, one every $pace_ms ms, replication_interval ${interval_ms}ms"
IFS='|' read -r lag_n r50 r99 rmax s50 s99 smax c50 c99 paced per_peer <<<"$(lag_run)"
[ "$lag_n" -eq "$lag_blocks" ] || mc_die "only $lag_n of $lag_blocks blocks have copies on both peers"
lag_small="$r50|$r99|$rmax|$s50|$s99|$smax|$c50|$c99|$paced|$per_peer"
h1=$(head_of_a)

# ---------------------------------------------------------------------------
# Catch-up: A seals while B and C are down
# ---------------------------------------------------------------------------
mc_say "catch-up: B and C stopped, A seals $blocks blocks of $block_entries entries"
mc_cluster_stop "${dir[b]}"
mc_cluster_stop "${dir[c]}"
on a -c "SELECT add_obs($((blocks * block_entries)))" >/dev/null
seal_ms=$(elapsed_ms a "SET LOCAL medchain.block_max_entries = $block_entries; PERFORM medchain.seal()")
h2=$(head_of_a)
[ "$h2" -eq $((h1 + blocks)) ] || mc_die "A sealed $((h2 - h1)) blocks, not $blocks"
on a -q -c "VACUUM ANALYZE"

mc_say "catch-up: B started, A's replicator sends it blocks $((h1 + 1)) to $h2"
start_again b
poll b "$(held_by)" "$h2" 600 "B did not catch up"
[ "$(on b -c "SELECT count(*) FROM medchain.peer_blocks WHERE chain_id = '\\x$chain'")" -eq $((h2 + 1)) ] \
	|| mc_die "B holds A's head but not every block below it"
# The deliveries: one receive_blocks() transaction per batch.  Their
# received_at is the transaction's start, their commit its end; between one
# batch's commit and the next one's start, A reads and sends the next batch.
IFS='|' read -r b_ms b_from_start_ms b_batches b_receiving_ms <<<"$(on b -c "
	WITH d AS (
		SELECT xmin::text AS xid, min(received_at) AS started, pg_xact_commit_timestamp(min(xmin::text)::xid) AS committed
		  FROM medchain.peer_blocks WHERE chain_id = '\\x$chain' AND height > $h1 GROUP BY xmin::text)
	SELECT round(extract(epoch FROM max(committed) - min(started)) * 1000, 1),
		   round(extract(epoch FROM max(committed) - pg_postmaster_start_time()) * 1000, 1),
		   count(*),
		   round(extract(epoch FROM sum(committed - started)) * 1000, 1)
	  FROM d")"
b_first=$(on b -c "SELECT min(received_at) FROM medchain.peer_blocks WHERE chain_id = '\\x$chain' AND height > $h1")

mc_say "catch-up: A takes B's receipts"
node_b=$(on a -c "SELECT encode(node_id, 'hex') FROM medchain.peers WHERE name = 'node_b'")
poll a "SELECT count(*) FROM medchain.cosignatures WHERE cosigner_id = '\\x$node_b' AND height > $h1" "$blocks" 600 \
	"A did not get B's receipts"
receipts_ms=$(on a -c "SELECT round(extract(epoch FROM max(pg_xact_commit_timestamp(xmin)) - '$b_first') * 1000, 1)
	FROM medchain.cosignatures WHERE cosigner_id = '\\x$node_b' AND height > $h1")

# ---------------------------------------------------------------------------
# The same catch-up by replicate_now(), with the replicator idle
# ---------------------------------------------------------------------------
mc_say "catch-up: C started, caught up by replicate_now() with the replicator idle"
replicator_idle
start_again c
t0=$(on a -c "SELECT clock_timestamp()")
calls=0 sent=0 held=$h1
while [ "$held" != "$h2" ]; do
	[ $calls -lt 100 ] || mc_die "C not caught up after 100 replicate_now() calls (held up to $held)"
	IFS='|' read -r n held status <<<"$(on a -c "SELECT blocks_sent, their_height, status FROM medchain.replicate_now() WHERE peer = 'node_c'")"
	case $status in sent|current) ;; *) mc_die "replicate_now() to C: $status" ;; esac
	calls=$((calls + 1)) sent=$((sent + n))
done
rn_ms=$(on a -c "SELECT round(extract(epoch FROM clock_timestamp() - '$t0') * 1000, 1)")
[ "$sent" -eq "$blocks" ] || mc_die "replicate_now() sent C $sent blocks, not $blocks"
IFS='|' read -r c_ms c_batches c_receiving_ms <<<"$(on c -c "
	WITH d AS (
		SELECT xmin::text AS xid, min(received_at) AS started, pg_xact_commit_timestamp(min(xmin::text)::xid) AS committed
		  FROM medchain.peer_blocks WHERE chain_id = '\\x$chain' AND height > $h1 GROUP BY xmin::text)
	SELECT round(extract(epoch FROM max(committed) - min(started)) * 1000, 1), count(*),
		   round(extract(epoch FROM sum(committed - started)) * 1000, 1)
	  FROM d")"
# A round takes at most 1,000 receipts: the rest of C's, by more calls.
node_c=$(on a -c "SELECT encode(node_id, 'hex') FROM medchain.peers WHERE name = 'node_c'")
t0=$(on a -c "SELECT clock_timestamp()")
receipt_calls=0
while [ "$(on a -c "SELECT count(*) FROM medchain.cosignatures WHERE cosigner_id = '\\x$node_c' AND height > $h1")" != "$blocks" ]; do
	[ $receipt_calls -lt 100 ] || mc_die "A did not get C's receipts in 100 replicate_now() calls"
	on a -c "SELECT * FROM medchain.replicate_now()" >/dev/null
	receipt_calls=$((receipt_calls + 1))
done
c_receipts_ms=$(on a -c "SELECT round(extract(epoch FROM clock_timestamp() - '$t0') * 1000, 1)")
replicator_resume

# ---------------------------------------------------------------------------
# The same lag once the peers hold the chain
# ---------------------------------------------------------------------------
mc_say "an idle round, peers holding $((h2 + 1)) blocks of A's chain"
idle_large_ms=$(idle_round_ms)
mc_say "lag again: $lag_blocks blocks, the peers holding $((h2 + 1)) blocks of A's chain"
IFS='|' read -r lag_n r50 r99 rmax s50 s99 smax c50 c99 paced per_peer <<<"$(lag_run)"
[ "$lag_n" -eq "$lag_blocks" ] || mc_die "only $lag_n of $lag_blocks blocks have copies on both peers"
lag_large="$r50|$r99|$rmax|$s50|$s99|$smax|$c50|$c99|$paced|$per_peer"

awk -v interval="$interval_ms" -v pace="$pace_ms" -v lag_blocks="$lag_blocks" -v lag_rows="$lag_rows" \
	-v lag_small="$lag_small" -v lag_large="$lag_large" -v small="$((h0 + 1))" -v large="$((h2 + 1))" \
	-v idle_small="$idle_small_ms" -v idle_large="$idle_large_ms" \
	-v blocks="$blocks" -v entries="$block_entries" -v seal_ms="$seal_ms" \
	-v b_ms="$b_ms" -v b_start="$b_from_start_ms" -v b_batches="$b_batches" -v b_recv="$b_receiving_ms" \
	-v receipts_ms="$receipts_ms" -v rn_ms="$rn_ms" -v calls="$calls" \
	-v c_ms="$c_ms" -v c_batches="$c_batches" -v c_recv="$c_receiving_ms" \
	-v c_receipts_ms="$c_receipts_ms" -v receipt_calls="$receipt_calls" '
function lag(line, held, idle,   f) {
	split(line, f, "|");
	printf "lag, peers holding %d blocks of A'"'"'s chain: %d blocks of %d entries sealed one every %.1f ms (%d ms asked)\n", held, lag_blocks, lag_rows, f[9], pace;
	printf "  A'"'"'s sealed_at to the later received_at on B and C   median %7.1f ms   p99 %7.1f ms   max %7.1f ms\n", f[1], f[2], f[3];
	printf "  A'"'"'s sealed_at to the later commit on B and C        median %7.1f ms   p99 %7.1f ms   max %7.1f ms\n", f[4], f[5], f[6];
	printf "  p99 beyond the replication interval: %.1f ms to received_at, %.1f ms to the commit (target < 100 ms)\n", f[2] - interval, f[5] - interval;
	printf "  to the commit on each peer (median / p99): %s; A'"'"'s seal, sealed_at to commit: %.1f / %.1f ms\n", f[10], f[7], f[8];
	printf "  a round to both peers with nothing to send (replicate_now(), median of 5): %.1f ms\n", idle;
}
BEGIN {
	printf "\n";
	printf "settings: three clusters on loopback; medchain.replication_interval = %d ms, difficulty = 4,\n", interval;
	printf "  block_max_entries = %d, consensus_interval = 60 s, peer_timeout = 10 s, the scrubber at its default rate;\n", lag_rows;
	printf "  A seals by seal(), its worker idle (seal_interval = 1h)\n";
	lag(lag_small, small, idle_small);
	printf "catch-up: %d blocks of %d entries sealed on A while B and C were down (seal() %.0f ms, %.0f blocks/s)\n", blocks, entries, seal_ms, blocks / seal_ms * 1000;
	printf "  B by the replicator: first delivery to last commit %7.0f ms   %6.0f blocks/s   %7.0f entries/s (target >= 1000 blocks/s)\n", b_ms, blocks / b_ms * 1000, blocks * entries / b_ms * 1000;
	printf "    %d deliveries; B inside receive_blocks() %.0f ms (%.0f%%), the rest A reading and sending\n", b_batches, b_recv, b_recv / b_ms * 100;
	printf "    from B'"'"'s postmaster start %.0f ms (%.0f blocks/s); A held B'"'"'s receipts for all of them %.0f ms after the first delivery\n", b_start, blocks / b_start * 1000, receipts_ms;
	printf "  C by replicate_now(), replicator idle: %d call(s) %7.0f ms   %6.0f blocks/s   %7.0f entries/s\n", calls, rn_ms, blocks / rn_ms * 1000, blocks * entries / rn_ms * 1000;
	printf "    first delivery to last commit %.0f ms in %d deliveries; C inside receive_blocks() %.0f ms (%.0f%%)\n", c_ms, c_batches, c_recv, c_recv / c_ms * 100;
	printf "    C'"'"'s remaining receipts (1000 a round): %d more call(s), %.0f ms\n", receipt_calls, c_receipts_ms;
	lag(lag_large, large, idle_large);
}'
