/*-------------------------------------------------------------------------
 *
 * notarize.c
 *	  Proof of existence: medchain.notarize() records the SHA-256 of a
 *	  document, and a label, in the chain; medchain.attest() says when a
 *	  document was first recorded, by whom, in which block, and proves it.
 *
 * A notarization is an entry like any other (docs/FORMAT.md,
 * "Notarizations"): kind notarize, format version 3, relation
 * medchain.notarizations, enablement 0, no row key, the document's
 * SHA-256 as its row_hash and the label as its note.  The document is not
 * kept.  Whoever holds it can show that it existed, unchanged, when the
 * block sealing its entry was sealed; the chain tells nobody anything
 * about a document they do not hold.  The entry goes into the journal and
 * the pending queue, as an event does, is sealed with the rest, and
 * verify() checks it as it checks every entry.
 *
 * attest() finds the entries of a hash through the journal's key_hash
 * index: a notarization's key_hash is computed from its document's hash
 * as a row entry's is from its key.  (A partial index on row_hash would
 * be the obvious alternative, but journal rows are written directly,
 * which maintains plain column indexes only, and a full one would cost
 * every recorded row an index entry.)  Of several recordings of one
 * document attest() answers for the first that can be proven: the one in
 * the lowest block, at the lowest leaf; while none is sealed, the pending
 * one recorded first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "document_hash.h"
#include "journal.h"
#include "privileges.h"
#include "proof.h"
#include "provenance.h"

PG_FUNCTION_INFO_V1(medchain_notarize);
PG_FUNCTION_INFO_V1(medchain_notarize_hash);
PG_FUNCTION_INFO_V1(medchain_notarize_large_object);
PG_FUNCTION_INFO_V1(medchain_attest);
PG_FUNCTION_INFO_V1(medchain_attest_hash);
PG_FUNCTION_INFO_V1(medchain_attest_large_object);

/* A label names a document; the hash proves it. */
#define MC_LABEL_MAX_CHARS 1000

/* attest()'s columns. */
typedef enum AttestColumn
{
	AC_ENTRY_ID,
	AC_LABEL,
	AC_RECORDED_BY,
	AC_RECORDED_AT,
	AC_BLOCK_HEIGHT,
	AC_BLOCK_HASH,
	AC_SEALED_AT,
	AC_CONFIRMATIONS,
	AC_PEERS_HOLDING,
	AC_COSIGNERS,
	AC_PROOF
} AttestColumn;

#define MC_ATTEST_COLUMNS (AC_PROOF + 1)

/* The provenance() column each of attest()'s columns is, or -1. */
static const int attest_provenance_column[MC_ATTEST_COLUMNS] = {
	PC_ENTRY_ID, -1, PC_RECORDED_BY, PC_RECORDED_AT, PC_BLOCK_HEIGHT, PC_BLOCK_HASH,
	PC_SEALED_AT, PC_CONFIRMATIONS, PC_PEERS_HOLDING, PC_COSIGNERS, -1
};

/* ---------- notarize ---------- */

/* The label argument: NULL, or 1 to MC_LABEL_MAX_CHARS characters. */
static char *
label_argument(FunctionCallInfo fcinfo, int argno)
{
	text	   *label;
	int			chars;

	if (PG_ARGISNULL(argno))
		return NULL;
	label = PG_GETARG_TEXT_PP(argno);
	chars = pg_mbstrlen_with_len(VARDATA_ANY(label), VARSIZE_ANY_EXHDR(label));
	if (chars == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a notarization's label must not be empty"),
				 errdetail("The label is recorded in the chain with the document's hash."),
				 errhint("Pass NULL to record no label.")));
	if (chars > MC_LABEL_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a notarization's label is too long"),
				 errdetail("The label has %d characters; at most %d are allowed.",
						   chars, MC_LABEL_MAX_CHARS),
				 errhint("Name the document briefly, for example by its title and version: its hash is what proves it.")));
	return text_to_cstring(label);
}

/*
 * What is checked before the document is read, which may take a while:
 * the caller, the arguments, and that the chain can be written here.
 * Returns the label.
 */
static char *
notarize_arguments(FunctionCallInfo fcinfo, const char *function, const char *document)
{
	require_notary("notarize documents");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s needs %s, not NULL", function, document),
				 errdetail("A notarization records the SHA-256 of a document.")));
	PreventCommandIfReadOnly(function);
	return label_argument(fcinfo, 1);
}

/* Record the notarization; returns its entry_id. */
static int64
notarize_digest(const uint8 digest[MC_HASH_LEN], const char *label)
{
	LedgerName	name;
	JournalRecord record;
	JournalWriter *writer;
	int64		entry_id;

	name.schema = MC_NOTARIZATIONS_SCHEMA;
	name.table = MC_NOTARIZATIONS_TABLE;
	name.display = MC_NOTARIZATIONS_RELATION;
	record.kind = MC_KIND_NOTARIZE;
	record.name = &name;
	record.enablement_id = 0;
	record.has_row_key = false;
	record.row_hash = digest;
	record.detail = NULL;
	record.supersedes = 0;
	record.note = label;
	writer = journal_open();
	entry_id = journal_append(writer, &record);
	journal_close(writer);
	return entry_id;
}

/*
 * medchain.notarize(document bytea, label text DEFAULT NULL) RETURNS bigint
 *
 * Records the document's SHA-256 and the label; returns the entry_id.
 */
Datum
medchain_notarize(PG_FUNCTION_ARGS)
{
	char	   *label = notarize_arguments(fcinfo, "medchain.notarize()", "a document");
	uint8		digest[MC_HASH_LEN];

	document_sha256(PG_GETARG_DATUM(0), digest);
	PG_RETURN_INT64(notarize_digest(digest, label));
}

/* A SHA-256 digest given as an argument. */
static const uint8 *
digest_argument(FunctionCallInfo fcinfo, int argno)
{
	bytea	   *digest = PG_GETARG_BYTEA_PP(argno);

	if (VARSIZE_ANY_EXHDR(digest) != MC_HASH_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a SHA-256 digest is %d bytes, not %d", MC_HASH_LEN,
						(int) VARSIZE_ANY_EXHDR(digest)),
				 errdetail("The function takes the document's SHA-256 computed elsewhere, as bytea."),
				 errhint("Pass decode('<64 hex digits>', 'hex'), for example from sha256sum's output.")));
	return (const uint8 *) VARDATA_ANY(digest);
}

/*
 * medchain.notarize_hash(document_sha256 bytea, label text DEFAULT NULL)
 *	RETURNS bigint
 *
 * The same for a document hashed elsewhere: the document never reaches
 * the server.
 */
Datum
medchain_notarize_hash(PG_FUNCTION_ARGS)
{
	char	   *label = notarize_arguments(fcinfo, "medchain.notarize_hash()",
										   "a document's SHA-256");

	PG_RETURN_INT64(notarize_digest(digest_argument(fcinfo, 0), label));
}

/*
 * medchain.notarize_large_object(loid oid, label text DEFAULT NULL)
 *	RETURNS bigint
 *
 * The same for a document stored as a large object, read a slice at a
 * time with the caller's privileges on it.
 */
Datum
medchain_notarize_large_object(PG_FUNCTION_ARGS)
{
	char	   *label = notarize_arguments(fcinfo, "medchain.notarize_large_object()",
										   "a large object");
	uint8		digest[MC_HASH_LEN];

	large_object_sha256(PG_GETARG_OID(0), digest);
	PG_RETURN_INT64(notarize_digest(digest, label));
}

/* ---------- attest ---------- */

/* A notarize entry, with what decides which recording of a document is first. */
typedef struct Recording
{
	HeapTuple	tuple;
	int64		entry_id;
	int64		block_height;	/* -1: pending */
	int32		leaf_index;
	TimestampTz recorded_at;
} Recording;

/*
 * Does recording a come before b?  A sealed one before a pending one; sealed
 * ones by block and leaf, pending ones by the time they were recorded.
 */
static bool
recorded_before(const Recording *a, const Recording *b)
{
	if ((a->block_height >= 0) != (b->block_height >= 0))
		return a->block_height >= 0;
	if (a->block_height >= 0)
		return a->block_height < b->block_height ||
			(a->block_height == b->block_height && a->leaf_index < b->leaf_index);
	return a->recorded_at < b->recorded_at ||
		(a->recorded_at == b->recorded_at && a->entry_id < b->entry_id);
}

/* Is the journal row a notarization of the document with this SHA-256? */
static bool
is_notarization_of(HeapTuple tuple, TupleDesc desc, const AttrNumber *attnums,
				   const uint8 digest[MC_HASH_LEN])
{
	bool		isnull;
	Datum		value;
	text	   *t;
	bytea	   *row_hash;

	value = heap_getattr(tuple, attnums[COL_KIND], desc, &isnull);
	if (isnull)
		return false;
	t = DatumGetTextPP(value);
	if (entry_kind_of(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)) != ENTRY_KIND_NOTARIZE)
		return false;
	value = heap_getattr(tuple, attnums[COL_RELATION], desc, &isnull);
	if (isnull || strcmp(TextDatumGetCString(value), MC_NOTARIZATIONS_RELATION) != 0)
		return false;
	value = heap_getattr(tuple, attnums[COL_ROW_HASH], desc, &isnull);
	if (isnull)
		return false;
	row_hash = DatumGetByteaPP(value);
	return VARSIZE_ANY_EXHDR(row_hash) == MC_HASH_LEN &&
		memcmp(VARDATA_ANY(row_hash), digest, MC_HASH_LEN) == 0;
}

static Recording
recording_of(HeapTuple tuple, TupleDesc desc, const AttrNumber *attnums)
{
	Recording	r;
	bool		isnull;
	Datum		value;

	r.tuple = tuple;
	r.entry_id = DatumGetInt64(heap_getattr(tuple, attnums[COL_ENTRY_ID], desc, &isnull));
	value = heap_getattr(tuple, attnums[COL_BLOCK_HEIGHT], desc, &isnull);
	r.block_height = isnull ? -1 : DatumGetInt64(value);
	value = heap_getattr(tuple, attnums[COL_LEAF_INDEX], desc, &isnull);
	r.leaf_index = isnull ? -1 : DatumGetInt32(value);
	r.recorded_at = DatumGetTimestampTz(heap_getattr(tuple, attnums[COL_RECORDED_AT], desc,
													 &isnull));
	return r;
}

/*
 * The first recording of the digest, a copy; NULL if it was never
 * notarized.  key_hash is only a lookup aid: an entry found through it
 * must be a notarization of medchain.notarizations with this row_hash.
 */
static HeapTuple
first_recording(Relation journal, const AttrNumber *attnums, const uint8 digest[MC_HASH_LEN])
{
	TupleDesc	desc = RelationGetDescr(journal);
	JournalScan scan;
	HeapTuple	tuple;
	Recording	first = {NULL};

	/* the scan hands back its whole bucket: each row is checked below */
	journal_scan_key_hash(&scan, journal, GetActiveSnapshot(),
						  journal_document_key_hash(digest), InvalidOid);
	while ((tuple = journal_scan_next(&scan)) != NULL)
	{
		Recording	candidate;

		if (!is_notarization_of(tuple, desc, attnums, digest))
			continue;
		candidate = recording_of(tuple, desc, attnums);
		if (first.tuple == NULL || recorded_before(&candidate, &first))
		{
			if (first.tuple != NULL)
				heap_freetuple(first.tuple);
			first = candidate;
			first.tuple = heap_copytuple(tuple);
		}
	}
	journal_scan_end(&scan);
	return first.tuple;
}

/* An altered notarization is not attested to: its proof would not hold. */
static void
require_intact(const AttrNumber *attnums, Datum *values, bool *isnull)
{
	EntryCheckBuffers buffers;
	CheckedEntry checked;
	const char *problem;

	entry_check_buffers_init(&buffers);
	problem = entry_integrity_problem(attnums, values, isnull, &buffers, &checked);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("notarization entry %lld was altered",
						(long long) DatumGetInt64(values[attnums[COL_ENTRY_ID] - 1])),
				 errdetail("The entry that first recorded this document fails its check: %s.",
						   problem),
				 errhint("Run medchain.verify() to see what was altered.")));
}

/*
 * The answer for a digest: no row if it was never notarized, else one, of
 * its first recording, with the proof once it is sealed.
 */
static Datum
attest_digest(FunctionCallInfo fcinfo, const uint8 digest[MC_HASH_LEN], int anchor_argno)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	journal = table_open(medchain_journal_relid(), AccessShareLock);
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	TupleDesc	desc = RelationGetDescr(journal);
	HeapTuple	entry;
	Datum	   *entry_values;
	bool	   *entry_isnull;
	Datum		provenance[MC_PROVENANCE_COLUMNS];
	bool		provenance_null[MC_PROVENANCE_COLUMNS];
	Datum		values[MC_ATTEST_COLUMNS];
	bool		isnull[MC_ATTEST_COLUMNS];
	int			col;

	entry_columns_find(journal, attnums);
	entry = first_recording(journal, attnums, digest);
	if (entry == NULL)
	{
		table_close(journal, AccessShareLock);
		return (Datum) 0;
	}
	entry_values = palloc(sizeof(Datum) * desc->natts);
	entry_isnull = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(entry, desc, entry_values, entry_isnull);
	require_intact(attnums, entry_values, entry_isnull);

	provenance_columns(chain_facts_create(CurrentMemoryContext, GetActiveSnapshot()),
					   journal, attnums, entry, true, provenance, provenance_null);
	for (col = 0; col < MC_ATTEST_COLUMNS; col++)
	{
		int			from = attest_provenance_column[col];

		values[col] = from >= 0 ? provenance[from] : (Datum) 0;
		isnull[col] = from >= 0 ? provenance_null[from] : true;
	}
	values[AC_LABEL] = entry_values[attnums[COL_NOTE] - 1];
	isnull[AC_LABEL] = entry_isnull[attnums[COL_NOTE] - 1];
	if (!provenance_null[PC_BLOCK_HEIGHT])
	{
		int64		anchor_height;

		values[AC_PROOF] = JsonbPGetDatum(entry_proof_build(journal, attnums, entry_values,
															entry_isnull, NULL,
															anchor_height_argument(fcinfo, anchor_argno,
																				   &anchor_height)));
		isnull[AC_PROOF] = false;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	table_close(journal, AccessShareLock);
	return (Datum) 0;
}

/*
 * medchain.attest(document bytea, anchor_height bigint DEFAULT NULL)
 *	RETURNS TABLE (entry_id, label, recorded_by, recorded_at, block_height,
 *	block_hash, sealed_at, confirmations, peers_holding, cosigners, proof)
 *
 * When the document was first notarized and by whom, the block and how
 * much stands behind it (as provenance() gives them), and the proof of
 * the entry up to anchor_height (the head by default); the block fields
 * and the proof are NULL while the entry is pending.  No row for a
 * document never notarized, or NULL.
 */
Datum
medchain_attest(PG_FUNCTION_ARGS)
{
	uint8		digest[MC_HASH_LEN];

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	document_sha256(PG_GETARG_DATUM(0), digest);
	return attest_digest(fcinfo, digest, 1);
}

/*
 * medchain.attest_hash(document_sha256 bytea, anchor_height bigint DEFAULT NULL)
 *
 * The same for a document hashed elsewhere.
 */
Datum
medchain_attest_hash(PG_FUNCTION_ARGS)
{
	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	return attest_digest(fcinfo, digest_argument(fcinfo, 0), 1);
}

/*
 * medchain.attest_large_object(loid oid, anchor_height bigint DEFAULT NULL)
 *
 * The same for a large object, read with the caller's privileges on it.
 */
Datum
medchain_attest_large_object(PG_FUNCTION_ARGS)
{
	uint8		digest[MC_HASH_LEN];

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	large_object_sha256(PG_GETARG_OID(0), digest);
	return attest_digest(fcinfo, digest, 1);
}
