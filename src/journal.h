/*-------------------------------------------------------------------------
 *
 * journal.h
 *	  Entries of medchain.entries: their canonical encoding and hash
 *	  (docs/FORMAT.md, "Entry encoding") and the writer that appends them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_JOURNAL_H
#define MEDCHAIN_JOURNAL_H

#include "postgres.h"

#include "access/transam.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

#include "direct_write.h"
#include "sha256.h"

#define MC_ENTRY_FORMAT_VERSION 1

/* Entry kinds; later formats add more (update, delete, notarize, consent). */
#define MC_KIND_BASELINE "baseline"
#define MC_KIND_INSERT "insert"
#define MC_KIND_EVENT "event"

/* Text in the server encoding, not necessarily NUL-terminated. */
typedef struct TextSlice
{
	const char *data;
	int			len;
} TextSlice;

static inline TextSlice
text_slice(const char *s)
{
	TextSlice	slice = {s, (int) strlen(s)};

	return slice;
}

/* Every field that the entry hash covers. */
typedef struct EntryFields
{
	TextSlice	kind;
	int64		entry_id;
	TextSlice	relation;
	bool		has_row_key;	/* false for events */
	TextSlice	row_key_text;	/* jsonb text of row_key */
	const uint8 *row_hash;		/* MC_HASH_LEN bytes */
	TextSlice	recorded_by;
	TimestampTz recorded_at;
	uint64		xact;
} EntryFields;

extern void entry_encode(StringInfo buf, const EntryFields *fields);

/*
 * Columns of medchain.entries.  The writer fills in all but the last two,
 * which seal() sets.
 */
typedef enum EntryColumn
{
	COL_ENTRY_ID,
	COL_RELATION,
	COL_ROW_KEY,
	COL_ROW_HASH,
	COL_ENTRY_HASH,
	COL_KIND,
	COL_RECORDED_BY,
	COL_RECORDED_AT,
	COL_XACT,
	COL_DETAIL,
	COL_BLOCK_HEIGHT,
	COL_LEAF_INDEX
} EntryColumn;

#define MC_ENTRY_COLUMNS (COL_LEAF_INDEX + 1)

/* Attribute numbers of those columns in medchain.entries, by EntryColumn. */
extern void entry_columns_find(Relation entries, AttrNumber attnums[MC_ENTRY_COLUMNS]);
extern void event_detail_hash(Jsonb *detail, uint8 out[MC_HASH_LEN]);
/* Buffers entry_integrity_problem reuses from one entry to the next. */
typedef struct EntryCheckBuffers
{
	StringInfoData encoding;
	StringInfoData row_key;
} EntryCheckBuffers;

extern const char *entry_integrity_problem(const AttrNumber *attnums,
										   Datum *values, bool *isnull,
										   EntryCheckBuffers *buffers,
										   uint8 row_hash[MC_HASH_LEN]);

/* Appends entries for the current transaction. */
typedef struct JournalWriter
{
	DirectTable *entries;
	DirectTable *pending;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];	/* by EntryColumn */
	Oid			sequence;
	NameData	recorded_by;
	TimestampTz recorded_at;
	FullTransactionId xact;
	StringInfoData scratch;
} JournalWriter;

extern JournalWriter *journal_open(void);
extern int64 journal_append(JournalWriter *writer, const char *kind,
							const char *relation, Jsonb *row_key,
							const uint8 *row_hash, Jsonb *detail);
extern void journal_close(JournalWriter *writer);

extern HeapTuple journal_row_entry(Relation journal, const AttrNumber *attnums,
								   const char *relation, Jsonb *key,
								   int64 prior_entry_id, Snapshot snapshot);

typedef void (*EntryHashCallback) (void *arg, const uint8 *entry_hash);
extern void journal_block_entry_hashes(Relation journal, const AttrNumber *attnums,
									   Snapshot snapshot, int64 height,
									   int64 first_entry_id, int64 last_entry_id,
									   EntryHashCallback fn, void *arg);

extern Oid	medchain_namespace(void);
extern Oid	medchain_relation(const char *name);
extern AttrNumber medchain_attnum(TupleDesc desc, const char *column);

#endif							/* MEDCHAIN_JOURNAL_H */
