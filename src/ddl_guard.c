/*-------------------------------------------------------------------------
 *
 * ddl_guard.c
 *	  Event triggers that refuse DDL which would change recorded rows or
 *	  break their verification.
 *
 * medchain.guard_ddl() runs at ddl_command_start and reads the parse tree,
 * so it can tell ADD COLUMN with a default (which rewrites what existing
 * rows hash to) from a harmless nullable ADD COLUMN, and refuse before any
 * work is done.  medchain.guard_drop() runs at sql_drop and sees every
 * object a command dropped, however it got there (DROP TABLE, DROP SCHEMA
 * ... CASCADE, DROP OWNED, a cascading DROP TYPE), and aborts the command
 * if a ledger table or one of its columns is among them.
 *
 * A partition of a ledger table is guarded as the ledger table is where
 * it matters (its triggers, DETACH, DROP, rules, SET UNLOGGED), and
 * medchain.adopt_partition(), at ddl_command_end, gives a table that has
 * just become a partition of one what the server does not clone onto it.
 *
 * All three are ENABLE ALWAYS, so session_replication_role = replica does
 * not switch them off.  A superuser can still disable them: the guards keep
 * honest mistakes out, and verification catches the rest.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "access/relation.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "ledger_cache.h"
#include "partitions.h"
#include "registry.h"
#include "security_scope.h"
#include "triggers.h"

PG_FUNCTION_INFO_V1(medchain_guard_ddl);
PG_FUNCTION_INFO_V1(medchain_guard_drop);
PG_FUNCTION_INFO_V1(medchain_adopt_partition);

static void
refuse(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot %s", what),
			 errdetail("Recorded rows are verified against the ledger table's current definition; this change would alter or break that."),
			 errhint("Release the table with medchain.disable() first if the change is intended.")));
}

/*
 * The extension may be half-created or being dropped: then guard nothing.
 * Nor while medchain's own update script runs: it replaces the triggers
 * of ledger tables with those of the new version.
 */
static bool
registry_present(void)
{
	Oid			nsp = get_namespace_oid("medchain", true);

	if (creating_extension && CurrentExtensionObject == get_extension_oid("medchain", true))
		return false;
	return OidIsValid(nsp) &&
		OidIsValid(get_relname_relid("ledger_registry", nsp));
}

static char *
relation_display_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

static Oid
ledger_from_rangevar(RangeVar *rv)
{
	Oid			relid;

	if (rv == NULL)
		return InvalidOid;
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(relid) ||
		!(registry_active(relid, NULL) || registry_history_owner(relid, NULL, NULL)))
		return InvalidOid;
	return relid;
}

/*
 * A versioned table and its history table must keep the same columns: a
 * replaced version is copied as it is, and hashed as its table's row.
 */
static bool
keeps_versions(Oid relid)
{
	Registration reg;

	return (registry_active(relid, &reg) && reg.versioned) ||
		registry_history_owner(relid, NULL, NULL);
}

/*
 * The table a RangeVar names if it is a ledger table or a partition of one
 * (with *ledger set to the ledger table), else InvalidOid.
 */
static Oid
guarded_from_rangevar(RangeVar *rv, Oid *ledger)
{
	Oid			relid;

	if (rv == NULL)
		return InvalidOid;
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(relid))
		return InvalidOid;
	/* a history table is guarded as its ledger table is */
	*ledger = registry_active(relid, NULL) || registry_history_owner(relid, NULL, NULL) ?
		relid : partition_ledger(relid);
	return OidIsValid(*ledger) ? relid : InvalidOid;
}

/* "ledger table X", or "partition X of ledger table Y", for refusals. */
static char *
guarded_name(Oid relid, Oid ledger)
{
	if (relid == ledger)
		return psprintf("ledger table %s", relation_display_name(relid));
	return psprintf("partition %s of ledger table %s", relation_display_name(relid),
					relation_display_name(ledger));
}

/* ---------- types that ledger tables use ---------- */

/*
 * Does a value of type typid contain a value of type target: directly, as
 * a domain's base, an array's element, a composite's attribute, a range's
 * subtype or a multirange's range, at any depth?
 */
static bool
type_contains(Oid typid, Oid target)
{
	HeapTuple	tuple;
	Form_pg_type typ;
	bool		found = false;

	check_stack_depth();
	if (typid == target)
		return true;
	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tuple))
		return false;
	typ = (Form_pg_type) GETSTRUCT(tuple);
	if (typ->typtype == TYPTYPE_DOMAIN)
		found = type_contains(typ->typbasetype, target);
	else if (OidIsValid(typ->typelem) && IsTrueArrayType(typ))
		found = type_contains(typ->typelem, target);
	else if (typ->typtype == TYPTYPE_COMPOSITE && OidIsValid(typ->typrelid))
	{
		Relation	rel = relation_open(typ->typrelid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		int			i;

		for (i = 0; i < desc->natts && !found; i++)
		{
			Form_pg_attribute attr = TupleDescAttr(desc, i);

			if (!attr->attisdropped)
				found = type_contains(attr->atttypid, target);
		}
		relation_close(rel, AccessShareLock);
	}
	else if (typ->typtype == TYPTYPE_RANGE)
		found = type_contains(get_range_subtype(typid), target);
	else if (typ->typtype == TYPTYPE_MULTIRANGE)
		found = type_contains(get_multirange_range(typid), target);
	ReleaseSysCache(tuple);
	return found;
}

/* A ledger table with a column whose values contain type target, or NULL. */
static char *
ledger_using_type(Oid target)
{
	ListCell   *lc;

	foreach(lc, registry_active_list(NULL, InvalidOid))
	{
		Registration *row = lfirst(lc);
		Relation	rel = relation_open(row->relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		bool		uses = false;
		int			i;

		for (i = 0; i < desc->natts && !uses; i++)
		{
			Form_pg_attribute attr = TupleDescAttr(desc, i);

			if (!attr->attisdropped)
				uses = type_contains(attr->atttypid, target);
		}
		relation_close(rel, AccessShareLock);
		if (uses)
			return row->relation;
	}
	return NULL;
}

/*
 * A change of a type's definition changes what recorded values of it
 * encode to: refuse it when a ledger table holds such values.
 */
static void
guard_type_change(Oid typid, const char *what)
{
	char	   *relation;

	if (OidIsValid(typid) && (relation = ledger_using_type(typid)) != NULL)
		refuse(psprintf("%s type %s, whose values ledger table %s holds",
						what, format_type_be(typid), relation));
}

/* The row type of a composite type named by a RangeVar. */
static Oid
composite_type_of(RangeVar *rv)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);

	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_COMPOSITE_TYPE)
		return InvalidOid;
	return get_rel_type_id(relid);
}

/* ---------- ALTER TABLE ---------- */

static bool
type_name_is_serial(TypeName *typeName)
{
	const char *name = strVal(llast(typeName->names));

	return list_length(typeName->names) == 1 &&
		(strcmp(name, "smallserial") == 0 || strcmp(name, "serial2") == 0 ||
		 strcmp(name, "serial") == 0 || strcmp(name, "serial4") == 0 ||
		 strcmp(name, "bigserial") == 0 || strcmp(name, "serial8") == 0);
}

/*
 * A new column keeps existing rows' hashes only if it reads as NULL in
 * them: no default (its own or its domain's), not NOT NULL, not identity
 * or generated.
 */
static bool
added_column_keeps_hashes(ColumnDef *def)
{
	ListCell   *lc;
	Type		type;

	if (def->raw_default != NULL || def->cooked_default != NULL ||
		def->is_not_null || def->identity || def->generated)
		return false;
	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		if (con->contype == CONSTR_DEFAULT || con->contype == CONSTR_NOTNULL ||
			con->contype == CONSTR_IDENTITY || con->contype == CONSTR_GENERATED ||
			con->contype == CONSTR_PRIMARY)
			return false;
	}
	if (type_name_is_serial(def->typeName))
		return false;
	type = LookupTypeName(NULL, def->typeName, NULL, true);
	if (type != NULL)
	{
		Oid			typid = typeTypeId(type);

		ReleaseSysCache(type);
		if (get_typdefault(typid) != NULL)
			return false;
	}
	return true;
}

static bool
constraint_is_key(Oid relid, const char *conname)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Oid			keyindex = ledger_key_index(rel);
	Oid			conoid = OidIsValid(keyindex) ? get_index_constraint(keyindex) : InvalidOid;
	bool		result;

	table_close(rel, AccessShareLock);
	result = OidIsValid(conoid) && strcmp(get_constraint_name(conoid), conname) == 0;
	return result;
}

/* DETACH PARTITION, which would take a partition's rows out of the ledger. */
static void
guard_detach(const char *table, AlterTableCmd *cmd)
{
	RangeVar   *rv = castNode(PartitionCmd, cmd->def)->name;
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);

	refuse(psprintf("detach partition %s from %s",
					OidIsValid(relid) ? relation_display_name(relid) : rv->relname, table));
}

/*
 * One command of ALTER TABLE on a ledger table or a partition of one;
 * table says which (guarded_name).
 */
static void
guard_alter_table_cmd(Oid relid, Oid ledger, const char *table, AlterTableCmd *cmd)
{
	if (cmd->subtype == AT_AddColumn && keeps_versions(relid))
		refuse(psprintf("add column \"%s\" to %s, whose versions a history table keeps",
						castNode(ColumnDef, cmd->def)->colname, table));
	switch (cmd->subtype)
	{
		case AT_DropColumn:
			refuse(psprintf("drop column \"%s\" of %s", cmd->name, table));
			break;
		case AT_AlterColumnType:
			refuse(psprintf("change the type of column \"%s\" of %s", cmd->name, table));
			break;
		case AT_AddColumn:
			if (!added_column_keeps_hashes(castNode(ColumnDef, cmd->def)))
				refuse(psprintf("add column \"%s\" with a default, NOT NULL, identity or generation to %s",
								castNode(ColumnDef, cmd->def)->colname, table));
			break;
		case AT_EnableTrig:
		case AT_EnableReplicaTrig:
		case AT_DisableTrig:
			if (is_medchain_trigger_name(cmd->name))
				refuse(psprintf("change trigger \"%s\" of %s", cmd->name, table));
			break;
		case AT_EnableTrigAll:
		case AT_EnableTrigUser:
		case AT_DisableTrigAll:
		case AT_DisableTrigUser:
			refuse(psprintf("change all triggers of %s", table));
			break;
		case AT_SetUnLogged:
			refuse(psprintf("make %s unlogged", table));
			break;
		case AT_ReplicaIdentity:
			/* a partition's does not name the ledger's rows */
			if (relid == ledger)
				refuse(psprintf("change the replica identity of %s", table));
			break;
		case AT_DropConstraint:
			if (constraint_is_key(relid, cmd->name))
				refuse(psprintf("drop key constraint \"%s\" of %s", cmd->name, table));
			break;
		case AT_DetachPartition:
		case AT_DetachPartitionFinalize:
			guard_detach(table, cmd);
			break;
		default:
			break;
	}
}

/*
 * A ledger table cannot become a partition: a partition's rows are
 * recorded in the ledger of its partitioned table, and a table enabled on
 * its own would have two ledgers, or none for the rows routed into it.
 */
static void
guard_attach_partition(AlterTableCmd *cmd)
{
	Oid			relid;

	if (cmd->subtype != AT_AttachPartition)
		return;
	relid = ledger_from_rangevar(castNode(PartitionCmd, cmd->def)->name);
	if (OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot attach ledger table %s as a partition",
						relation_display_name(relid)),
				 errdetail("A partition's rows are recorded in the ledger of its partitioned table, not in a ledger of its own."),
				 errhint("Release it with medchain.disable() first.  Attached to a ledger table, its rows are recorded in that table's ledger; otherwise enable the partitioned table.")));
}

static void
guard_alter_table(AlterTableStmt *stmt)
{
	Oid			relid;
	Oid			ledger;
	char	   *table;
	ListCell   *lc;

	/* ALTER TYPE ... ADD, DROP or ALTER ATTRIBUTE of a composite type */
	if (stmt->objtype == OBJECT_TYPE)
	{
		guard_type_change(composite_type_of(stmt->relation), "change the attributes of");
		return;
	}
	foreach(lc, stmt->cmds)
		guard_attach_partition(lfirst_node(AlterTableCmd, lc));
	relid = guarded_from_rangevar(stmt->relation, &ledger);
	if (!OidIsValid(relid))
		return;
	table = guarded_name(relid, ledger);
	foreach(lc, stmt->cmds)
		guard_alter_table_cmd(relid, ledger, table, lfirst_node(AlterTableCmd, lc));
}

/* ---------- RENAME, SET SCHEMA, ALTER TYPE ---------- */

static void
guard_rename(RenameStmt *stmt)
{
	Oid			relid;
	Oid			ledger;

	switch (stmt->renameType)
	{
		case OBJECT_TABLE:
			if (OidIsValid(relid = ledger_from_rangevar(stmt->relation)))
				refuse(psprintf("rename ledger table %s", relation_display_name(relid)));
			break;
		case OBJECT_COLUMN:
			if (OidIsValid(relid = ledger_from_rangevar(stmt->relation)))
				refuse(psprintf("rename column \"%s\" of ledger table %s",
								stmt->subname, relation_display_name(relid)));
			break;
		case OBJECT_TRIGGER:
			if (is_medchain_trigger_name(stmt->subname) &&
				OidIsValid(relid = guarded_from_rangevar(stmt->relation, &ledger)))
				refuse(psprintf("rename trigger \"%s\" of %s",
								stmt->subname, guarded_name(relid, ledger)));
			break;
		case OBJECT_ATTRIBUTE:
			guard_type_change(composite_type_of(stmt->relation), "rename an attribute of");
			break;
		case OBJECT_SCHEMA:
			{
				Oid			nsp = get_namespace_oid(stmt->subname, true);

				if (OidIsValid(nsp) && registry_has_ledger_in_schema(nsp))
					refuse(psprintf("rename schema \"%s\", which holds ledger tables",
									stmt->subname));
			}
			break;
		default:
			break;
	}
}

static void
guard_set_schema(AlterObjectSchemaStmt *stmt)
{
	Oid			relid;

	if (stmt->objectType == OBJECT_TABLE &&
		OidIsValid(relid = ledger_from_rangevar(stmt->relation)))
		refuse(psprintf("move ledger table %s to another schema",
						relation_display_name(relid)));
}

/* ALTER TYPE ... RENAME VALUE; adding a label changes no stored value. */
static void
guard_alter_enum(AlterEnumStmt *stmt)
{
	if (stmt->oldVal != NULL)
		guard_type_change(typenameTypeId(NULL, makeTypeNameFromNameList(stmt->typeName)),
						  "rename a label of enum");
}

/* ---------- DROP (what ddl_command_start can see by name) ---------- */

static void
guard_drop_trigger(List *names)
{
	List	   *relname = list_truncate(list_copy(names), list_length(names) - 1);
	const char *trigname = strVal(llast(names));
	Oid			relid;
	Oid			ledger;

	if (is_medchain_trigger_name(trigname) &&
		OidIsValid(relid = guarded_from_rangevar(makeRangeVarFromNameList(relname), &ledger)))
		refuse(psprintf("drop trigger \"%s\" of %s", trigname, guarded_name(relid, ledger)));
}

/*
 * DROP TABLE of a partition of a ledger table, which would take its rows
 * out of the ledger; a ledger table itself is guard_drop()'s.
 */
static void
guard_drop_partition(List *names)
{
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);
	Oid			ledger = OidIsValid(relid) ? partition_ledger(relid) : InvalidOid;

	if (OidIsValid(ledger))
		refuse(psprintf("drop %s", guarded_name(relid, ledger)));
}

static void
guard_drop_index(List *names)
{
	Oid			indexoid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);
	Oid			relid;
	Relation	rel;
	bool		is_key;

	if (!OidIsValid(indexoid) || get_rel_relkind(indexoid) != RELKIND_INDEX)
		return;
	relid = IndexGetRelation(indexoid, true);
	if (!OidIsValid(relid) || !registry_active(relid, NULL))
		return;
	rel = table_open(relid, AccessShareLock);
	is_key = ledger_key_index(rel) == indexoid;
	table_close(rel, AccessShareLock);
	if (is_key)
		refuse(psprintf("drop key index \"%s\" of ledger table %s",
						get_rel_name(indexoid), relation_display_name(relid)));
}

static void
guard_drop_schema(const char *name)
{
	Oid			nsp = get_namespace_oid(name, true);
	Oid			part;

	if (strcmp(name, "medchain") == 0 && registry_has_any_ledger())
		refuse("drop schema \"medchain\" while ledger tables are enabled");
	if (OidIsValid(nsp) && registry_has_ledger_in_schema(nsp))
		refuse(psprintf("drop schema \"%s\", which holds ledger tables", name));
	if (OidIsValid(nsp) && OidIsValid(part = ledger_partition_in_schema(nsp)))
		refuse(psprintf("drop schema \"%s\", which holds %s", name,
						guarded_name(part, partition_ledger(part))));
}

/* DROP OWNED of a role that owns a partition of a ledger table */
static void
guard_drop_owned(DropOwnedStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->roles)
	{
		RoleSpec   *role = lfirst_node(RoleSpec, lc);
		Oid			roleid = get_rolespec_oid(role, true);
		Oid			part;

		if (OidIsValid(roleid) && OidIsValid(part = ledger_partition_owned_by(roleid)))
			refuse(psprintf("drop the objects owned by role %s, among them %s",
							get_rolespec_name(role), guarded_name(part, partition_ledger(part))));
	}
}

static void
guard_drop(DropStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		switch (stmt->removeType)
		{
			case OBJECT_TRIGGER:
				guard_drop_trigger(lfirst_node(List, lc));
				break;
			case OBJECT_INDEX:
				guard_drop_index(lfirst_node(List, lc));
				break;
			case OBJECT_TABLE:
				guard_drop_partition(lfirst_node(List, lc));
				break;
			case OBJECT_SCHEMA:
				guard_drop_schema(strVal(lfirst(lc)));
				break;
			case OBJECT_EXTENSION:
				if (strcmp(strVal(lfirst(lc)), "medchain") == 0 &&
					registry_has_any_ledger())
					refuse("drop extension medchain while ledger tables are enabled");
				break;
			default:
				break;
		}
	}
}

/* A DO INSTEAD rule could divert inserts away from the row trigger. */
static void
guard_create_rule(RuleStmt *stmt)
{
	Oid			ledger;
	Oid			relid = guarded_from_rangevar(stmt->relation, &ledger);

	if (OidIsValid(relid))
		refuse(psprintf("create rule \"%s\" on %s", stmt->rulename,
						guarded_name(relid, ledger)));
}

/*
 * medchain.guard_ddl(): ddl_command_start event trigger.
 */
Datum
medchain_guard_ddl(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Node	   *parsetree;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function medchain.guard_ddl() must be called as an event trigger"),
				 errdetail("It guards ledger tables against DDL."),
				 errhint("Do not call it directly.")));
	if (!registry_present())
		PG_RETURN_VOID();

	trigdata = (EventTriggerData *) fcinfo->context;
	parsetree = trigdata->parsetree;
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			guard_alter_table((AlterTableStmt *) parsetree);
			break;
		case T_RenameStmt:
			guard_rename((RenameStmt *) parsetree);
			break;
		case T_AlterObjectSchemaStmt:
			guard_set_schema((AlterObjectSchemaStmt *) parsetree);
			break;
		case T_AlterEnumStmt:
			guard_alter_enum((AlterEnumStmt *) parsetree);
			break;
		case T_DropStmt:
			guard_drop((DropStmt *) parsetree);
			break;
		case T_RuleStmt:
			guard_create_rule((RuleStmt *) parsetree);
			break;
		case T_DropOwnedStmt:
			guard_drop_owned((DropOwnedStmt *) parsetree);
			break;
		default:
			break;
	}
	PG_RETURN_VOID();
}

/* ---------- partitions that join a ledger (ddl_command_end) ---------- */

/* The table rv names, if it is now a partition of a ledger table. */
static void
adopt_if_partition(RangeVar *rv, bool attached)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	Oid			ledger = OidIsValid(relid) ? partition_ledger(relid) : InvalidOid;

	if (OidIsValid(ledger))
		partition_adopt(ledger, relid, attached);
}

/* CREATE TABLE ... PARTITION OF, in schema `schema` if its name has none */
static void
adopt_if_created_partition(CreateStmt *stmt, const char *schema)
{
	RangeVar   *rv;

	if (stmt->partbound == NULL)
		return;
	rv = copyObject(stmt->relation);
	if (rv->schemaname == NULL && schema != NULL)
		rv->schemaname = pstrdup(schema);
	adopt_if_partition(rv, false);
}

/*
 * medchain.adopt_partition(): ddl_command_end event trigger.  A table
 * created as a partition of a ledger table, or attached to one, gets what
 * the server does not clone onto it (partitions.c); an attached table's
 * rows are recorded.  The partition exists now, so it is checked as
 * enable() checks partitions, and an error undoes the command.
 */
Datum
medchain_adopt_partition(PG_FUNCTION_ARGS)
{
	Node	   *parsetree;
	ListCell   *lc;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function medchain.adopt_partition() must be called as an event trigger"),
				 errdetail("It gives new partitions of ledger tables their triggers."),
				 errhint("Do not call it directly.")));
	if (!registry_present())
		PG_RETURN_VOID();

	parsetree = ((EventTriggerData *) fcinfo->context)->parsetree;
	if (IsA(parsetree, CreateStmt))
		adopt_if_created_partition((CreateStmt *) parsetree, NULL);
	else if (IsA(parsetree, CreateSchemaStmt))
	{
		/* CREATE SCHEMA s CREATE TABLE t PARTITION OF ... fires once, as CREATE SCHEMA */
		CreateSchemaStmt *stmt = (CreateSchemaStmt *) parsetree;
		const char *schema = stmt->schemaname != NULL ? stmt->schemaname :
			get_rolespec_name(stmt->authrole);

		foreach(lc, stmt->schemaElts)
		{
			if (IsA(lfirst(lc), CreateStmt))
				adopt_if_created_partition(lfirst_node(CreateStmt, lc), schema);
		}
	}
	else if (IsA(parsetree, AlterTableStmt))
	{
		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->subtype == AT_AttachPartition)
				adopt_if_partition(castNode(PartitionCmd, cmd->def)->name, true);
		}
	}
	PG_RETURN_VOID();
}

/*
 * medchain.guard_drop(): sql_drop event trigger.  The dropped objects are
 * already gone from the catalogs, but the registry still has their OIDs.
 * The registry is read directly: its row-level security must not hide a
 * ledger table from someone who drops it with its schema.
 */
Datum
medchain_guard_drop(PG_FUNCTION_ARGS)
{
	List	   *ledgers;
	ListCell   *lc;
	uint64		i;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function medchain.guard_drop() must be called as an event trigger"),
				 errdetail("It guards ledger tables against DROP."),
				 errhint("Do not call it directly.")));
	if (!registry_present())
		PG_RETURN_VOID();
	ledgers = registry_active_list(NULL, InvalidOid);
	if (ledgers == NIL)
		PG_RETURN_VOID();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	medchain_spi_execute("SELECT d.objid, d.objsubid, d.object_identity"
						 " FROM pg_catalog.pg_event_trigger_dropped_objects() d"
						 " WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
						 " ORDER BY d.objsubid",
						 0, NULL, NULL, true, 0, SPI_OK_SELECT, -1);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Oid			objid = DatumGetObjectId(SPI_getbinval(tuple, desc, 1, &isnull));
		int32		objsubid = DatumGetInt32(SPI_getbinval(tuple, desc, 2, &isnull));

		foreach(lc, ledgers)
		{
			Registration *row = lfirst(lc);

			if (OidIsValid(row->history_relid) && row->history_relid == objid)
				refuse(psprintf("drop %s, the history table of ledger table %s",
								SPI_getvalue(tuple, desc, 3), row->relation));
			if (row->relid != objid)
				continue;
			if (objsubid == 0)
				refuse(psprintf("drop ledger table %s", row->relation));
			refuse(psprintf("drop column %s of ledger table %s",
							SPI_getvalue(tuple, desc, 3), row->relation));
		}
	}
	SPI_finish();
	PG_RETURN_VOID();
}
