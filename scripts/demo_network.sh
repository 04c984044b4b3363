# scripts/demo_network.sh: the last part of scripts/demo.sh, sourced by it
# (scripts/lib.sh loaded, mc_init done).  Three hospitals, each a
# throwaway cluster with medchain's background processes: each seals its
# own chain and replicates it to the two others, which keep checked
# copies and cosign them.  Then a superuser at one hospital rewrites a
# sealed row and re-forges that hospital's chain, signature and all: on
# that node alone nothing shows, and the other two say it diverged.

net_names=(general st_mary city)
declare -A net_port net_dir
for name in "${net_names[@]}"; do
	net_port[$name]=$(mc_free_port $((${port:-55432} + 10)))
	net_dir[$name]="$MC_SCRATCH/net_$name"
	mc_cluster_start "${net_dir[$name]}" "${net_port[$name]}" \
		"shared_preload_libraries = 'medchain'" "medchain.node_name = '$name'" \
		"medchain.difficulty = 8" "medchain.seal_interval = '200ms'" \
		"medchain.replication_interval = '200ms'" "medchain.consensus_interval = '1s'" \
		"medchain.peer_timeout = '2s'"
done

net_psql() {	# net_psql NAME [psql args]
	local name=$1
	shift
	mc_psql "${net_dir[$name]}" "${net_port[$name]}" postgres "$@"
}

# Wait until a query on a node answers t, at most 30 s.
net_wait() {	# net_wait NAME QUERY
	local i
	for i in $(seq 1 300); do
		[ "$(net_psql "$1" -At -c "$2")" = "t" ] && return 0
		sleep 0.1
	done
	mc_die "$1 did not get there in 30 s: $2"
}

echo
echo "### 9. A network of three hospitals: general, st_mary and city"
for name in "${net_names[@]}"; do
	net_psql "$name" -c "CREATE EXTENSION medchain" \
		-c "CREATE TABLE public.admissions (mrn text PRIMARY KEY, ward text, diagnosis text)" \
		-c "SELECT medchain.enable('public.admissions')" \
		-c "CREATE ROLE peer_login LOGIN IN ROLE medchain_peer" >/dev/null
done
for name in "${net_names[@]}"; do
	for other in "${net_names[@]}"; do
		[ "$name" = "$other" ] && continue
		key=$(net_psql "$other" -At -c "SELECT medchain.node_identity()->>'public_key'")
		net_psql "$name" -At -c "SELECT medchain.add_peer('$other',
			'host=${net_dir[$other]} port=${net_port[$other]} dbname=postgres user=peer_login', '$key')" >/dev/null
	done
done
for name in "${net_names[@]}"; do
	net_psql "$name" -c "INSERT INTO public.admissions
		SELECT 'MRN-' || upper('$name') || '-' || i, 'ward ' || i % 4, 'diagnosis ' || i FROM generate_series(1, 12) i"
done
for name in "${net_names[@]}"; do
	net_wait "$name" "SELECT count(*) = 3 AND bool_and(verdict = 'agreed') FROM medchain.consensus_status"
done
echo "-- on general: its peers hold its chain, and have cosigned its newest block"
net_wait general "SELECT jsonb_array_length(medchain.digest()->'cosignatures') = 2"
net_psql general -c "SELECT peer, reachable, their_height, blocks_behind, last_status FROM medchain.peer_status"
net_psql general -c "SELECT medchain.digest()->'cosignatures' AS cosignatures,
	medchain.verify_digest(medchain.digest(), 2) AS cosigned_by_both_peers"
echo "-- on st_mary: its copies of the others' chains: block headers and entry hashes, never a row"
net_psql st_mary -c "SELECT origin, height, agreeing, disagreeing, unreachable, verdict FROM medchain.consensus_status"
net_psql st_mary -c "SELECT p.name AS origin, count(*) AS blocks, sum(length(b.entry_hashes) / 32) AS entry_hashes
	FROM medchain.peer_blocks b JOIN medchain.peers p ON p.node_id = b.vouched_by GROUP BY p.name ORDER BY 1"

echo
echo "### 10. A superuser at general rewrites a sealed row and re-forges general's chain"
# test/fixtures/forge.sql writes docs/FORMAT.md again in SQL: entry
# hashes, Merkle roots, headers, proof-of-work, and signatures made with
# the node's own key file, which a superuser can read.
net_psql general -f "$MC_ROOT/test/fixtures/forge.sql" >/dev/null
net_psql general -c "
	BEGIN;
	ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
	ALTER TABLE public.admissions DISABLE TRIGGER medchain_append_only;
	UPDATE public.admissions SET diagnosis = 'nothing to report' WHERE mrn = 'MRN-GENERAL-5';
	ALTER TABLE public.admissions ENABLE ALWAYS TRIGGER medchain_append_only;
	ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;
	UPDATE medchain.journal SET row_hash = sha256(medchain.row_encoding('public.admissions', '{\"mrn\": \"MRN-GENERAL-5\"}'))
	 WHERE row_key = '{\"mrn\": \"MRN-GENERAL-5\"}';
	UPDATE medchain.journal e SET entry_hash = forge.entry_hash(e) WHERE row_key = '{\"mrn\": \"MRN-GENERAL-5\"}';
	SELECT count(forge.reseal(h, 8)) AS blocks_forged
	  FROM generate_series((SELECT block_height FROM medchain.journal WHERE row_key = '{\"mrn\": \"MRN-GENERAL-5\"}'),
						   (SELECT max(height) FROM medchain.blocks)) h;
	COMMIT;"
echo "-- on general alone, the forgery holds together: verify() finds nothing in general's own tables"
net_psql general -c "SELECT count(*) AS findings_in_general_alone FROM medchain.verify() WHERE finding <> 'chain_diverged'"
echo "-- the other hospitals hold what general published"
for name in st_mary city; do
	net_wait "$name" "SELECT verdict = 'diverged' FROM medchain.consensus_status WHERE origin = 'general'"
	net_psql "$name" -c "SELECT '$name' AS node, origin, verdict, first_divergent_height, detail
		FROM medchain.consensus_status WHERE origin = 'general'"
done
net_wait general "SELECT verdict = 'diverged' FROM medchain.consensus_status WHERE origin = 'general'"
echo "-- and general's own consensus check and verify() say so too"
net_psql general -c "SELECT origin, agreeing, disagreeing, verdict, first_divergent_height FROM medchain.consensus_status WHERE origin = 'general'"
net_psql general -c "SELECT finding, block_height, detail FROM medchain.verify()"
