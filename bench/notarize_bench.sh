#!/usr/bin/env bash
# Notarizing a 1 GB document (10^9 bytes) without holding it in memory,
# measured in one run on one cluster against PostgreSQL's sha256() of the
# same bytes, which needs them all in memory at once:
#
#   - a large object: medchain.notarize_large_object(loid), read a slice
#     of about 1 MB at a time, against sha256(lo_get(loid));
#   - a column with STORAGE EXTERNAL (stored out of line, uncompressed):
#     medchain.notarize(body), read a slice at a time from TOAST, against
#     sha256(body), which detoasts the value whole;
#   - medchain.attest(body) of the same value, which hashes it the same way
#     and looks the hash up.
#
# Each is run in a fresh session, and reports its time and the backend's
# peak resident memory (VmHWM of /proc/self/status, read by the backend
# itself).  That peak includes the shared buffers the backend touched, so
# the cluster runs with shared_buffers = 16MB; the rest is the backend's
# own memory.  Goal: notarizing costs about what sha256() costs in time,
# and its memory does not grow with the document.
#
#   bash bench/notarize_bench.sh     # BENCH_DOCUMENT_BYTES=1000000000
#
# PG_CONFIG picks the server to build against and run (scripts/lib.sh),
# MC_PORT the first port to try.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
mc_init

bytes=${BENCH_DOCUMENT_BYTES:-1000000000}
chunk=1000000
[ $((bytes % chunk)) -eq 0 ] || mc_die "BENCH_DOCUMENT_BYTES must be a multiple of $chunk"
port=$(mc_free_port 58632)
datadir="$MC_SCRATCH/notarize"
mc_cluster_start "$datadir" "$port" "shared_buffers = 16MB" "max_wal_size = 8GB" \
	"checkpoint_timeout = 30min"
sql() { mc_psql "$datadir" "$port" docs -At "$@"; }

mc_psql "$datadir" "$port" postgres -c "CREATE DATABASE docs"
sql -c "CREATE EXTENSION medchain" -c "SET medchain.difficulty = 0" -c "SELECT medchain.seal()" >/dev/null

# The document: 1 MB of random bytes, each copy numbered, as a large
# object written 1 MB at a time, then copied into the table (that copy is
# built in memory once, by INSERT).
mc_say "writing a document of $bytes bytes as a large object and as a STORAGE EXTERNAL value"
loid=$(sql -c "SELECT lo_create(0)")
sql -c "DO \$\$
DECLARE
	block bytea := (SELECT decode(string_agg(md5(random()::text), ''), 'hex')
					  FROM generate_series(1, $chunk / 16));
BEGIN
	FOR i IN 0 .. $bytes / $chunk - 1 LOOP
		PERFORM lo_put($loid, i::bigint * $chunk, overlay(block PLACING int8send(i) FROM 1));
	END LOOP;
END \$\$"
sql -c "CREATE TABLE document (body bytea)" \
	-c "ALTER TABLE document ALTER COLUMN body SET STORAGE EXTERNAL" \
	-c "INSERT INTO document SELECT lo_get($loid)" \
	-c "VACUUM ANALYZE document"
stored=$(sql -c "SELECT octet_length(body) || ' bytes, compression ' || coalesce(pg_column_compression(body), 'none')
	FROM document")
mc_say "the table value: $stored"

# One statement in a fresh session: "seconds peak_MB result".
measure() {
	sql <<-EOF
	SELECT clock_timestamp() AS t0 \gset
	$1 \gset r_
	SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 2) || ' '
		|| (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+) kB'))[1]::bigint / 1024
		|| ' ' || :'r_result';
	EOF
}

# A notarization's digest, once its statement is done.
notarized() {
	set -- $1
	echo "$1 $2 $(sql -c "SELECT encode(row_hash, 'hex') FROM medchain.journal WHERE entry_id = $3")"
}

mc_say "hashing"
idle=$(measure "SELECT 1 AS result")
lo_plain=$(measure "SELECT encode(sha256(lo_get($loid)), 'hex') AS result")
lo_notarize=$(notarized "$(measure "SELECT medchain.notarize_large_object($loid, 'bench: large object') AS result")")
col_plain=$(measure "SELECT encode(sha256(body), 'hex') AS result FROM document")
col_notarize=$(notarized "$(measure "SELECT medchain.notarize(body, 'bench: table value') AS result FROM document")")
col_attest=$(measure "SELECT (a.entry_id IS NOT NULL)::text AS result FROM document d, medchain.attest(d.body) a")

digests=$(printf '%s\n' "$lo_plain" "$lo_notarize" "$col_plain" "$col_notarize" | awk '{print $3}' | sort -u | wc -l)
[ "$digests" = 1 ] || mc_die "the digests differ: $lo_plain / $lo_notarize / $col_plain / $col_notarize"
[ "$(echo "$col_attest" | awk '{print $3}')" = true ] || mc_die "attest() did not find the document"

row() { printf '%-44s %9s %14s\n' "$1" "$(echo "$2" | awk '{print $1}')" "$(echo "$2" | awk '{print $2}')"; }
echo
echo "document: $bytes bytes, SHA-256 $(echo "$lo_plain" | awk '{print $3}')"
printf '%-44s %9s %14s\n' "statement (fresh session each)" "seconds" "peak RSS (MB)"
row "SELECT 1 (an idle backend)" "$idle"
row "sha256(lo_get(loid))" "$lo_plain"
row "medchain.notarize_large_object(loid)" "$lo_notarize"
row "sha256(body), STORAGE EXTERNAL" "$col_plain"
row "medchain.notarize(body), STORAGE EXTERNAL" "$col_notarize"
row "medchain.attest(body), STORAGE EXTERNAL" "$col_attest"
