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
 * function
 * replaces, at planning, provenance(m) by provenance_of(m's table, m's
 * columns, one by one): the calls pass the column values the scan holds
 * already, the calls after the first compare them with the row just
 * answered, and only the first builds the row.
 *
 * Only a whole-row reference to a plain table without inheritance
 * children is replaced: a row value from anywhere else, or the row of a
 * parent, whose children's rows it may be, is passed as it is.  Reading
 * the whole row is still what the query asks permission for: that was
 * settled when it was parsed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
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
#include "utils/rel.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(medchain_provenance_support);

/* provenance_of(regclass, VARIADIC "any") beside provenance(), or InvalidOid. */
static Oid
provenance_of_function(Oid provenance)
{
	Oid			argtypes[2] = {REGCLASSOID, ANYOID};

	return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid,
						   CStringGetDatum("provenance_of"),
						   PointerGetDatum(buildoidvector(argtypes, 2)),
						   ObjectIdGetDatum(get_func_namespace(provenance)));
}

/*
 * provenance_of(relid, each column of row, in order) for the call of
 * provenance() on row, a whole-row reference to table relid; NULL if the
 * table has more columns than a call can pass.
 */
static Node *
provenance_of_call(FuncExpr *call, Oid function, Var *row, Oid relid)
{
	Relation	rel = table_open(relid, NoLock);	/* the query has it locked */
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *args = list_make1(makeConst(REGCLASSOID, -1, InvalidOid, sizeof(Oid),
											ObjectIdGetDatum(relid), false, true));
	FuncExpr   *result;
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		Var		   *column;

		if (attr->attisdropped)
			continue;
		column = makeVar(row->varno, attr->attnum, attr->atttypid, attr->atttypmod,
						 attr->attcollation, 0);
#if PG_VERSION_NUM >= 160000
		/* NULL where an outer join makes the row NULL */
		column->varnullingrels = bms_copy(row->varnullingrels);
#endif
		args = lappend(args, column);
	}
	table_close(rel, NoLock);
	if (list_length(args) > FUNC_MAX_ARGS)
		return NULL;
	result = makeFuncExpr(function, call->funcresulttype, args, InvalidOid, InvalidOid,
						  COERCE_EXPLICIT_CALL);
	result->location = call->location;
	return (Node *) result;
}

/*
 * medchain.provenance_support(internal) RETURNS internal
 *
 * provenance()'s planner support: simplifies provenance(t), t a whole-row
 * reference to a plain table of the query, to provenance_of(t's table,
 * t's columns).
 */
Datum
medchain_provenance_support(PG_FUNCTION_ARGS)
{
	Node	   *request = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *simplify;
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
	row = linitial_node(Var, call->args);
	if (row->varattno != InvalidAttrNumber || row->varlevelsup != 0 ||
		row->varno < 1 || row->varno > list_length(simplify->root->parse->rtable))
		PG_RETURN_POINTER(NULL);
	rte = rt_fetch(row->varno, simplify->root->parse->rtable);
	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION ||
		row->vartype != get_rel_type_id(rte->relid) ||
		(rte->inh && has_subclass(rte->relid)))
		PG_RETURN_POINTER(NULL);
	function = provenance_of_function(call->funcid);
	if (!OidIsValid(function))
		PG_RETURN_POINTER(NULL);
	PG_RETURN_POINTER(provenance_of_call(call, function, row, rte->relid));
}
