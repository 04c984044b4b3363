# medchain: PGXS build
#
#   make PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config with_llvm=no
#   make install
#   make installcheck      (starts its own throwaway server, see REGRESS_OPTS)

EXTENSION = medchain
EXTVERSION = $(shell grep default_version $(EXTENSION).control | sed -e "s/default_version[[:space:]]*=[[:space:]]*'\([^']*\)'/\1/")
MODULE_big = medchain
# The 1.0 script as released, then one update script per version: a new
# installation runs them in order, so the upgrade path is always the one
# tested.
DATA = $(wildcard $(EXTENSION)--*.sql)

OBJS = \
	src/medchain.o \
	src/security_scope.o \
	src/sha256.o \
	src/row_encoding.o \
	src/ledger_cache.o \
	src/journal.o \
	src/entry_batches.o \
	src/triggers.o \
	src/registry.o \
	src/enablement.o \
	src/canonical_json.o \
	src/row_key.o \
	src/enable.o \
	src/enable_concurrently.o \
	src/ddl_guard.o \
	src/partitions.o \
	src/rows.o \
	src/direct_write.o \
	src/privileges.o \
	src/chain_config.o \
	src/node_key.o \
	src/chain_keys.o \
	src/merkle.o \
	src/block.o \
	src/chain_rules.o \
	src/pow.o \
	src/seal.o \
	src/verify.o \
	src/row_stream.o \
	src/evidence_json.o \
	src/digest.o \
	src/proof.o \
	src/pace.o \
	src/worker_slots.o \
	src/worker_hooks.o \
	src/launcher.o \
	src/worker_cycle.o \
	src/worker.o \
	src/scrub.o \
	src/replication_payload.o \
	src/peers.o \
	src/peer_blocks.o \
	src/peer_link.o \
	src/receipts.o \
	src/replicate.o \
	src/consensus.o \
	src/recover.o \
	src/replicator.o \
	src/provenance.o \
	src/versioned.o \
	src/history.o \
	src/document_hash.o \
	src/notarize.o \
	src/provenance_plan.o

REGRESS = setup enable append_only row_hash ddl_guard roles blocks verify proofs node_keys security bulk provenance provenance_plan partitions amendments drug_traceability compliance_report notarize
REGRESS_OPTS = --temp-instance=./tmp_check --temp-config=test/regress.conf \
	--load-extension=medchain

# Interleavings of inserts, seal(), enable() and disable() (test/isolation).
ISOLATION = enable_cached_ids insert_seal enable_disable_insert concurrent_amendments
ISOLATION_OPTS = --inputdir=test/isolation --temp-instance=./tmp_check_iso \
	--temp-config=test/regress.conf --load-extension=medchain

# Multi-cluster tests (PostgreSQL::Test::Cluster); `make installcheck` runs
# them after pg_regress, `make tap-installcheck` runs them alone.
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CPPFLAGS = -I$(srcdir)/src -DMEDCHAIN_VERSION='"$(EXTVERSION)"'
SHLIB_LINK += -lcrypto
# libpq: the worker talks to peers, and conninfos are checked with its parser.
PG_CPPFLAGS += -I$(libpq_srcdir)
SHLIB_LINK_INTERNAL += $(libpq)
# The library is loaded into every backend that uses it: it exports only
# the module's entry points and names that start with medchain_.
SHLIB_LINK += -Wl,--version-script=$(srcdir)/src/exports.map

# make SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer
# (SANITIZE=undefined with the latter alone); with AddressSanitizer the
# server needs the ASan runtime preloaded (scripts/test.sh --sanitize).
ifdef SANITIZE
SANITIZERS = $(if $(filter 1,$(SANITIZE)),address$(comma)undefined,$(SANITIZE))
comma := ,
PG_CFLAGS += -fsanitize=$(SANITIZERS) -fno-sanitize-recover=all -fno-omit-frame-pointer
SHLIB_LINK += -fsanitize=$(SANITIZERS)
endif

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: tap-installcheck
tap-installcheck:
	$(prove_installcheck)

# Every object depends on the module headers, the library on its exports.
$(OBJS): $(wildcard $(srcdir)/src/*.h)
$(shlib): $(srcdir)/src/exports.map
