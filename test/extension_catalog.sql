-- test/extension_catalog.sql: what the medchain extension is made of in
-- this database, as lines "section | object | property | value", one line
-- per line of a value, in a fixed order and without oids, so that the
-- listings of two databases can be compared line by line (diff -u).  It
-- reads the catalogs, not a list of medchain's objects: the extension's
-- members (pg_depend), their parts (columns, constraints, indexes,
-- triggers, policies, rules), its schema and its pg_extension row, so
-- objects added later are compared as they come.  Run with search_path =
-- pg_catalog, so that names print the same in every database.
--
-- Sections: members (and objects of the schema that are not members),
-- config (version, schema, and the tables pg_dump dumps the rows of),
-- privileges (owners, ACLs, column ACLs, pg_init_privs), comments,
-- functions (pg_get_functiondef), views, relations (kind, row security,
-- options, sequences), columns (in order), constraints, indexes,
-- triggers (and event triggers), policies, rules, types.
WITH ext AS (
	SELECT e.oid, e.extnamespace FROM pg_extension e WHERE e.extname = 'medchain'),
member AS (
	SELECT d.classid, d.objid FROM pg_depend d, ext
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
rel AS (
	SELECT c.* FROM pg_class c JOIN member m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
	UNION ALL
	SELECT c.* FROM pg_class c JOIN pg_type t ON t.typrelid = c.oid
	  JOIN member m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid),
sub AS (
	SELECT 'pg_class'::regclass AS classid, i.indexrelid AS objid FROM pg_index i JOIN rel ON rel.oid = i.indrelid
	UNION ALL SELECT 'pg_constraint'::regclass, c.oid FROM pg_constraint c
	 WHERE c.conrelid IN (SELECT oid FROM rel)
		OR c.contypid IN (SELECT objid FROM member WHERE classid = 'pg_type'::regclass)
	UNION ALL SELECT 'pg_trigger'::regclass, t.oid FROM pg_trigger t JOIN rel ON rel.oid = t.tgrelid
	 WHERE NOT t.tgisinternal
	UNION ALL SELECT 'pg_policy'::regclass, p.oid FROM pg_policy p JOIN rel ON rel.oid = p.polrelid
	UNION ALL SELECT 'pg_rewrite'::regclass, r.oid FROM pg_rewrite r JOIN rel ON rel.oid = r.ev_class),
covered AS (
	SELECT classid, objid FROM member UNION ALL SELECT classid, objid FROM sub
	UNION ALL SELECT 'pg_namespace'::regclass, extnamespace FROM ext
	UNION ALL SELECT 'pg_extension'::regclass, oid FROM ext),
obj AS (
	SELECT c.classid, c.objid, o.type || ' ' || o.identity AS id
	  FROM covered c, pg_identify_object(c.classid, c.objid, 0) o),
lines(section, id, prop, val) AS (
	-- what the extension is made of
	SELECT 'members', o.id, 'member', '' FROM member m JOIN obj o USING (classid, objid)
	UNION ALL
	-- objects in its schema that belong to it neither as members nor as
	-- parts of members (an index, a row type, an array type)
	SELECT 'members', x.type || ' ' || x.identity, 'in the schema, not a member', ''
	  FROM (SELECT 'pg_class'::regclass AS classid, oid AS objid, relnamespace AS nsp FROM pg_class
			UNION ALL SELECT 'pg_proc'::regclass, oid, pronamespace FROM pg_proc
			UNION ALL SELECT 'pg_type'::regclass, oid, typnamespace FROM pg_type
			UNION ALL SELECT 'pg_operator'::regclass, oid, oprnamespace FROM pg_operator
			UNION ALL SELECT 'pg_collation'::regclass, oid, collnamespace FROM pg_collation
			UNION ALL SELECT 'pg_conversion'::regclass, oid, connamespace FROM pg_conversion
			UNION ALL SELECT 'pg_opfamily'::regclass, oid, opfnamespace FROM pg_opfamily
			UNION ALL SELECT 'pg_opclass'::regclass, oid, opcnamespace FROM pg_opclass
			UNION ALL SELECT 'pg_statistic_ext'::regclass, oid, stxnamespace FROM pg_statistic_ext
			UNION ALL SELECT 'pg_ts_config'::regclass, oid, cfgnamespace FROM pg_ts_config
			UNION ALL SELECT 'pg_ts_dict'::regclass, oid, dictnamespace FROM pg_ts_dict) s
	  JOIN ext ON ext.extnamespace = s.nsp
	  CROSS JOIN pg_identify_object(s.classid, s.objid, 0) x
	 WHERE NOT EXISTS (SELECT FROM member m WHERE m.classid = s.classid AND m.objid = s.objid)
	   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = s.classid AND d.objid = s.objid
						  AND d.objsubid = 0 AND d.deptype IN ('i', 'a'))
	UNION ALL
	-- the extension's own record, and which tables pg_dump dumps the rows of
	SELECT 'config', 'extension medchain', 'version', e.extversion FROM pg_extension e WHERE e.extname = 'medchain'
	UNION ALL SELECT 'config', 'extension medchain', 'schema', e.extnamespace::regnamespace::text
	  FROM pg_extension e WHERE e.extname = 'medchain'
	UNION ALL SELECT 'config', 'extension medchain', 'relocatable', e.extrelocatable::text
	  FROM pg_extension e WHERE e.extname = 'medchain'
	UNION ALL SELECT 'config', 'extension medchain', 'owner', e.extowner::regrole::text
	  FROM pg_extension e WHERE e.extname = 'medchain'
	UNION ALL SELECT 'config', 'extension medchain', 'dumped with the data',
		   coalesce(string_agg(cfg.rel::regclass::text || ' where ' || quote_literal(coalesce(cfg.cond, '')),
							   E'\n' ORDER BY cfg.rel::regclass::text), '(none)')
	  FROM pg_extension e
	  LEFT JOIN LATERAL unnest(e.extconfig, e.extcondition) AS cfg(rel, cond) ON true
	 WHERE e.extname = 'medchain'
	UNION ALL
	-- owners and privileges, the ones pg_dump leaves to the extension script
	SELECT 'privileges', o.id, 'owner', coalesce(pg_get_userbyid(coalesce(
			p.proowner, c.relowner, t.typowner, n.nspowner, ev.evtowner, op.oprowner)), '?')
	  FROM obj o
	  LEFT JOIN pg_proc p ON o.classid = 'pg_proc'::regclass AND p.oid = o.objid
	  LEFT JOIN pg_class c ON o.classid = 'pg_class'::regclass AND c.oid = o.objid
	  LEFT JOIN pg_type t ON o.classid = 'pg_type'::regclass AND t.oid = o.objid
	  LEFT JOIN pg_namespace n ON o.classid = 'pg_namespace'::regclass AND n.oid = o.objid
	  LEFT JOIN pg_event_trigger ev ON o.classid = 'pg_event_trigger'::regclass AND ev.oid = o.objid
	  LEFT JOIN pg_operator op ON o.classid = 'pg_operator'::regclass AND op.oid = o.objid
	 WHERE o.classid IN ('pg_proc'::regclass, 'pg_class'::regclass, 'pg_type'::regclass,
						 'pg_namespace'::regclass, 'pg_event_trigger'::regclass, 'pg_operator'::regclass)
	   AND (o.classid <> 'pg_class'::regclass OR c.relkind <> 'i')
	UNION ALL
	SELECT 'privileges', o.id, 'acl', coalesce(
			(SELECT string_agg(a::text, ' ' ORDER BY a::text)
			   FROM unnest(coalesce(p.proacl, c.relacl, t.typacl, n.nspacl)) a), '(default)')
	  FROM obj o
	  LEFT JOIN pg_proc p ON o.classid = 'pg_proc'::regclass AND p.oid = o.objid
	  LEFT JOIN pg_class c ON o.classid = 'pg_class'::regclass AND c.oid = o.objid
	  LEFT JOIN pg_type t ON o.classid = 'pg_type'::regclass AND t.oid = o.objid
	  LEFT JOIN pg_namespace n ON o.classid = 'pg_namespace'::regclass AND n.oid = o.objid
	 WHERE o.classid IN ('pg_proc'::regclass, 'pg_class'::regclass, 'pg_type'::regclass, 'pg_namespace'::regclass)
	   AND (o.classid <> 'pg_class'::regclass OR c.relkind <> 'i')
	UNION ALL
	SELECT 'privileges', 'column ' || rel.oid::regclass::text || '.' || quote_ident(a.attname), 'acl',
		   (SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(a.attacl) x)
	  FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid
	 WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
	UNION ALL
	SELECT 'privileges', coalesce(o.type || ' ' || o.identity, 'object of ' || ip.classoid::regclass::text),
		   'initial privileges' || CASE WHEN ip.objsubid <> 0 THEN ' of column ' || ip.objsubid ELSE '' END,
		   (SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(ip.initprivs) x)
	  FROM pg_init_privs ip
	  LEFT JOIN LATERAL pg_identify_object(ip.classoid, ip.objoid, 0) o ON true
	 WHERE ip.privtype = 'e'
	   AND EXISTS (SELECT FROM covered cv WHERE cv.classid = ip.classoid AND cv.objid = ip.objoid)
	UNION ALL
	-- comments, of the objects, their columns and their parts
	SELECT 'comments', x.type || ' ' || x.identity, 'comment', d.description
	  FROM pg_description d
	  JOIN covered cv ON cv.classid = d.classoid AND cv.objid = d.objoid
	  CROSS JOIN pg_identify_object(d.classoid, d.objoid, d.objsubid) x
	UNION ALL
	-- functions: pg_get_functiondef() has the arguments, result, language,
	-- symbol or body, volatility, strictness, security, parallel safety,
	-- cost, rows and settings
	SELECT 'functions', o.id, 'definition',
		   CASE WHEN p.prokind = 'a' THEN 'aggregate ' || p.oid::regprocedure::text
				ELSE pg_get_functiondef(p.oid) END
	  FROM obj o JOIN pg_proc p ON o.classid = 'pg_proc'::regclass AND p.oid = o.objid
	UNION ALL
	SELECT 'views', rel.oid::regclass::text, 'definition', pg_get_viewdef(rel.oid, true)
	  FROM rel WHERE rel.relkind IN ('v', 'm')
	UNION ALL
	SELECT 'relations', rel.oid::regclass::text, 'kind', concat_ws(' ', 'relkind=' || rel.relkind::text,
			'persistence=' || rel.relpersistence::text, 'rls=' || rel.relrowsecurity,
			'force_rls=' || rel.relforcerowsecurity, 'replident=' || rel.relreplident::text,
			'am=' || (SELECT amname FROM pg_am WHERE oid = rel.relam),
			'partition=' || rel.relispartition, 'toast=' || (rel.reltoastrelid <> 0),
			'tablespace=' || rel.reltablespace::text)
	  FROM rel
	UNION ALL
	SELECT 'relations', rel.oid::regclass::text, 'options',
		   (SELECT string_agg(x, ' ' ORDER BY x) FROM unnest(rel.reloptions) x)
	  FROM rel WHERE rel.reloptions IS NOT NULL
	UNION ALL
	SELECT 'relations', rel.oid::regclass::text, 'parents',
		   (SELECT string_agg(inhparent::regclass::text, ' ' ORDER BY inhseqno) FROM pg_inherits WHERE inhrelid = rel.oid)
	  FROM rel WHERE EXISTS (SELECT FROM pg_inherits WHERE inhrelid = rel.oid)
	UNION ALL
	SELECT 'relations', rel.oid::regclass::text, 'partitioned by', pg_get_partkeydef(rel.oid)
	  FROM rel WHERE rel.relkind = 'p'
	UNION ALL
	SELECT 'relations', rel.oid::regclass::text, 'sequence', concat_ws(' ', 'type=' || s.seqtypid::regtype,
			'start=' || s.seqstart, 'increment=' || s.seqincrement, 'max=' || s.seqmax,
			'min=' || s.seqmin, 'cache=' || s.seqcache, 'cycle=' || s.seqcycle,
			'owned by=' || coalesce((SELECT d.refobjid::regclass::text || '.' || quote_ident(a.attname)
									   FROM pg_depend d
									   JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
									  WHERE d.classid = 'pg_class'::regclass AND d.objid = rel.oid
										AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
										AND d.refobjsubid > 0), '-'))
	  FROM rel JOIN pg_sequence s ON s.seqrelid = rel.oid
	UNION ALL
	-- columns, in order; dropped ones leave no trace.  Of the attribute
	-- options, pg_attver is left out: the server stamps every attribute it
	-- creates with one, different in any two databases.
	SELECT 'columns', rel.oid::regclass::text,
		   'column ' || lpad((row_number() OVER (PARTITION BY rel.oid ORDER BY a.attnum))::text, 3, '0'),
		   concat_ws(' ', quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
			   CASE WHEN a.attnotnull THEN 'NOT NULL' END,
			   'DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid),
			   'COLLATE ' || (SELECT quote_ident(collname) FROM pg_collation WHERE oid = a.attcollation AND a.attcollation <> 0),
			   'storage=' || a.attstorage::text,
			   CASE WHEN a.attcompression::text <> '' THEN 'compression=' || a.attcompression::text END,
			   CASE WHEN a.attidentity::text <> '' THEN 'identity=' || a.attidentity::text END,
			   CASE WHEN a.attgenerated::text <> '' THEN 'generated=' || a.attgenerated::text END,
			   CASE WHEN a.attstattarget <> -1 THEN 'statistics=' || a.attstattarget END,
			   'options=' || (SELECT string_agg(x, ',' ORDER BY x) FROM unnest(a.attoptions) x
							  WHERE x NOT LIKE 'pg\_attver=%'))
	  FROM rel
	  JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
	  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	 WHERE rel.relkind <> 'S'
	UNION ALL
	SELECT 'constraints', coalesce(c.conrelid::regclass::text, c.contypid::regtype::text),
		   'constraint ' || quote_ident(c.conname),
		   concat_ws(' ', pg_get_constraintdef(c.oid), 'type=' || c.contype::text,
			   CASE WHEN c.condeferrable THEN 'deferrable' END, CASE WHEN c.condeferred THEN 'deferred' END,
			   CASE WHEN NOT c.convalidated THEN 'not valid' END, CASE WHEN c.connoinherit THEN 'no inherit' END)
	  FROM sub JOIN pg_constraint c ON sub.classid = 'pg_constraint'::regclass AND c.oid = sub.objid
	UNION ALL
	SELECT 'indexes', i.indrelid::regclass::text, 'index ' || quote_ident(ic.relname),
		   concat_ws(' ', pg_get_indexdef(i.indexrelid), CASE WHEN i.indisclustered THEN 'clustered' END,
			   CASE WHEN NOT i.indisvalid THEN 'invalid' END, CASE WHEN i.indisreplident THEN 'replica identity' END,
			   'options=' || array_to_string(ic.reloptions, ','))
	  FROM sub JOIN pg_index i ON sub.classid = 'pg_class'::regclass AND i.indexrelid = sub.objid
	  JOIN pg_class ic ON ic.oid = i.indexrelid
	UNION ALL
	SELECT 'triggers', t.tgrelid::regclass::text, 'trigger ' || quote_ident(t.tgname),
		   pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
	  FROM sub JOIN pg_trigger t ON sub.classid = 'pg_trigger'::regclass AND t.oid = sub.objid
	UNION ALL
	SELECT 'triggers', o.id, 'event trigger',
		   concat_ws(' ', 'ON ' || e.evtevent, 'EXECUTE ' || e.evtfoid::regprocedure::text,
			   'enabled=' || e.evtenabled::text, 'tags=' || array_to_string(e.evttags, ','))
	  FROM obj o JOIN pg_event_trigger e ON o.classid = 'pg_event_trigger'::regclass AND e.oid = o.objid
	UNION ALL
	SELECT 'policies', p.polrelid::regclass::text, 'policy ' || quote_ident(p.polname),
		   concat_ws(' ', 'FOR ' || p.polcmd::text, CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END,
			   'TO ' || (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END, ',' ORDER BY 1)
						   FROM unnest(p.polroles) r),
			   'USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',
			   'WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')')
	  FROM sub JOIN pg_policy p ON sub.classid = 'pg_policy'::regclass AND p.oid = sub.objid
	UNION ALL
	SELECT 'rules', r.ev_class::regclass::text, 'rule ' || quote_ident(r.rulename),
		   pg_get_ruledef(r.oid, true) || ' enabled=' || r.ev_enabled::text
	  FROM sub JOIN pg_rewrite r ON sub.classid = 'pg_rewrite'::regclass AND r.oid = sub.objid
	 WHERE r.rulename <> '_RETURN'
	UNION ALL
	SELECT 'types', o.id, 'type', concat_ws(' ', 'typtype=' || t.typtype::text,
			'base=' || CASE WHEN t.typbasetype <> 0 THEN format_type(t.typbasetype, t.typtypmod) END,
			CASE WHEN t.typnotnull THEN 'NOT NULL' END, 'DEFAULT ' || t.typdefault,
			'labels=' || (SELECT string_agg(quote_literal(enumlabel), ',' ORDER BY enumsortorder)
							FROM pg_enum WHERE enumtypid = t.oid))
	  FROM obj o JOIN pg_type t ON o.classid = 'pg_type'::regclass AND t.oid = o.objid
)
SELECT section || ' | ' || id || ' | ' || prop || ' | ' || coalesce(l.line, '(null)')
  FROM lines
  LEFT JOIN LATERAL regexp_split_to_table(lines.val, E'\n') WITH ORDINALITY AS l(line, n) ON true
 ORDER BY section COLLATE "C", id COLLATE "C", prop COLLATE "C", l.n
