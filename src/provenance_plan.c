/*-------------------------------------------------------------------------
 *
 * provenance_plan.c
 *	  What the planner makes of provenance(t) for a table t of the query.
 *
 * An analyst writes
 *
 *	  SELECT m.*, (medchain.provenance(m)).* FROM cdm.measurement m WHERE ...
 *
 * and PostgreSQL expands (f(m)).* into one call of f per output column,
 * each with its own whole-row reference m, which the executor builds into
 * a row value anew at every call: twelve copies of every row, costlier
 * together than finding and checking its entry.  provenance()'s support
 * function replaces, at planning, provenance(m) by provenance_at(m's
 * table, m's ctid): the calls pass the row's address, the calls after the
 * first compare it with the row just answered, and the first reads the
 * row from its page, which the scan has just read, under the snapshot the
 * scan read it with.
 *
 * That is the row m only when m is a row of the table as the query's
 * snapshot sees it: in a SELECT that locks no rows (a locking one rereads
 * rows changed since the snapshot), of a plain table without inheritance
 * children (the row of a parent may be a child's).  Elsewhere provenance(m)
 * stays as it is.  Reading the whole row is still what the query asks
 * permission for: that was settled when it was parsed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(medchain_provenance_support);

/* provenance_at(regclass, tid) beside provenance(), or InvalidOid. */
static Oid
provenance_at_function(Oid provenance)
{
	Oid			argtypes[2] = {REGCLASSOID, TIDOID};

	return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid,
						   CStringGetDatum("provenance_at"),
						   PointerGetDatum(buildoidvector(argtypes, 2)),
						   ObjectIdGetDatum(get_func_namespace(provenance)));
}

/* provenance_at(relid, row's ctid) for the call of provenance() on row. */
static Node *
provenance_at_call(FuncExpr *call, Oid function, Var *row, Oid relid)
{
	Var		   *ctid = makeVar(row->varno, SelfItemPointerAttributeNumber, TIDOID, -1,
							   InvalidOid, 0);
	FuncExpr   *result;

#if PG_VERSION_NUM >= 160000
	/* NULL where an outer join makes the row NULL */
	ctid->varnullingrels = bms_copy(row->varnullingrels);
#endif
	result = makeFuncExpr(function, call->funcresulttype,
						  list_make2(makeConst(REGCLASSOID, -1, InvalidOid, sizeof(Oid),
											   ObjectIdGetDatum(relid), false, true),
									 ctid),
						  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	result->location = call->location;
	return (Node *) result;
}

/*
 * medchain.provenance_support(internal) RETURNS internal
 *
 * provenance()'s planner support: simplifies provenance(t), t a whole-row
 * reference to a plain table of a SELECT that locks no rows, to
 * provenance_at(t's table, t's ctid).
 */
Datum
medchain_provenance_support(PG_FUNCTION_ARGS)
{
	Node	   *request = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *simplify;
	Query	   *query;
	FuncExpr   *call;
	Var		   *row;
	RangeTblEntry *rte;
	Oid			function;

	if (!IsA(request, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	simplify = (SupportRequestSimplify *) request;
	call = simplify->fcall;
	if (simplify->root == NULL || list_length(call->args) != 1 ||
		!IsA(linitial(call->args), Var))
		PG_RETURN_POINTER(NULL);
	query = simplify->root->parse;
	if (query->commandType != CMD_SELECT || query->rowMarks != NIL)
		PG_RETURN_POINTER(NULL);
	row = linitial_node(Var, call->args);
	if (row->varattno != InvalidAttrNumber || row->varlevelsup != 0 ||
		row->varno < 1 || row->varno > list_length(query->rtable))
		PG_RETURN_POINTER(NULL);
	rte = rt_fetch(row->varno, query->rtable);
	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION ||
		row->vartype != get_rel_type_id(rte->relid) ||
		(rte->inh && has_subclass(rte->relid)))
		PG_RETURN_POINTER(NULL);
	function = provenance_at_function(call->funcid);
	if (!OidIsValid(function))
		PG_RETURN_POINTER(NULL);
	PG_RETURN_POINTER(provenance_at_call(call, function, row, rte->relid));
}
