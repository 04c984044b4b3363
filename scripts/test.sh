#!/usr/bin/env bash
# Run every test suite: pg_regress (sql/ + expected/), the isolation specs
# (test/isolation/), pgTAP (test/pgtap/) and the multi-cluster Perl TAP
# tests (test/t/).  Each suite runs against throwaway servers that are
# stopped at exit, also on failure.  The last line is "N passed, N failed",
# counting the tests of all suites; the exit status is non-zero if any test
# failed.
#
#   bash scripts/test.sh              # as built for production
#   bash scripts/test.sh --sanitize   # the same, with ASan and UBSan
set -uo pipefail
case "${1:-}" in
	--sanitize) export MC_SANITIZE=1 ;;
	"") ;;
	*) echo "usage: $0 [--sanitize]" >&2; exit 2 ;;
esac
source "$(dirname "$0")/lib.sh"
set -e
mc_init
set +e

# The suites write results next to the sources: run them in a copy the
# ordinary user owns.
tree="$MC_SCRATCH/tree"
mkdir "$tree"
(cd "$MC_ROOT" && tar --exclude=.git --exclude=tmp_check --exclude=tmp_check_iso \
	--exclude=results --exclude=output_iso -cf - .) | tar -C "$tree" -xf -
[ "$(id -u)" -eq 0 ] && chown -R "$MC_USER" "$tree"
make_args=(-s -C "$tree" PG_CONFIG="$PG_CONFIG" with_llvm=no)

passed=0
failed=0
count() {	# count LOG PASS_REGEX FAIL_REGEX EXIT_STATUS
	local p f
	p=$(grep -cE "$2" "$1")
	f=$(grep -cE "$3" "$1")
	# A suite that failed without naming a failed test (a crash, a script
	# that died before its plan) still counts as one failure.
	if [ "$4" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p))
	failed=$((failed + f))
	mc_say "$5: $p passed, $f failed"
}

mc_say "pg_regress suites and isolation specs"
mc_as_user make "${make_args[@]}" installcheck TAP_TESTS= 2>&1 | tee "$MC_SCRATCH/regress.log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
	for diffs in "$tree/regression.diffs" "$tree/output_iso/regression.diffs"; do
		[ -f "$diffs" ] && cat "$diffs"
	done
fi
count "$MC_SCRATCH/regress.log" '\.\.\. ok ' '\.\.\. FAILED' "$status" pg_regress

mc_say "pgTAP suites"
port=$(mc_free_port 56432)
datadir="$MC_SCRATCH/pgtap"
mc_cluster_start "$datadir" "$port" "max_prepared_transactions = 2"
mc_psql "$datadir" "$port" postgres -c "CREATE DATABASE ehr"
mc_psql "$datadir" "$port" ehr -v patients=100 -f "$MC_ROOT/scripts/sample_ehr.sql"
mc_psql "$datadir" "$port" ehr -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION medchain"
(cd "$tree" && mc_as_user pg_prove --verbose -h "$datadir" -p "$port" -U postgres -d ehr \
	test/pgtap/*.sql) 2>&1 | tee "$MC_SCRATCH/pgtap.log"
status=${PIPESTATUS[0]}
mc_cluster_stop "$datadir"
count "$MC_SCRATCH/pgtap.log" '^ *ok [0-9]' '^ *not ok [0-9]' "$status" pgTAP

mc_say "multi-cluster TAP suites"
mc_as_user make "${make_args[@]}" tap-installcheck PROVE_FLAGS=--verbose 2>&1 | tee "$MC_SCRATCH/tap.log"
status=${PIPESTATUS[0]}
count "$MC_SCRATCH/tap.log" '^ *ok [0-9]' '^ *not ok [0-9]' "$status" TAP

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
