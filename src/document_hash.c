/*-------------------------------------------------------------------------
 *
 * document_hash.c
 *	  The SHA-256 of a document that may be as large as PostgreSQL allows
 *	  a value to be (1 GB), without holding it in memory where that can
 *	  be avoided.
 *
 * What is read a slice at a time, and what cannot be:
 *
 * - a bytea value stored out of line and uncompressed (a column with
 *   STORAGE EXTERNAL, or a value that did not compress), passed as the
 *   column itself: the function gets the TOAST pointer, and each slice is
 *   fetched from the TOAST table by itself (detoast_attr_slice() reads
 *   only the chunks a slice covers);
 * - a large object: read through the server's large-object functions,
 *   with the caller's privileges on it, a slice per call.
 *
 * A compressed value cannot be: a slice of it can only be had by
 * decompressing everything before it, which for slice after slice would
 * cost the square of its size.  It is detoasted once, as a whole, and so
 * is any value that reached the function some other way (a literal, a
 * parameter, an expression's result): those are in memory already.  For
 * documents of hundreds of megabytes, a large object, or a column with
 * STORAGE EXTERNAL, is the way to keep the backend's memory small.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/heaptoast.h"
#include "fmgr.h"
#include "libpq/libpq-fs.h"
#include "miscadmin.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"

#include "document_hash.h"

/*
 * Bytes read at a time: 512 TOAST chunks, about 1 MB, so that a slice
 * ends where a chunk does and no chunk is fetched twice.
 */
#define DOCUMENT_SLICE (512 * TOAST_MAX_CHUNK_SIZE)

/* Is the value a TOAST pointer to data stored uncompressed? */
static bool
stored_uncompressed_out_of_line(struct varlena *value)
{
	struct varatt_external pointer;

	if (!VARATT_IS_EXTERNAL_ONDISK(value))
		return false;
	VARATT_EXTERNAL_GET_POINTER(pointer, value);
	return !VARATT_EXTERNAL_IS_COMPRESSED(pointer);
}

void
document_sha256(Datum document, uint8 digest[MC_HASH_LEN])
{
	struct varlena *value = (struct varlena *) DatumGetPointer(document);
	MemoryContext slice_cxt;
	MCSha256Stream *stream;
	int32		size;
	int32		offset;

	if (!stored_uncompressed_out_of_line(value))
	{
		bytea	   *whole = DatumGetByteaPP(document);

		mc_sha256(VARDATA_ANY(whole), VARSIZE_ANY_EXHDR(whole), digest);
		return;
	}

	size = (int32) (toast_raw_datum_size(document) - VARHDRSZ);
	slice_cxt = AllocSetContextCreate(CurrentMemoryContext, "medchain document slice",
									  ALLOCSET_DEFAULT_SIZES);
	stream = mc_sha256_stream_begin();
	for (offset = 0; offset < size; offset += DOCUMENT_SLICE)
	{
		MemoryContext old = MemoryContextSwitchTo(slice_cxt);
		bytea	   *slice = DatumGetByteaPSlice(document, offset,
												Min(DOCUMENT_SLICE, size - offset));

		CHECK_FOR_INTERRUPTS();
		mc_sha256_stream_add(stream, VARDATA_ANY(slice), VARSIZE_ANY_EXHDR(slice));
		MemoryContextSwitchTo(old);
		MemoryContextReset(slice_cxt);
	}
	mc_sha256_stream_finish(stream, digest);
	MemoryContextDelete(slice_cxt);
}

/*
 * Through the functions behind lo_open(), loread() and lo_close(), not inv_api.c's
 * directly: they register the descriptor, so that the end of the
 * transaction closes it and the catalog relations it opened, also after
 * an error.
 */
void
large_object_sha256(Oid loid, uint8 digest[MC_HASH_LEN])
{
	/* lo_open checks that the caller may read it */
	int32		fd = DatumGetInt32(DirectFunctionCall2(be_lo_open, ObjectIdGetDatum(loid),
													   Int32GetDatum(INV_READ)));
	MCSha256Stream *stream = mc_sha256_stream_begin();

	for (;;)
	{
		bytea	   *slice = DatumGetByteaPP(DirectFunctionCall2(be_loread, Int32GetDatum(fd),
																Int32GetDatum(DOCUMENT_SLICE)));

		CHECK_FOR_INTERRUPTS();
		if (VARSIZE_ANY_EXHDR(slice) == 0)
			break;
		mc_sha256_stream_add(stream, VARDATA_ANY(slice), VARSIZE_ANY_EXHDR(slice));
		pfree(slice);
	}
	mc_sha256_stream_finish(stream, digest);
	DirectFunctionCall1(be_lo_close, Int32GetDatum(fd));
}
