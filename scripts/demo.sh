#!/usr/bin/env bash
# Demo: build medchain, start a throwaway cluster, load the sample EHR
# schema, and show the ledger at work.  Every server it starts is stopped
# at exit, also on failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mc_init

port=$(mc_free_port 55432)
datadir="$MC_SCRATCH/demo"
mc_say "starting a throwaway cluster on port $port"
mc_cluster_start "$datadir" "$port"

mc_psql "$datadir" "$port" postgres -c "CREATE DATABASE ehr"
mc_say "loading the sample EHR schema (OMOP CDM 5.4 tables, 50 generated patients)"
mc_psql "$datadir" "$port" ehr -v patients=50 -f "$MC_ROOT/scripts/sample_ehr.sql"
mc_psql "$datadir" "$port" ehr -f "$MC_ROOT/scripts/demo.sql"

mc_say "demo finished; stopping the cluster"
