#!/usr/bin/env bash
# Proof-of-work speed: nonces tried per second by seal(), against this
# machine's SHA-256 limit for one core measured in the same run.
#
# The limit follows the usual midstate accounting, two SHA-256 compressions
# per nonce: (bulk `openssl speed -evp sha256` bytes/s at 16 KiB) / 64 / 2.
# medchain's header puts the nonce alone in the last 64-byte block, so each
# attempt costs one compression; the script prints both ratios.
#
#   bash bench/pow.sh            # BENCH_DIFFICULTY=24 BENCH_SEALS=8
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
mc_init

difficulty=${BENCH_DIFFICULTY:-24}
seals=${BENCH_SEALS:-8}
port=$(mc_free_port 59432)
datadir="$MC_SCRATCH/pow"
mc_cluster_start "$datadir" "$port"
sql() { mc_psql "$datadir" "$port" postgres -At "$@"; }

mc_say "openssl speed -evp sha256 (16 KiB blocks, 3 s)"
bulk_kbytes=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null \
	| awk '/^sha256/ { sub(/k$/, "", $2); print $2 }')

mc_say "sealing $seals one-entry blocks at difficulty $difficulty"
result=$(sql -c "CREATE EXTENSION medchain" \
	-c "CREATE TABLE pow_rows (id int PRIMARY KEY)" \
	-c "SELECT medchain.enable('pow_rows')" \
	-c "SET medchain.difficulty = 0" -c "SELECT medchain.seal()" \
	-c "SET medchain.difficulty = $difficulty" \
	-c "CREATE TEMP TABLE runs (attempts numeric, seconds numeric)" \
	-c "DO \$\$
		DECLARE t0 timestamptz; h bigint;
		BEGIN
			FOR i IN 1 .. $seals LOOP
				INSERT INTO pow_rows VALUES (i);
				t0 := clock_timestamp();
				h := medchain.seal();
				INSERT INTO runs SELECT b.nonce + 1, extract(epoch FROM clock_timestamp() - t0)
				  FROM medchain.blocks b WHERE b.height = h;
			END LOOP;
		END \$\$" \
	-c "SELECT sum(attempts) || ' ' || sum(seconds) FROM runs" | tail -1)

awk -v kb="$bulk_kbytes" -v r="$result" 'BEGIN {
	split(r, a, " ");
	attempts = a[1]; seconds = a[2];
	rate = attempts / seconds;
	bulk = kb * 1000;
	limit2 = bulk / 64 / 2;
	limit1 = bulk / 64;
	printf "\nSHA-256 bulk speed (openssl speed -evp sha256, 16 KiB): %.0f MB/s\n", bulk / 1e6;
	printf "nonces tried: %d in %.2f s = %.2f M nonces/s\n", attempts, seconds, rate / 1e6;
	printf "limit at two compressions per nonce: %.2f M/s -> ratio %.2fx (target >= 0.90x)\n", limit2 / 1e6, rate / limit2;
	printf "raw compression rate (one per nonce): %.2f M/s -> %.2f of it\n", limit1 / 1e6, rate / limit1;
}'
