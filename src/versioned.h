/*-------------------------------------------------------------------------
 *
 * versioned.h
 *	  Versioned ledger tables: amendments that destroy nothing.
 *
 * A versioned table takes UPDATE and DELETE.  The version a change
 * replaces is copied into the table's history table, which is append-only
 * itself, and the change is recorded as an entry of kind update or delete
 * (format version 3) that supersedes the entry of the replaced version and
 * carries the reason set in medchain.reason.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_VERSIONED_H
#define MEDCHAIN_VERSIONED_H

#include "postgres.h"

#include "commands/trigger.h"
#include "utils/rel.h"

#include "enable.h"
#include "journal.h"

extern void versioned_define_settings(void);

/* Refuse a table that cannot be versioned; before anything is created. */
extern void versioned_check_table(Relation rel, const LedgerName *name);

/* Create the history table of relid and fill in mode's history fields; outside SPI. */
extern void versioned_create_history(Oid relid, const LedgerName *name, Datum key_columns,
									 EnableMode *mode);

/* disable(): the history table stays, an ordinary table again; inside SPI. */
extern void versioned_release_history(Oid history_relid);

/* The AFTER UPDATE OR DELETE row trigger's work. */
extern void versioned_record_change(TriggerData *trigdata);

/*
 * The key columns of a history table, by the names of its ledger table's
 * key (it has no key index of its own); NULL if rel is no history table.
 */
extern AttrNumber *versioned_history_key_attnums(Relation rel, int *nkeys);

#endif							/* MEDCHAIN_VERSIONED_H */
