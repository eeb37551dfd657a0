/*-------------------------------------------------------------------------
 *
 * pushdown.c
 *		Which WHERE conditions can narrow what a scan lists and reads, and
 *		their values at execution.
 *
 * Design notes.  The planner picks, among the restrictions of the scan,
 * those that say something about keys (keyspace.c): ranges on the
 * record's timestamp column, and equality, IN lists and prefix LIKE on
 * the columns of account, region, model and operation.  The other side
 * of such a condition may be anything that does not depend on the row
 * and is not volatile: constants, now() - interval '1 hour', parameters
 * of a prepared statement (generic plans included).  Those expressions
 * travel in ForeignScan.fdw_exprs and are evaluated when the scan starts;
 * a description of each condition travels in fdw_private, as nodes.
 *
 * Every condition also stays a local filter: pushdown only decides what
 * is listed and read, never which rows are returned, so a condition that
 * is only partly understood (LIKE 'abc%x') can still narrow the listing.
 *
 * Time values are turned into timestamptz exactly as PostgreSQL's own
 * cross-type comparisons do (a date or a timestamp is taken in the
 * session's time zone), so pushdown agrees with the local filter.
 *
 * EXPLAIN's account of how each condition narrows the scan is written
 * here too, from the key template the scan parsed when it began.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "access/table.h"
#include "executor/executor.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"

#include "bedlog_fdw.h"

/*
 * Whether to push conditions into the listing: the GUC
 * bedlog_fdw.enable_pushdown, registered by _PG_init.
 */
bool		bedlog_enable_pushdown = true;

/* The canonical JSON path of each text placeholder's column. */
static const char *const placeholder_paths[BEDLOG_NTEXT_PH] = {
	"accountId", "region", "modelId", "operation"
};

/* What a column of the table is, for pushdown. */
typedef enum ColumnRole
{
	ROLE_NONE,					/* nothing pushdown understands */
	ROLE_TIME,					/* the record's timestamp, as timestamptz */
	ROLE_TEXT,					/* the column of a text placeholder (or, in
								 * a CloudWatch table, identity_arn) */
	ROLE_ERROR					/* a CloudWatch table's errorCode column */
} ColumnRole;

/*
 * What a column of the table is, for pushdown: the time column, the
 * column of a text placeholder (then set in *ph), or nothing.
 */
static ColumnRole
column_role(Oid relid, AttrNumber attnum, const char *attname, Oid type,
			int32 typmod, int *ph)
{
	BedlogColumnSource source;
	char	   *path = bedlog_column_json_path(relid, attnum, attname, &source);
	int			i;

	if (source != BEDLOG_SRC_JSON || path == NULL)
		return ROLE_NONE;
	if (strcmp(path, "timestamp") == 0 && type == TIMESTAMPTZOID)
		return ROLE_TIME;
	if (type != TEXTOID && !(type == VARCHAROID && typmod < 0))
		return ROLE_NONE;
	for (i = 0; i < BEDLOG_NTEXT_PH; i++)
	{
		if (strcmp(path, placeholder_paths[i]) == 0)
		{
			*ph = i;
			return ROLE_TEXT;
		}
	}
	/* a CloudWatch table's filterPattern takes two more (cwscan.c) */
	if (bedlog_is_cw_table(relid))
	{
		if (strcmp(path, "identity.arn") == 0)
		{
			*ph = BEDLOG_TARGET_IDENTITY;
			return ROLE_TEXT;
		}
		if (strcmp(path, "errorCode") == 0)
			return ROLE_ERROR;
	}
	return ROLE_NONE;
}

/* May expr be evaluated once, when the scan starts? */
static bool
is_scan_constant(Expr *expr, Index relid)
{
	Relids		varnos;

	if (contain_volatile_functions((Node *) expr))
		return false;
	varnos = pull_varnos(NULL, (Node *) expr);
	return bms_is_empty(varnos);
}

/*
 * The role of expr if it is a Var of this relation (with its placeholder
 * in *ph for ROLE_TEXT), else ROLE_NONE.
 */
static ColumnRole
var_role(Expr *expr, RelOptInfo *baserel, Relation rel, int *ph)
{
	Var		   *var;
	Form_pg_attribute attr;

	/* look through a binary-compatible relabelling (varchar to text) */
	if (IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	if (!IsA(expr, Var))
		return ROLE_NONE;
	var = (Var *) expr;
	if (var->varno != baserel->relid || var->varlevelsup != 0 || var->varattno <= 0)
		return ROLE_NONE;
	attr = TupleDescAttr(RelationGetDescr(rel), var->varattno - 1);
	return column_role(RelationGetRelid(rel), var->varattno,
					   NameStr(attr->attname), attr->atttypid, attr->atttypmod,
					   ph);
}

/* Is the collation one under which equality is byte equality? */
static bool
collation_ok(Oid collid)
{
	return !OidIsValid(collid) || get_collation_isdeterministic(collid);
}

/*
 * The btree strategy of "timestamptz_column op <righttype>", or 0 when op
 * is not such a comparison.
 */
static int
time_strategy(Oid opno, Oid *righttype)
{
	List	   *interps = bedlog_op_interpretations(opno);
	ListCell   *lc;

	foreach(lc, interps)
	{
		BedlogOpInterpretation *i = (BedlogOpInterpretation *) lfirst(lc);
		int			strategy = bedlog_op_strategy(i);

		if (i->oplefttype == TIMESTAMPTZOID &&
			(i->oprighttype == TIMESTAMPTZOID || i->oprighttype == TIMESTAMPOID ||
			 i->oprighttype == DATEOID) &&
			strategy >= BTLessStrategyNumber && strategy <= BTGreaterStrategyNumber)
		{
			*righttype = i->oprighttype;
			return strategy;
		}
	}
	return 0;
}

/*
 * A value of the outer query (a PARAM_EXEC Param: a correlated subquery, a
 * nested loop's inner side) shown as $n: deparsing it needs the plan tree
 * around it, which a description made at planning time does not have
 * (PostgreSQL 18's ruleutils.c crashes without it).
 */
static Node *
exec_params_mutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
	{
		Param	   *p = (Param *) copyObject(node);

		p->paramkind = PARAM_EXTERN;
		return (Node *) p;
	}
	return expression_tree_mutator(node, exec_params_mutator, context);
}

/* The text of clause, with baserel's Vars shown as the table's columns. */
static char *
describe_clause(Expr *clause, Index relid, List *context)
{
	Node	   *copy = exec_params_mutator(copyObject((Node *) clause), NULL);

	if (relid != 1)
		ChangeVarNodes(copy, relid, 1, 0);
	return deparse_expression(copy, context, false, false);
}

static Node *
make_cond(BedlogCondKind kind, int target, Oid righttype, const char *desc)
{
	return (Node *) list_make4(makeInteger(kind), makeInteger(target),
							   makeInteger((int) righttype), makeString(pstrdup(desc)));
}

/*
 * Choose, among the restriction clauses of baserel, those that can narrow
 * the listing.  Returns their descriptions (for fdw_private) and appends
 * the expressions to evaluate at execution to *exprs, one per condition.
 */
List *
bedlog_pushdown_classify(PlannerInfo *root, RelOptInfo *baserel,
						 Oid foreigntableid, List **exprs, List **rinfos)
{
	Relation	rel;
	List	   *conds = NIL;
	List	   *context;
	ListCell   *lc;

	*exprs = NIL;
	*rinfos = NIL;
	if (!bedlog_enable_pushdown)
		return NIL;

	rel = table_open(foreigntableid, NoLock);
	/* descriptions name the table alone: its Vars are renumbered to 1 */
	context = deparse_context_for(RelationGetRelationName(rel), foreigntableid);

	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		Expr	   *clause = rinfo->clause;
		char	   *desc;

		if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
		{
			OpExpr	   *op = (OpExpr *) clause;
			Expr	   *left = linitial(op->args);
			Expr	   *right = lsecond(op->args);
			Oid			opno = op->opno;
			int			ph;
			ColumnRole	role = var_role(left, baserel, rel, &ph);

			if (role == ROLE_NONE)
			{
				/* maybe "expr op column": commute */
				role = var_role(right, baserel, rel, &ph);
				if (role == ROLE_NONE || (opno = get_commutator(opno)) == InvalidOid)
					continue;
				right = left;
			}
			if (role == ROLE_ERROR || !is_scan_constant(right, baserel->relid))
				continue;
			desc = describe_clause(clause, baserel->relid, context);
			if (role == ROLE_TIME)
			{
				Oid			righttype;
				int			strategy = time_strategy(opno, &righttype);

				if (strategy == 0)
					continue;
				conds = lappend(conds, make_cond(BEDLOG_COND_TIME, strategy, righttype, desc));
				*exprs = lappend(*exprs, right);
				*rinfos = lappend(*rinfos, rinfo);
			}
			else if (get_opcode(opno) == F_TEXTEQ && collation_ok(op->inputcollid))
			{
				conds = lappend(conds, make_cond(BEDLOG_COND_TEXT_EQ, ph, TEXTOID, desc));
				*exprs = lappend(*exprs, right);
				*rinfos = lappend(*rinfos, rinfo);
			}
			else if (get_opcode(opno) == F_TEXTLIKE && opno == op->opno &&
					 collation_ok(op->inputcollid))
			{
				conds = lappend(conds, make_cond(BEDLOG_COND_TEXT_PREFIX, ph, TEXTOID, desc));
				*exprs = lappend(*exprs, right);
				*rinfos = lappend(*rinfos, rinfo);
			}
		}
		else if (IsA(clause, ScalarArrayOpExpr))
		{
			ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;
			Expr	   *left = linitial(saop->args);
			Expr	   *right = lsecond(saop->args);
			int			ph;
			ColumnRole	role = var_role(left, baserel, rel, &ph);

			if (role != ROLE_TEXT || !saop->useOr || get_opcode(saop->opno) != F_TEXTEQ ||
				!collation_ok(saop->inputcollid) ||
				!is_scan_constant(right, baserel->relid))
				continue;
			desc = describe_clause(clause, baserel->relid, context);
			conds = lappend(conds, make_cond(BEDLOG_COND_TEXT_IN, ph, TEXTOID, desc));
			*exprs = lappend(*exprs, right);
			*rinfos = lappend(*rinfos, rinfo);
		}
		else if (IsA(clause, NullTest) &&
				 ((NullTest *) clause)->nulltesttype == IS_NOT_NULL &&
				 !((NullTest *) clause)->argisrow)
		{
			int			ph;

			/* error_code IS NOT NULL: only a CloudWatch table's role */
			if (var_role(((NullTest *) clause)->arg, baserel, rel, &ph) != ROLE_ERROR)
				continue;
			desc = describe_clause(clause, baserel->relid, context);
			conds = lappend(conds, make_cond(BEDLOG_COND_NOT_NULL, 0, BOOLOID, desc));
			/* nothing to evaluate: a constant keeps the lists in step */
			*exprs = lappend(*exprs, makeBoolConst(true, false));
			*rinfos = lappend(*rinfos, rinfo);
		}
	}
	table_close(rel, NoLock);
	return conds;
}

/* The kind, target and text of a condition from fdw_private. */
void
bedlog_pushdown_cond_info(Node *cond, BedlogCondKind *kind, int *target,
						  Oid *righttype, char **desc)
{
	List	   *l = (List *) cond;

	*kind = intVal(linitial(l));
	*target = intVal(lsecond(l));
	*righttype = (Oid) intVal(lthird(l));
	*desc = strVal(lfourth(l));
}

/* Narrow a text constraint to values (char *); NIL values: nothing allowed. */
static void
restrict_values(BedlogPrune *prune, int ph, List *values)
{
	BedlogTextConstraint *c = &prune->text[ph];

	if (c->has_values)
	{
		List	   *keep = NIL;
		ListCell   *a,
				   *b;

		foreach(a, c->values)
		{
			foreach(b, values)
			{
				if (strcmp((char *) lfirst(a), (char *) lfirst(b)) == 0)
				{
					keep = lappend(keep, lfirst(a));
					break;
				}
			}
		}
		values = keep;
	}
	c->active = true;
	c->has_values = true;
	c->values = values;
	if (values == NIL)
		prune->empty = true;
}

/*
 * The fixed prefix of a LIKE pattern (default escape '\'): the characters
 * before the first unescaped '%' or '_'.  palloc'd.
 */
static char *
like_prefix(const char *pattern)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	for (p = pattern; *p; p++)
	{
		if (*p == '%' || *p == '_')
			break;
		if (*p == '\\')
		{
			if (p[1] == '\0')
				break;
			p++;
		}
		appendStringInfoChar(&buf, *p);
	}
	return buf.data;
}

/* timestamptz of a time condition's value, as PostgreSQL compares it. */
static TimestampTz
time_value(Datum value, Oid type)
{
	int			overflow = 0;
	TimestampTz result;

	switch (type)
	{
		case DATEOID:
			result = date2timestamptz_opt_overflow(DatumGetDateADT(value), &overflow);
			break;
		case TIMESTAMPOID:
			result = timestamp2timestamptz_opt_overflow(DatumGetTimestamp(value), &overflow);
			break;
		default:
			return DatumGetTimestampTz(value);
	}
	if (overflow > 0)
		TIMESTAMP_NOEND(result);
	else if (overflow < 0)
		TIMESTAMP_NOBEGIN(result);
	return result;
}

/*
 * Evaluate the pushed-down conditions for one scan into *prune.  conds
 * are the descriptions from fdw_private, states the initialised
 * expressions (in the same order); delay is delivery_delay in
 * microseconds.
 */
void
bedlog_pushdown_evaluate(List *conds, List *states, ExprContext *econtext,
						 int64 delay, BedlogPrune *prune)
{
	ListCell   *lc1,
			   *lc2;
	TimestampTz lo,
				hi;

	memset(prune, 0, sizeof(*prune));
	TIMESTAMP_NOBEGIN(lo);
	TIMESTAMP_NOEND(hi);

	forboth(lc1, conds, lc2, states)
	{
		BedlogCondKind kind;
		int			target;
		Oid			righttype;
		char	   *desc;
		bool		isnull;
		Datum		value;

		bedlog_pushdown_cond_info(lfirst(lc1), &kind, &target, &righttype, &desc);
		value = ExecEvalExpr((ExprState *) lfirst(lc2), econtext, &isnull);
		if (isnull && kind != BEDLOG_COND_TEXT_IN)
		{
			/* a comparison with NULL is never true */
			prune->empty = true;
			continue;
		}
		switch (kind)
		{
			case BEDLOG_COND_TIME:
				{
					TimestampTz v = time_value(value, righttype);

					prune->has_time = true;
					if ((target == BTLessStrategyNumber ||
						 target == BTLessEqualStrategyNumber ||
						 target == BTEqualStrategyNumber) && v < hi)
						hi = v;
					if ((target == BTGreaterStrategyNumber ||
						 target == BTGreaterEqualStrategyNumber ||
						 target == BTEqualStrategyNumber) && v > lo)
						lo = v;
					break;
				}
			case BEDLOG_COND_TEXT_EQ:
				restrict_values(prune, target, list_make1(TextDatumGetCString(value)));
				break;
			case BEDLOG_COND_TEXT_IN:
				{
					ArrayType  *arr;
					Datum	   *elems;
					bool	   *nulls;
					int			n;
					int			i;
					List	   *values = NIL;

					if (isnull)
					{
						prune->empty = true;
						break;
					}
					arr = DatumGetArrayTypeP(value);
					deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
									  &elems, &nulls, &n);
					for (i = 0; i < n; i++)
					{
						if (!nulls[i])
							values = lappend(values, TextDatumGetCString(elems[i]));
					}
					restrict_values(prune, target, values);
					break;
				}
			case BEDLOG_COND_NOT_NULL:
				prune->error_not_null = true;
				break;
			case BEDLOG_COND_TEXT_PREFIX:
				{
					char	   *prefix = like_prefix(TextDatumGetCString(value));

					prune->text[target].active = true;
					if (prefix[0] != '\0')
						prune->text[target].prefixes =
							lappend(prune->text[target].prefixes, prefix);
					break;
				}
		}
	}

	if (prune->has_time)
	{
		prune->ts_lo = lo;
		prune->ts_hi = hi;
		if (TIMESTAMP_IS_NOEND(lo) || TIMESTAMP_IS_NOBEGIN(hi) || lo > hi)
			prune->empty = true;
		prune->write_lo = lo;
		if (TIMESTAMP_NOT_FINITE(hi) || hi > DT_NOEND - delay - 1)
			TIMESTAMP_NOEND(prune->write_hi);
		else
			prune->write_hi = hi + delay;
		if (TIMESTAMP_IS_NOBEGIN(lo) && TIMESTAMP_IS_NOEND(prune->write_hi))
			prune->has_time = false;	/* no bound after all */
	}
}

/*
 * How each pushed-down condition of conds (from fdw_private) narrows the
 * scan, for EXPLAIN: a list of palloc'd strings.  t is the table's key
 * template, parsed when the scan began (NULL if it does not parse);
 * delay_text the delivery_delay option as written, NULL for the default.
 */
List *
bedlog_pushdown_describe(List *conds, const BedlogTemplate *t,
						 const char *delay_text)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, conds)
	{
		BedlogCondKind kind;
		int			target;
		Oid			righttype;
		char	   *desc;

		bedlog_pushdown_cond_info(lfirst(lc), &kind, &target, &righttype, &desc);
		if (kind == BEDLOG_COND_TIME)
			result = lappend(result,
							 psprintf("%s: time folders and file names, allowing a delivery delay of %s; object index",
									  desc, delay_text ? delay_text : "1 hour"));
		else if (t && t->has_placeholder[target])
			result = lappend(result,
							 psprintf("%s: key template level ${%s}, and per record",
									  desc, bedlog_placeholder_name(target)));
		else if (target == BEDLOG_PH_MODEL || target == BEDLOG_PH_OPERATION)
			result = lappend(result,
							 psprintf("%s: object index, and per record before decoding", desc));
		else
			result = lappend(result, psprintf("%s: per record, before decoding", desc));
	}
	return result;
}
