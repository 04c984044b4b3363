/*-------------------------------------------------------------------------
 *
 * row_stream.h
 *	  The rows of ledger tables in heap order, each as its key text and
 *	  row hashes, computed by parallel workers where the server can spare
 *	  them, else by this backend.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_ROW_STREAM_H
#define MEDCHAIN_ROW_STREAM_H

#include "postgres.h"

#include "access/tableam.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "storage/shm_mq.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

#include "ledger_cache.h"
#include "sha256.h"

/* What the stream says of one row; key points into the stream's buffers. */
typedef struct RowRecord
{
	uint8		hash[MC_HASH_LEN];	/* of its encoding in the current format */
	uint8		hash_v1[MC_HASH_LEN];	/* format version 1, when asked for */
	ItemPointerData tid;
	const char *key;			/* canonical text of its row key, UTF-8 */
	uint32		key_len;
} RowRecord;

typedef struct RowBatch RowBatch;

typedef struct RowStream
{
	Relation	rel;
	bool		with_v1;		/* also hash each row in format version 1 */
	/* fed by a worker */
	shm_mq_handle *queue;
	const char *batch;
	Size		batch_len;
	Size		batch_next;
	/* or scanned here, a batch of rows at a time */
	RowBatch   *rows;
	bool		done;
} RowStream;

typedef struct RowStreams
{
	struct ParallelContext *pcxt;	/* NULL when no worker was launched */
	int			count;
	RowStream  *streams;
} RowStreams;

/*
 * Streams of rels' rows, all read with snapshot, under value settings
 * the caller has fixed (medchain_value_settings_fix).  Put the largest
 * tables first: they get the workers.
 */
extern RowStreams *row_streams_open(Relation *rels, const bool *with_v1, int count,
									Snapshot snapshot);
extern bool row_stream_next(RowStream *stream, RowRecord *record);
extern void row_streams_close(RowStreams *streams);

#endif							/* MEDCHAIN_ROW_STREAM_H */
