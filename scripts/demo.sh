#!/usr/bin/env bash
# Demo: build medchain, start a throwaway cluster, load the sample EHR
# schema, and show the ledger at work; then a network of three throwaway
# clusters, where a row tampered on one is caught by the others.  Every
# server it starts is stopped at exit, also on failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mc_init

port=$(mc_free_port 55432)
datadir="$MC_SCRATCH/demo"
mc_say "starting a throwaway cluster on port $port"
# The background worker runs too; it waits ten minutes before sealing, so
# that the demo seals by hand first, and is sped up at the end.
mc_cluster_start "$datadir" "$port" "shared_preload_libraries = 'medchain'" \
	"medchain.seal_interval = '10min'"

mc_psql "$datadir" "$port" postgres -c "CREATE DATABASE ehr"
mc_say "loading the sample EHR schema (OMOP CDM 5.4 tables, 50 generated patients)"
mc_psql "$datadir" "$port" ehr -v patients=50 -f "$MC_ROOT/scripts/sample_ehr.sql"
mc_psql "$datadir" "$port" ehr -f "$MC_ROOT/scripts/demo.sql"

echo
echo "### Outside the database: the proof and the chain export, checked by verifier/medchain_verify.py"
mc_psql "$datadir" "$port" ehr -At \
	-c "SELECT medchain.proof('cdm.measurement', '{\"measurement_id\": 900001}')" > "$MC_SCRATCH/proof.json"
mc_psql "$datadir" "$port" ehr -At -c "SELECT x FROM medchain.export_chain() x" > "$MC_SCRATCH/chain.jsonl"
mc_psql "$datadir" "$port" ehr -At -c "SELECT medchain.digest()" > "$MC_SCRATCH/digest.json"
# Anchored in the digest kept outside the database: the proof's block is on the real chain.
python3 "$MC_ROOT/verifier/medchain_verify.py" proof "$MC_SCRATCH/proof.json" --digest "$MC_SCRATCH/digest.json"
python3 "$MC_ROOT/verifier/medchain_verify.py" chain "$MC_SCRATCH/chain.jsonl" --digest "$MC_SCRATCH/digest.json"

mc_psql "$datadir" "$port" ehr -f "$MC_ROOT/scripts/demo_tamper.sql"
mc_cluster_stop "$datadir"

source "$MC_ROOT/scripts/demo_network.sh"

mc_say "demo finished; stopping the clusters"
