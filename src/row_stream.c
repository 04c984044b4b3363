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

void
row_record_of_slot(const LedgerRelation *ledger, TupleTableSlot *slot, bool with_v1,
				   StringInfo encoding, StringInfo key, RowRecord *record)
{
	slot_getallattrs(slot);
	row_hash_compute(encoding, ledger->row_layout, slot->tts_values, slot->tts_isnull,
					 MC_FORMAT_CURRENT, record->hash);
	if (with_v1)
	{
		if (ledger->differs_in_v1)
			row_hash_compute(encoding, ledger->row_layout, slot->tts_values,
							 slot->tts_isnull, MC_FORMAT_V1, record->hash_v1);
		else
		{
			encoding->data[1] = MC_FORMAT_V1;
			mc_sha256(encoding->data, encoding->len, record->hash_v1);
		}
	}
	resetStringInfo(key);
	row_key_text(key, ledger->key_layout, slot->tts_values, slot->tts_isnull);
	record->key = key->data;
	record->key_len = key->len;
	record->tid = slot->tts_tid;
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
	LedgerRelation *ledger;
	TableScanDesc scan;
	TupleTableSlot *slot;
	StringInfoData encoding;
	StringInfoData key;
	StringInfoData batch;
	MemoryContext rowcxt;
	OwnerScope	owner_scope;

	Assert(ParallelWorkerNumber < tables->count);
	shm_mq_set_sender(mq, MyProc);
	queue = shm_mq_attach(mq, seg, NULL);

	rel = table_open(table->relid, AccessShareLock);
	ledger = ledger_relation_get(rel);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	slot = table_slot_create(rel, NULL);
	initStringInfo(&encoding);
	initStringInfo(&key);
	initStringInfo(&batch);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "medchain row stream row",
								   ALLOCSET_DEFAULT_SIZES);

	/* the leader's settings are fixed already, and are this worker's */
	medchain_act_as_owner(rel->rd_rel->relowner, &owner_scope);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old = MemoryContextSwitchTo(rowcxt);
		RowRecord	record;

		CHECK_FOR_INTERRUPTS();
		heap_scan_prefetch_next(scan);
		row_record_of_slot(ledger, slot, table->with_v1, &encoding, &key, &record);
		batch_add(&batch, &record);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
		if (batch.len >= ROW_STREAM_BATCH_BYTES)
			send_batch(queue, &batch);
	}
	medchain_leave_owner(&owner_scope);
	if (batch.len > 0)
		send_batch(queue, &batch);
	send_batch(queue, &batch);	/* empty: the end */

	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* ---------- the backend ---------- */

static bool
worth_a_worker(Relation rel)
{
	return RelationGetNumberOfBlocks(rel) >= ROW_STREAM_MIN_PAGES;
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
		stream->ledger = ledger_relation_get(rels[i]);
		stream->with_v1 = with_v1[i];
		stream->owner = rels[i]->rd_rel->relowner;
		if (stream->queue == NULL)
		{
			stream->scan = table_beginscan(rels[i], snapshot, 0, NULL);
			stream->slot = table_slot_create(rels[i], NULL);
			initStringInfo(&stream->encoding);
			initStringInfo(&stream->key);
		}
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

/* The next row scanned here, as the owner of the table. */
static bool
next_scanned_row(RowStream *stream, RowRecord *record)
{
	OwnerScope	owner_scope;

	if (!table_scan_getnextslot(stream->scan, ForwardScanDirection, stream->slot))
		return false;
	heap_scan_prefetch_next(stream->scan);
	medchain_act_as_owner(stream->owner, &owner_scope);
	row_record_of_slot(stream->ledger, stream->slot, stream->with_v1,
					   &stream->encoding, &stream->key, record);
	medchain_leave_owner(&owner_scope);
	return true;
}

bool
row_stream_next(RowStream *stream, RowRecord *record)
{
	RowRecordHeader header;

	if (stream->done)
		return false;
	if (stream->queue == NULL)
	{
		if (!next_scanned_row(stream, record))
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

		if (stream->scan != NULL)
		{
			table_endscan(stream->scan);
			ExecDropSingleTupleTableSlot(stream->slot);
		}
	}
	if (streams->pcxt != NULL)
	{
		WaitForParallelWorkersToFinish(streams->pcxt);
		DestroyParallelContext(streams->pcxt);
		ExitParallelMode();
	}
}
