/*-------------------------------------------------------------------------
 *
 * triggers.h
 *	  The row trigger that records inserts and the trigger that refuses
 *	  changes; recording a row is shared with enable()'s baseline.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_TRIGGERS_H
#define MEDCHAIN_TRIGGERS_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "journal.h"
#include "ledger_cache.h"

/* Names of the triggers enable() installs, ENABLE ALWAYS. */
#define MC_TRIGGER_RECORD "medchain_record"
#define MC_TRIGGER_APPEND_ONLY "medchain_append_only"
#define MC_TRIGGER_NO_TRUNCATE "medchain_no_truncate"
/* a versioned table's, instead of MC_TRIGGER_APPEND_ONLY (since 1.5) */
#define MC_TRIGGER_RECORD_VERSION "medchain_record_version"

extern bool is_medchain_trigger_name(const char *name);

extern int64 record_row_entry(JournalWriter *writer, LedgerRelation *ledger,
							  const char *kind, int64 enablement_id,
							  Datum *values, bool *isnull);

/* The same for an update or delete: what it supersedes, and its reason. */
extern int64 record_row_change(JournalWriter *writer, LedgerRelation *ledger,
							   const char *kind, int64 enablement_id,
							   Datum *values, bool *isnull,
							   int64 supersedes, const char *reason);
extern void record_slot_entry(JournalWriter *writer, LedgerRelation *ledger,
							  const char *kind, int64 enablement_id,
							  TupleTableSlot *slot, MemoryContext rowcxt);

#endif							/* MEDCHAIN_TRIGGERS_H */
