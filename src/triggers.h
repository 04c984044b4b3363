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

extern bool is_medchain_trigger_name(const char *name);

extern int64 record_row_entry(JournalWriter *writer, const LedgerRelation *ledger,
							  const char *kind, int64 enablement_id,
							  Datum *values, bool *isnull);
extern void record_slot_entry(JournalWriter *writer, const LedgerRelation *ledger,
							  const char *kind, int64 enablement_id,
							  TupleTableSlot *slot, MemoryContext rowcxt);

#endif							/* MEDCHAIN_TRIGGERS_H */
