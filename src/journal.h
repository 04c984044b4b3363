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

#include "access/genam.h"
#include "access/transam.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

#include "block.h"
#include "direct_write.h"
#include "sha256.h"

/*
 * Format versions of entries.  New entries, rows and blocks are written in
 * MC_FORMAT_CURRENT; older versions are only read and verified.
 */
#define MC_FORMAT_V1 1
#define MC_FORMAT_V2 2
#define MC_FORMAT_V3 3
#define MC_FORMAT_CURRENT MC_FORMAT_V2

/*
 * Entry kinds.  Baselines, inserts and events are written in
 * MC_FORMAT_CURRENT; the kinds of version 3 (since 1.5) carry what
 * supersedes a version of a row, and a note, and are always written in
 * version 3 (journal_kind_version).
 */
#define MC_KIND_BASELINE "baseline"
#define MC_KIND_INSERT "insert"
#define MC_KIND_EVENT "event"
#define MC_KIND_UPDATE "update"
#define MC_KIND_DELETE "delete"
#define MC_KIND_NOTARIZE "notarize"

extern int	journal_kind_version(const char *kind);

/*
 * A notarization records a document's hash, not a row: it names
 * medchain.notarizations, the view that lists them, and no enablement.
 */
#define MC_NOTARIZATIONS_SCHEMA "medchain"
#define MC_NOTARIZATIONS_TABLE "notarizations"
#define MC_NOTARIZATIONS_RELATION "medchain.notarizations"

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

/* A text datum's bytes, without copying them. */
static inline TextSlice
text_datum_slice(Datum value)
{
	text	   *t = DatumGetTextPP(value);
	TextSlice	slice = {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};

	return slice;
}

static inline bool
text_slice_is(TextSlice text, const char *s)
{
	return text.len == (int) strlen(s) && memcmp(text.data, s, text.len) == 0;
}

/* A ledger table's name as entries carry it; server encoding. */
typedef struct LedgerName
{
	char	   *schema;
	char	   *table;
	char	   *display;		/* quoted and qualified: entries.relation */
} LedgerName;

/* Every field that the entry hash covers. */
typedef struct EntryFields
{
	int			format_version;
	TextSlice	kind;
	int64		entry_id;
	TextSlice	relation;		/* version 1: the quoted, qualified name */
	TextSlice	schema_name;	/* version 2: the two names, unquoted */
	TextSlice	table_name;
	int64		enablement_id;	/* version 2 */
	bool		has_row_key;	/* false for events */
	TextSlice	row_key_utf8;	/* the text of row_key, in UTF-8 */
	const uint8 *row_hash;		/* MC_HASH_LEN bytes */
	TextSlice	recorded_by;
	TimestampTz recorded_at;
	uint64		xact;
	int64		supersedes;		/* version 3: the entry it supersedes, or 0 */
	bool		has_note;		/* version 3 */
	TextSlice	note;			/* in UTF-8 */
} EntryFields;

extern void entry_encode(StringInfo buf, const EntryFields *fields);

/* Split entries.relation into its two names; false if it is not one. */
extern bool ledger_name_parse(const char *display, LedgerName *name);

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
	COL_LEAF_INDEX,
	COL_FORMAT_VERSION,
	COL_ENABLEMENT_ID,
	COL_KEY_HASH,				/* since 1.5; InvalidAttrNumber before */
	COL_SUPERSEDES,				/* since 1.5 */
	COL_NOTE					/* since 1.5 */
} EntryColumn;

#define MC_ENTRY_COLUMNS (COL_NOTE + 1)

/*
 * The journal's key_hash: a 64-bit hash of a row entry's relation (as
 * entries.relation holds it) and its key's canonical JSON text, in UTF-8.
 * A lookup aid, covered by no hash: whoever finds an entry through it
 * compares the relation and the key themselves.
 */
extern int64 journal_key_hash(const char *relation, const char *key_utf8, int key_len);

/*
 * A notarization's key_hash: the document's SHA-256 stands in for the key,
 * so that attest() finds a document's entries through the same index.
 */
extern int64 journal_document_key_hash(const uint8 document_sha256[MC_HASH_LEN]);

/* A bytea that must be a 32-byte digest, as its bytes; NULL if it is not. */
extern const uint8 *stored_hash(Datum value, bool isnull);

/* Attribute numbers of those columns in medchain.entries, by EntryColumn. */
extern void entry_columns_find(Relation entries, AttrNumber attnums[MC_ENTRY_COLUMNS]);
extern void event_detail_hash(Jsonb *detail, int version, uint8 out[MC_HASH_LEN]);

/* The kinds of entry that record a version of a row or its removal, or a document. */
typedef enum EntryKind
{
	ENTRY_KIND_OTHER,			/* events, and kinds of later versions */
	ENTRY_KIND_BASELINE,
	ENTRY_KIND_INSERT,
	ENTRY_KIND_UPDATE,
	ENTRY_KIND_DELETE,
	ENTRY_KIND_NOTARIZE			/* a document's hash: no row, no key */
} EntryKind;

extern EntryKind entry_kind_of(const char *kind, int len);

/* Buffers entry_integrity_problem reuses from one entry to the next. */
typedef struct EntryCheckBuffers
{
	StringInfoData encoding;
	StringInfoData row_key;		/* canonical text of the last row_key */
	StringInfoData v1_row_key;	/* its jsonb_out text, for version 1 */
	char	   *last_relation;	/* the last relation parsed, and its names */
	LedgerName	last_name;
	bool		last_name_valid;
} EntryCheckBuffers;

extern void entry_check_buffers_init(EntryCheckBuffers *buffers);

/* What entry_integrity_problem found out about an intact entry. */
typedef struct CheckedEntry
{
	int			format_version;
	uint8		row_hash[MC_HASH_LEN];
	int64		enablement_id;	/* version 2; 0 for version 1 */
	bool		is_event;
	EntryKind	kind;
	int64		supersedes;		/* version 3; 0 before */
} CheckedEntry;

extern const char *entry_integrity_problem(const AttrNumber *attnums,
										   Datum *values, bool *isnull,
										   EntryCheckBuffers *buffers,
										   CheckedEntry *checked);

/*
 * Appends entries for the current (sub)transaction.  Row entries go into
 * medchain.entry_batches, packed (entry_batches.h), and are there once the
 * batch is full or the writer is closed, within the same (sub)transaction
 * either way; events go into medchain.entries and the pending queue at
 * once.
 */
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
	StringInfoData key_text;	/* the row key's canonical JSON, UTF-8 */
	bool		batched;		/* the objects have entry_batches (1.2) */
	struct BatchWriter *batches;
} JournalWriter;

/* One entry to append. */
typedef struct JournalRecord
{
	const char *kind;
	const LedgerName *name;
	int64		enablement_id;
	bool		has_row_key;	/* a row entry: its key's text is in
								 * writer->key_text */
	const uint8 *row_hash;
	Jsonb	   *detail;			/* events only */
	int64		supersedes;		/* version 3 kinds: the entry superseded, or 0 */
	const char *note;			/* version 3 kinds: a reason or label, or NULL */
	bool		unbatched;		/* a row entry to write into the journal itself */
} JournalRecord;

/*
 * An event's record: its detail from JSON text, its row_hash (in
 * row_hash, which the record points to) the hash of the detail.
 */
extern void journal_event_record(JournalRecord *record, const LedgerName *name,
								 int64 enablement_id, const char *detail_json,
								 uint8 row_hash[MC_HASH_LEN]);

extern JournalWriter *journal_open(void);
extern int64 journal_next_entry_id(JournalWriter *writer);
extern int64 journal_append(JournalWriter *writer, const JournalRecord *record);

/*
 * Append an event sealed as it is written: a journal row placed as leaf
 * `leaf` of block `height`, never queued, with an entry_id drawn before
 * by journal_next_entry_id(); its entry hash goes to entry_hash.  seal()
 * records a new node key so, in the block the key signs.
 */
extern void journal_append_sealed(JournalWriter *writer, const JournalRecord *record,
								  int64 entry_id, int64 height, int32 leaf,
								  uint8 entry_hash[MC_HASH_LEN]);
extern void journal_close(JournalWriter *writer);

typedef void (*EntryHashCallback) (void *arg, const uint8 *entry_hash);

/* An entry as a range scan of the journal meets it. */
typedef struct RangeEntry
{
	int64		entry_id;
	int64		block_height;	/* -1: not sealed */
	int32		leaf_index;		/* -1: none */
	const uint8 *entry_hash;	/* NULL if not a 32-byte digest */
} RangeEntry;

typedef void (*RangeEntryCallback) (void *arg, const RangeEntry *entry);
extern void journal_entries_in_range(Relation journal, const AttrNumber *attnums,
									 Snapshot snapshot, int64 first_entry_id,
									 int64 last_entry_id, RangeEntryCallback fn, void *arg);
extern void journal_block_entry_hashes(Relation journal, const AttrNumber *attnums,
									   Snapshot snapshot, int64 height,
									   int64 first_entry_id, int64 last_entry_id,
									   EntryHashCallback fn, void *arg);
/*
 * The entry hashes of a sealed block, in leaf order; an error if the
 * journal does not hold exactly the entries its header counts.
 */
extern void journal_report_altered_block(int64 height) pg_attribute_noreturn();
extern uint8 (*journal_block_leaves(Relation journal, const AttrNumber *attnums,
									const BlockRow *block))[MC_HASH_LEN];

/*
 * The entries of a relation through the (relation, row_key) index: all of
 * them, those of one row key, or only the events (no row key).
 */
typedef enum JournalScanWhat
{
	JOURNAL_ALL,
	JOURNAL_ROW_KEY,
	JOURNAL_EVENTS
} JournalScanWhat;

typedef struct JournalScan
{
	Relation	index;
	LOCKMODE	index_lock;		/* taken by the scan, released at its end */
	SysScanDesc scan;			/* through a btree index */
	IndexScanDesc hash_scan;	/* or through the key_hash index */
	TupleTableSlot *slot;
} JournalScan;

extern void journal_scan_relation(JournalScan *js, Relation journal,
								  const AttrNumber *attnums, Snapshot snapshot,
								  const char *relation, JournalScanWhat what,
								  Jsonb *row_key);
/*
 * The journal rows that the key_hash index (1.5 and later) files under
 * key_hash.  It is a hash index: it keeps a 32-bit hash of key_hash, so
 * rows with other key_hash values can be among them, and the caller
 * compares key_hash as it compares relation and row_key.  index: its OID,
 * which the caller has locked for the rest of its transaction (as one
 * query's many lookups do once), or InvalidOid to look it up and lock it
 * for the scan.
 */
#define MC_KEY_HASH_INDEX "journal_key_hash_idx"
extern void journal_scan_key_hash(JournalScan *js, Relation journal, Snapshot snapshot,
								  int64 key_hash, Oid index);
extern HeapTuple journal_scan_next(JournalScan *js);
extern void journal_scan_end(JournalScan *js);

extern Oid	medchain_namespace(void);
extern Oid	medchain_relation(const char *name);
extern Oid	medchain_journal_relid(void);
extern AttrNumber medchain_attnum(TupleDesc desc, const char *column);
extern AttrNumber medchain_attnum_if_exists(TupleDesc desc, const char *column);

#endif							/* MEDCHAIN_JOURNAL_H */
