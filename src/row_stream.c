/*-------------------------------------------------------------------------
 *
 * row_stream.c
 *	  The rows of ledger tables, in heap order, for verify().
 *
 * Hashing every row is about half of what verify() does; the other half,
 * re-hashing the journal and its Merkle trees, depends on the rows only
 * where the two meet.  So each table's sequential scan runs in a parallel
 * worker of its own where one can be had: the worker hashes the rows,
 * writes their key text, and sends them in batches through a shared-memory
 * queue, and the backend pairs them with entries as they arrive.  Parallel
 * workers share the backend's snapshot, transaction and settings, so they
 * see exactly the rows the backend would and encode them the same way.
 * Without workers (none free, or max_parallel_workers_per_gather = 0, or
 * a small table) the backend scans the table itself; the stream looks the
 * same either way.
 *
 * A table whose current enablement began in format version 1 may still
 * have version 1 entries: its rows are hashed in both versions.  When no
 * column encodes differently in version 1, the second hash is of the same
 * bytes with the version byte changed.
 *
 * A worker ends its stream with an empty message.  A queue that detaches
 * without it means the worker failed; waiting for the workers then raises
 * the worker's error in the backend.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "storage/bufmgr.h"
#include "storage/shm_toc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "heap_prefetch.h"
#include "journal.h"
#include "row_encoding.h"
#include "row_key.h"
#include "pace.h"
#include "partitions.h"
#include "row_stream.h"
#include "security_scope.h"

/* keys of the shared-memory table of contents */
#define ROW_STREAM_KEY_TABLES	UINT64CONST(0x4D43000000000001)
#define ROW_STREAM_KEY_QUEUES	UINT64CONST(0x4D43000000000002)

#define ROW_STREAM_QUEUE_SIZE	(1024 * 1024)
#define ROW_STREAM_BATCH_BYTES	(64 * 1024)

/* Tables smaller than this are scanned here: a worker costs a few ms. */
#define ROW_STREAM_MIN_PAGES	1024

typedef struct RowStreamTable
{
	Oid			relid;
	bool		with_v1;
} RowStreamTable;

typedef struct RowStreamTables
{
	int			count;
	RowStreamTable tables[FLEXIBLE_ARRAY_MEMBER];
} RowStreamTables;

/* A record on the queue: this header, then key_len bytes of key text. */
typedef struct RowRecordHeader
{
	uint8		hash[MC_HASH_LEN];
	uint8		hash_v1[MC_HASH_LEN];
	ItemPointerData tid;
	uint32		key_len;
} RowRecordHeader;

PGDLLEXPORT void medchain_row_stream_worker(dsm_segment *seg, shm_toc *toc);

/* ---------- rows scanned and hashed a batch at a time ---------- */

/*
 * Rows are encoded a batch at a time and their encodings hashed four at a
 * time (mc_sha256_x4), which is cheaper than hashing them one by one.  A
 * batch is ROW_BATCH_ROWS rows, or fewer once their encodings pass
 * ROW_BATCH_BYTES, so that it holds at most that plus one row's encoding
 * whatever the rows hold.  A batch is also the unit of work between two
 * looks at the scan from outside (a rate limit would go in
 * row_batch_fill).
 */
#define ROW_BATCH_ROWS 64
#define ROW_BATCH_BYTES (256 * 1024)

typedef struct ScannedRow
{
	ItemPointerData tid;
	int			encoding_at;	/* in the batch's encodings */
	int			encoding_len;
	int			key_at;			/* in the batch's keys */
	int			key_len;
	uint8		hash[MC_HASH_LEN];
	uint8		hash_v1[MC_HASH_LEN];
} ScannedRow;

struct RowBatch
{
	Snapshot	snapshot;
	Oid			ledger_relid;	/* the ledger table */
	List	   *leaves;			/* the tables that hold the rows: the ledger
								 * table, or its leaf partitions */
	int			next_leaf;		/* the one scanned next */
	Relation	leaf;			/* the one being scanned, or NULL */
	const LedgerRelation *ledger;	/* the leaf's */
	bool		with_v1;
	Oid			owner;			/* the rows' output functions run as owner */
	TableScanDesc scan;
	TupleTableSlot *slot;
	MemoryContext scan_cxt;		/* where the scans live */
	MemoryContext cxt;			/* what encoding one batch leaves behind */
	StringInfoData encodings;	/* the batch's row encodings, one after another */
	StringInfoData keys;		/* and their key texts */
	StringInfoData v1_encoding; /* a version 1 encoding that differs */
	ScannedRow	rows[ROW_BATCH_ROWS];
	int			nrows;
	int			next;			/* the row row_batch_next returns next */
	bool		done;			/* the scan is over */
};

static void
row_batch_leaf_end(RowBatch *batch)
{
	ExecDropSingleTupleTableSlot(batch->slot);
	table_endscan(batch->scan);
	table_close(batch->leaf, NoLock);
	batch->leaf = NULL;
}

/*
 * Start scanning the next leaf; false when there is none.  A partition's
 * rows are encoded in its own layout with the ledger table's name and key
 * (ledger_cache.c), and its owner's functions run as its owner.  The scan
 * lives as long as the batch, not in its per-batch context.
 */
static bool
row_batch_next_leaf(RowBatch *batch)
{
	MemoryContext old;

	if (batch->leaf != NULL)
		row_batch_leaf_end(batch);
	if (batch->next_leaf >= list_length(batch->leaves))
		return false;
	old = MemoryContextSwitchTo(batch->scan_cxt);
	batch->leaf = table_open(list_nth_oid(batch->leaves, batch->next_leaf++), NoLock);
	batch->ledger = ledger_relation_get_in(batch->leaf, batch->ledger_relid);
	batch->owner = batch->leaf->rd_rel->relowner;
	batch->scan = table_beginscan(batch->leaf, batch->snapshot, 0, NULL);
	batch->slot = table_slot_create(batch->leaf, NULL);
	MemoryContextSwitchTo(old);
	return true;
}

static RowBatch *
row_batch_begin(Relation rel, Snapshot snapshot, bool with_v1)
{
	RowBatch   *batch = palloc0(sizeof(RowBatch));

	batch->snapshot = snapshot;
	batch->ledger_relid = RelationGetRelid(rel);
	batch->leaves = ledger_leaves(rel, AccessShareLock);
	batch->with_v1 = with_v1;
	batch->scan_cxt = CurrentMemoryContext;
	batch->cxt = AllocSetContextCreate(CurrentMemoryContext, "medchain row batch",
									   ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&batch->encodings);
	initStringInfo(&batch->keys);
	initStringInfo(&batch->v1_encoding);
	batch->done = !row_batch_next_leaf(batch);
	return batch;
}

static void
row_batch_end(RowBatch *batch)
{
	if (batch->leaf != NULL)
		row_batch_leaf_end(batch);
	MemoryContextDelete(batch->cxt);
}

/* Encode the slot's row and its key text into the batch, as the owner. */
static void
row_batch_add(RowBatch *batch, TupleTableSlot *slot)
{
	const LedgerRelation *ledger = batch->ledger;
	ScannedRow *row = &batch->rows[batch->nrows++];
	OwnerScope	owner_scope;

	slot_getallattrs(slot);
	row->tid = slot->tts_tid;
	medchain_act_as_owner(batch->owner, &owner_scope);
	row->encoding_at = batch->encodings.len;
	row_encode(&batch->encodings, ledger->row_layout, slot->tts_values, slot->tts_isnull,
			   MC_FORMAT_CURRENT);
	row->encoding_len = batch->encodings.len - row->encoding_at;
	if (batch->with_v1 && ledger->differs_in_v1)
		row_hash_compute(&batch->v1_encoding, ledger->row_layout, slot->tts_values,
						 slot->tts_isnull, MC_FORMAT_V1, row->hash_v1);
	row->key_at = batch->keys.len;
	row_key_text(&batch->keys, ledger->key_layout, slot->tts_values, slot->tts_isnull);
	row->key_len = batch->keys.len - row->key_at;
	medchain_leave_owner(&owner_scope);
}

/* Hash the batch's encodings, four rows at a time, into hash or hash_v1. */
static void
row_batch_hash(RowBatch *batch, bool v1)
{
	const char *data = batch->encodings.data;
	int			i;

	for (i = 0; i + 3 < batch->nrows; i += 4)
	{
		const void *messages[4];
		size_t		lengths[4];
		uint8		digests[4][MC_HASH_LEN];
		int			k;

		for (k = 0; k < 4; k++)
		{
			messages[k] = data + batch->rows[i + k].encoding_at;
			lengths[k] = batch->rows[i + k].encoding_len;
		}
		mc_sha256_x4(messages, lengths, digests);
		for (k = 0; k < 4; k++)
			memcpy(v1 ? batch->rows[i + k].hash_v1 : batch->rows[i + k].hash,
				   digests[k], MC_HASH_LEN);
	}
	for (; i < batch->nrows; i++)
	{
		ScannedRow *a = &batch->rows[i];

		mc_sha256(data + a->encoding_at, a->encoding_len, v1 ? a->hash_v1 : a->hash);
	}
}

/*
 * The next batch of rows from the scan; false when there are none.  What
 * encoding them allocates (detoasted values, output function results)
 * lives until the next batch.
 */
static bool
row_batch_fill(RowBatch *batch)
{
	MemoryContext old;
	int			i;

	batch->nrows = 0;
	batch->next = 0;
	if (batch->done)
		return false;
	resetStringInfo(&batch->encodings);
	resetStringInfo(&batch->keys);
	MemoryContextReset(batch->cxt);
	old = MemoryContextSwitchTo(batch->cxt);
	while (batch->nrows < ROW_BATCH_ROWS && batch->encodings.len < ROW_BATCH_BYTES)
	{
		CHECK_FOR_INTERRUPTS();
		if (!table_scan_getnextslot(batch->scan, ForwardScanDirection, batch->slot))
		{
			if (row_batch_next_leaf(batch))
				continue;
			batch->done = true;
			break;
		}
		heap_scan_prefetch_next(batch->scan);
		row_batch_add(batch, batch->slot);
	}
	MemoryContextSwitchTo(old);

	row_batch_hash(batch, false);
	/* no column encodes differently: version 1 differs in its version byte only */
	if (batch->with_v1 && !batch->ledger->differs_in_v1)
	{
		for (i = 0; i < batch->nrows; i++)
			batch->encodings.data[batch->rows[i].encoding_at + 1] = MC_FORMAT_V1;
		row_batch_hash(batch, true);
	}
	return batch->nrows > 0;
}

/* The next row of the scan; record->key points into the batch. */
static bool
row_batch_next(RowBatch *batch, RowRecord *record)
{
	const ScannedRow *row;

	if (batch->next == batch->nrows && !row_batch_fill(batch))
		return false;
	row = &batch->rows[batch->next++];
	memcpy(record->hash, row->hash, MC_HASH_LEN);
	if (batch->with_v1)
		memcpy(record->hash_v1, row->hash_v1, MC_HASH_LEN);
	else
		memset(record->hash_v1, 0, MC_HASH_LEN);
	record->tid = row->tid;
	record->key = batch->keys.data + row->key_at;
	record->key_len = row->key_len;
	return true;
}

/* ---------- the worker ---------- */

static void
send_batch(shm_mq_handle *queue, StringInfo batch)
{
	if (shm_mq_send(queue, batch->len, batch->data, false, true) != SHM_MQ_SUCCESS)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("verify() stopped reading the rows"),
				 errdetail("The backend running verify() went away."),
				 errhint("Run verify() again.")));
	resetStringInfo(batch);
}

static void
batch_add(StringInfo batch, const RowRecord *record)
{
	RowRecordHeader header;

	memcpy(header.hash, record->hash, MC_HASH_LEN);
	memcpy(header.hash_v1, record->hash_v1, MC_HASH_LEN);
	header.tid = record->tid;
	header.key_len = record->key_len;
	appendBinaryStringInfo(batch, (char *) &header, sizeof(header));
	appendBinaryStringInfo(batch, record->key, record->key_len);
}

void
medchain_row_stream_worker(dsm_segment *seg, shm_toc *toc)
{
	RowStreamTables *tables = shm_toc_lookup(toc, ROW_STREAM_KEY_TABLES, false);
	char	   *queues = shm_toc_lookup(toc, ROW_STREAM_KEY_QUEUES, false);
	shm_mq	   *mq = (shm_mq *) (queues + (Size) ParallelWorkerNumber * ROW_STREAM_QUEUE_SIZE);
	const RowStreamTable *table = &tables->tables[ParallelWorkerNumber];
	shm_mq_handle *queue;
	Relation	rel;
	RowBatch   *rows;
	RowRecord	record;
	StringInfoData batch;

	Assert(ParallelWorkerNumber < tables->count);
	shm_mq_set_sender(mq, MyProc);
	queue = shm_mq_attach(mq, seg, NULL);

	rel = table_open(table->relid, AccessShareLock);
	/* the leader's settings are fixed already, and are this worker's */
	rows = row_batch_begin(rel, GetActiveSnapshot(), table->with_v1);
	initStringInfo(&batch);
	while (row_batch_next(rows, &record))
	{
		batch_add(&batch, &record);
		if (batch.len >= ROW_STREAM_BATCH_BYTES)
			send_batch(queue, &batch);
	}
	if (batch.len > 0)
		send_batch(queue, &batch);
	send_batch(queue, &batch);	/* empty: the end */

	row_batch_end(rows);
	table_close(rel, AccessShareLock);
}

/* ---------- the backend ---------- */

static bool
worth_a_worker(Relation rel)
{
	return ledger_blocks(rel) >= ROW_STREAM_MIN_PAGES;
}

/* Launch a worker per table large enough to be worth one. */
static void
launch_workers(RowStreams *streams, Relation *rels, const bool *with_v1)
{
	int			wanted = 0;
	int			i;
	ParallelContext *pcxt;
	RowStreamTables *tables;
	Size		tables_size;
	char	   *queues;

	/* workers take the tables in order: the large ones come first */
	for (i = 0; i < streams->count && worth_a_worker(rels[i]); i++)
		wanted++;
	wanted = Min(wanted, max_parallel_workers_per_gather);
	if (wanted == 0)
		return;

	EnterParallelMode();
	pcxt = CreateParallelContext("medchain", "medchain_row_stream_worker", wanted);
	tables_size = offsetof(RowStreamTables, tables) + sizeof(RowStreamTable) * wanted;
	shm_toc_estimate_chunk(&pcxt->estimator, tables_size);
	shm_toc_estimate_chunk(&pcxt->estimator, (Size) ROW_STREAM_QUEUE_SIZE * wanted);
	shm_toc_estimate_keys(&pcxt->estimator, 2);
	InitializeParallelDSM(pcxt);

	tables = shm_toc_allocate(pcxt->toc, tables_size);
	tables->count = wanted;
	queues = shm_toc_allocate(pcxt->toc, (Size) ROW_STREAM_QUEUE_SIZE * wanted);
	for (i = 0; i < wanted; i++)
	{
		tables->tables[i].relid = RelationGetRelid(rels[i]);
		tables->tables[i].with_v1 = with_v1[i];
		shm_mq_set_receiver(shm_mq_create(queues + (Size) i * ROW_STREAM_QUEUE_SIZE,
										  ROW_STREAM_QUEUE_SIZE), MyProc);
	}
	shm_toc_insert(pcxt->toc, ROW_STREAM_KEY_TABLES, tables);
	shm_toc_insert(pcxt->toc, ROW_STREAM_KEY_QUEUES, queues);

	LaunchParallelWorkers(pcxt);
	for (i = 0; i < pcxt->nworkers_launched; i++)
		streams->streams[i].queue =
			shm_mq_attach((shm_mq *) (queues + (Size) i * ROW_STREAM_QUEUE_SIZE),
						  pcxt->seg, pcxt->worker[i].bgwhandle);
	streams->pcxt = pcxt;
}

RowStreams *
row_streams_open(Relation *rels, const bool *with_v1, int count, Snapshot snapshot)
{
	RowStreams *streams = palloc0(sizeof(RowStreams));
	int			i;

	streams->count = count;
	streams->streams = palloc0(sizeof(RowStream) * Max(count, 1));
	if (!IsInParallelMode())
		launch_workers(streams, rels, with_v1);

	for (i = 0; i < count; i++)
	{
		RowStream  *stream = &streams->streams[i];

		stream->rel = rels[i];
		stream->with_v1 = with_v1[i];
		if (stream->queue == NULL)
			stream->rows = row_batch_begin(rels[i], snapshot, with_v1[i]);
	}
	return streams;
}

/* The next batch from the worker; false at the end of the stream. */
static bool
next_batch(RowStream *stream)
{
	Size		nbytes;
	void	   *data;

	if (shm_mq_receive(stream->queue, &nbytes, &data, false) != SHM_MQ_SUCCESS)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("a parallel worker of verify() stopped before the end of table %s",
						RelationGetRelationName(stream->rel)),
				 errdetail("The worker's own error, if any, is reported separately."),
				 errhint("Run verify() again; SET max_parallel_workers_per_gather = 0 makes it work alone.")));
	stream->batch = data;
	stream->batch_len = nbytes;
	stream->batch_next = 0;
	return nbytes > 0;
}

bool
row_stream_next(RowStream *stream, RowRecord *record)
{
	RowRecordHeader header;

	if (stream->done)
		return false;
	medchain_pace(1);
	if (stream->queue == NULL)
	{
		if (!row_batch_next(stream->rows, record))
			stream->done = true;
		return !stream->done;
	}
	if (stream->batch_next == stream->batch_len && !next_batch(stream))
	{
		stream->done = true;
		return false;
	}
	memcpy(&header, stream->batch + stream->batch_next, sizeof(header));
	memcpy(record->hash, header.hash, MC_HASH_LEN);
	memcpy(record->hash_v1, header.hash_v1, MC_HASH_LEN);
	record->tid = header.tid;
	record->key_len = header.key_len;
	record->key = stream->batch + stream->batch_next + sizeof(header);
	stream->batch_next += sizeof(header) + header.key_len;
	return true;
}

void
row_streams_close(RowStreams *streams)
{
	int			i;

	for (i = 0; i < streams->count; i++)
	{
		RowStream  *stream = &streams->streams[i];

		if (stream->rows != NULL)
			row_batch_end(stream->rows);
	}
	if (streams->pcxt != NULL)
	{
		WaitForParallelWorkersToFinish(streams->pcxt);
		DestroyParallelContext(streams->pcxt);
		ExitParallelMode();
	}
}
