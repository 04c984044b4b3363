/*-------------------------------------------------------------------------
 *
 * enable.h
 *	  What enable() and the concurrent enable share: the checks a table
 *	  must pass, its triggers, its events and the registry statements.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_ENABLE_H
#define MEDCHAIN_ENABLE_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/rel.h"

#include "journal.h"
#include "registry.h"

/* medchain.enable()'s mode: append-only, or versioned with a history table. */
typedef struct EnableMode
{
	bool		versioned;
	Oid			history_relid;	/* versioned: the history table */
	char	   *history_table;	/* its name, quoted and qualified */
} EnableMode;

extern const EnableMode enable_mode_append_only;

/* The caller must own the table (as a member of its owner role). */
extern void enable_check_owner(Relation rel);

/* Checks a table must pass to be enabled; returns its key columns as text[]. */
extern Datum enable_check_table(Relation rel, LedgerName *name);

extern void enable_install_triggers(const char *relation, bool by_row, bool versioned);
extern void enable_remove_triggers(const char *relation, bool versioned);
extern void enable_install_partition_triggers(List *partitions);

/* Every row of rel (of its leaf partitions) as a baseline entry; the count. */
extern int64 enable_record_rows(JournalWriter *writer, Relation rel, int64 enablement_id);

/* An event entry of the enablement, whose row_hash covers its detail. */
extern int64 enable_record_event(JournalWriter *writer, const LedgerName *name,
								 int64 enablement_id, StringInfo detail_json);
extern int64 enable_previous_enablement(JournalWriter *writer, const char *relation);

/* A statement on medchain's own tables, run as their owner; inside SPI. */
extern void enable_registry_execute(const char *sql, int nargs, Oid *argtypes,
									Datum *args, int expected_rc);

extern Datum enable_session_user_name(void);

extern void notice_text_output_columns(Relation rel);
extern void enable_event_detail(StringInfo detail, Datum key_columns, int64 previous,
								int64 baseline_rows, const EnableMode *mode);
extern void enable_register(Oid relid, const LedgerName *name, Datum key_columns,
							int64 enablement_id, bool enabling, const EnableMode *mode);
extern int64 enable_begin(JournalWriter *writer, Oid relid, const LedgerName *name,
						  Datum key_columns, bool by_row, bool enabling,
						  const EnableMode *mode, int64 *previous);
extern void enable_refuse_registered(const Registration *registration,
									 const LedgerName *name);

/* enable_concurrently.c: medchain.enable(tbl, concurrently => true) */
extern int64 enable_concurrently(Oid relid);

#endif							/* MEDCHAIN_ENABLE_H */
