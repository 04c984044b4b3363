/*-------------------------------------------------------------------------
 *
 * row_stream.c
 *	  Row hashes of ledger tables, in heap order, for verify().
 *
 * Hashing every row is about half of what verify() does; the other half,
 * re-hashing the journal and its Merkle trees, depends on the rows only
 * where the two meet.  So each table's sequential scan runs in a parallel
 * worker of its own where one can be had: the worker hashes the rows and
 * sends (row_hash, tid) in batches through a shared-memory queue, and the
 * backend pairs them with entries as they arrive.  Parallel workers share
 * the backend's snapshot and transaction, so they see exactly the rows
 * the backend would.  Without workers (none free, or
 * max_parallel_workers_per_gather = 0, or a small table) the backend scans
 * the table itself; the stream looks the same either way.
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

#include "row_encoding.h"
#include "row_stream.h"

/* keys of the shared-memory table of contents */
#define ROW_STREAM_KEY_TABLES	UINT64CONST(0x4D43000000000001)
#define ROW_STREAM_KEY_QUEUES	UINT64CONST(0x4D43000000000002)

#define ROW_STREAM_QUEUE_SIZE	(1024 * 1024)
#define ROW_STREAM_BATCH_ROWS	512

/* Tables smaller than this are scanned here: a worker costs a few ms. */
#define ROW_STREAM_MIN_PAGES	1024

typedef struct RowStreamTables
{
	int			count;
	Oid			relids[FLEXIBLE_ARRAY_MEMBER];
} RowStreamTables;

PGDLLEXPORT void medchain_row_stream_worker(dsm_segment *seg, shm_toc *toc);

void
row_hash_of_slot(const LedgerRelation *ledger, TupleTableSlot *slot, StringInfo buf,
				 uint8 row_hash[MC_HASH_LEN])
{
	slot_getallattrs(slot);
	row_hash_compute(buf, ledger->row_layout, slot->tts_values, slot->tts_isnull, row_hash);
}

/* ---------- the worker ---------- */

static void
send_batch(shm_mq_handle *queue, RowHashRecord *batch, Size rows)
{
	if (shm_mq_send(queue, sizeof(RowHashRecord) * rows, batch, false, true) != SHM_MQ_SUCCESS)
		ereport(ERROR,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("verify() stopped reading the row hashes"),
				 errdetail("The backend running verify() went away."),
				 errhint("Run verify() again.")));
}

void
medchain_row_stream_worker(dsm_segment *seg, shm_toc *toc)
{
	RowStreamTables *tables = shm_toc_lookup(toc, ROW_STREAM_KEY_TABLES, false);
	char	   *queues = shm_toc_lookup(toc, ROW_STREAM_KEY_QUEUES, false);
	shm_mq	   *mq = (shm_mq *) (queues + (Size) ParallelWorkerNumber * ROW_STREAM_QUEUE_SIZE);
	shm_mq_handle *queue;
	Relation	rel;
	LedgerRelation *ledger;
	TableScanDesc scan;
	TupleTableSlot *slot;
	StringInfoData encoding;
	RowHashRecord batch[ROW_STREAM_BATCH_ROWS];
	Size		rows = 0;
	MemoryContext rowcxt;

	Assert(ParallelWorkerNumber < tables->count);
	shm_mq_set_sender(mq, MyProc);
	queue = shm_mq_attach(mq, seg, NULL);

	rel = table_open(tables->relids[ParallelWorkerNumber], AccessShareLock);
	ledger = ledger_relation_get(rel);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	slot = table_slot_create(rel, NULL);
	initStringInfo(&encoding);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "medchain row stream row",
								   ALLOCSET_DEFAULT_SIZES);

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old = MemoryContextSwitchTo(rowcxt);

		CHECK_FOR_INTERRUPTS();
		row_hash_of_slot(ledger, slot, &encoding, batch[rows].row_hash);
		batch[rows].tid = slot->tts_tid;
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
		if (++rows == ROW_STREAM_BATCH_ROWS)
		{
			send_batch(queue, batch, rows);
			rows = 0;
		}
	}
	if (rows > 0)
		send_batch(queue, batch, rows);
	send_batch(queue, batch, 0);	/* the end */

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
launch_workers(RowStreams *streams, Relation *rels)
{
	int			wanted = 0;
	int			i;
	ParallelContext *pcxt;
	RowStreamTables *tables;
	char	   *queues;

	/* workers take the tables in order: the large ones come first */
	for (i = 0; i < streams->count && worth_a_worker(rels[i]); i++)
		wanted++;
	wanted = Min(wanted, max_parallel_workers_per_gather);
	if (wanted == 0)
		return;

	EnterParallelMode();
	pcxt = CreateParallelContext("medchain", "medchain_row_stream_worker", wanted);
	shm_toc_estimate_chunk(&pcxt->estimator,
						   offsetof(RowStreamTables, relids) + sizeof(Oid) * wanted);
	shm_toc_estimate_chunk(&pcxt->estimator, (Size) ROW_STREAM_QUEUE_SIZE * wanted);
	shm_toc_estimate_keys(&pcxt->estimator, 2);
	InitializeParallelDSM(pcxt);

	tables = shm_toc_allocate(pcxt->toc, offsetof(RowStreamTables, relids) + sizeof(Oid) * wanted);
	tables->count = wanted;
	queues = shm_toc_allocate(pcxt->toc, (Size) ROW_STREAM_QUEUE_SIZE * wanted);
	for (i = 0; i < wanted; i++)
	{
		tables->relids[i] = RelationGetRelid(rels[i]);
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

/*
 * Streams of the row hashes of rels, all read with snapshot.  Put the
 * largest tables first: they get the workers.
 */
RowStreams *
row_streams_open(Relation *rels, int count, Snapshot snapshot)
{
	RowStreams *streams = palloc0(sizeof(RowStreams));
	int			i;

	streams->count = count;
	streams->streams = palloc0(sizeof(RowStream) * Max(count, 1));
	if (!IsInParallelMode())
		launch_workers(streams, rels);

	for (i = 0; i < count; i++)
	{
		RowStream  *stream = &streams->streams[i];

		stream->rel = rels[i];
		stream->ledger = ledger_relation_get(rels[i]);
		stream->snapshot = snapshot;
		stream->slot = table_slot_create(rels[i], NULL);
		initStringInfo(&stream->encoding);
		if (stream->queue == NULL)
			stream->scan = table_beginscan(rels[i], snapshot, 0, NULL);
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
	stream->batch_rows = nbytes / sizeof(RowHashRecord);
	stream->batch_next = 0;
	return nbytes > 0;
}

bool
row_stream_next(RowStream *stream, uint8 row_hash[MC_HASH_LEN])
{
	if (stream->done)
		return false;
	stream->slot_current = false;
	if (stream->queue == NULL)
	{
		if (!table_scan_getnextslot(stream->scan, ForwardScanDirection, stream->slot))
		{
			stream->done = true;
			return false;
		}
		row_hash_of_slot(stream->ledger, stream->slot, &stream->encoding, row_hash);
		stream->current = stream->slot->tts_tid;
		stream->slot_current = true;
		return true;
	}
	if (stream->batch_next == stream->batch_rows && !next_batch(stream))
	{
		stream->done = true;
		return false;
	}
	memcpy(row_hash, stream->batch[stream->batch_next].row_hash, MC_HASH_LEN);
	stream->current = stream->batch[stream->batch_next].tid;
	stream->batch_next++;
	return true;
}

/* The values of the row last returned: a worker sent only its hash. */
TupleTableSlot *
row_stream_current_row(RowStream *stream)
{
	if (!stream->slot_current)
	{
		if (!table_tuple_fetch_row_version(stream->rel, &stream->current,
										   stream->snapshot, stream->slot))
			elog(ERROR, "row of %s vanished during verification",
				 RelationGetRelationName(stream->rel));
		slot_getallattrs(stream->slot);
		stream->slot_current = true;
	}
	return stream->slot;
}

void
row_streams_close(RowStreams *streams)
{
	int			i;

	for (i = 0; i < streams->count; i++)
	{
		RowStream  *stream = &streams->streams[i];

		if (stream->scan != NULL)
			table_endscan(stream->scan);
		ExecDropSingleTupleTableSlot(stream->slot);
	}
	if (streams->pcxt != NULL)
	{
		WaitForParallelWorkersToFinish(streams->pcxt);
		DestroyParallelContext(streams->pcxt);
		ExitParallelMode();
	}
}
