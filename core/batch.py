"""Set-based writes for paths that change many rows at once (docs/architecture.md, "Scale").

An INSERT or UPDATE per row costs ten times more than one statement for them all, and
Django's `bulk_create` and `bulk_update` spend their time in Python preparing each value (and
`bulk_update` building CASE WHEN SQL): neither belongs on a path that touches thousands of rows.
Rows are given as plain values in column order, never as model instances.

On PostgreSQL new rows go in by COPY, and a large update copies its new values into a temporary
table that one UPDATE joins: Django's cursor binds parameters on the client, so a statement
with a placeholder per value is built, quoted and parsed value by value, which costs more than
the database's work. Elsewhere (the embedded demo database) `bulk_create` and `executemany`."""

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import F, Lookup, Q
from django.utils import timezone

BATCH = 5000
# From this many rows on, an insert goes by COPY: a row or two go quicker in one INSERT ...
# RETURNING, a round trip fewer than taking their ids first.
COPY_INSERT_FROM = 5
# From this many rows on, an update's values go in by COPY: below it, the temporary table
# costs more than the arrays of one UPDATE ... FROM unnest(...) statement.
COPY_UPDATE_FROM = 500


def rows_insert(model, names, rows, *, ids=False) -> list[int]:
    """Insert many rows given as plain values of the fields `names` (attnames, such as
    `loan_id`), in one COPY on PostgreSQL; the fields not named take their model defaults
    (`auto_now` ones the time now), as `bulk_create` would give them. Triggers fire as for an
    INSERT. With `ids`, the rows' new primary keys are taken from the table's sequence first
    and returned in the rows' order."""
    rows = list(rows)
    if not rows:
        return []
    if connection.vendor != "postgresql" or len(rows) < COPY_INSERT_FROM:
        made = model.objects.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=BATCH)
        return [m.pk for m in made]
    fields = [model._meta.get_field(name) for name in names]
    # COPY takes the values as psycopg dumps them; a JSON value needs the field's own wrapper.
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    if json_at:
        # The connection itself, not the `connection` proxy: that costs a lookup per value.
        db = connections[DEFAULT_DB_ALIAS]
        rows = [_json_prepared(row, fields, json_at, db) for row in rows]
    now = timezone.now()
    extra_fields, extra = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f in fields:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now if isinstance(f, models.DateTimeField) else timezone.localdate(now)
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        else:
            raise TypeError(f"{model.__name__}.{f.name} needs a value.")
        extra_fields.append(f)
        extra.append(f.get_db_prep_save(value, connection))
    extra = tuple(extra)
    quote = connection.ops.quote_name
    columns = [model._meta.pk.column] if ids else []
    columns += [f.column for f in fields + extra_fields]
    pks = _ids_take(model, len(rows)) if ids else []
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "
            "FROM STDIN") as copy:
        if ids:
            for pk, row in zip(pks, rows, strict=True):
                copy.write_row((pk, *row, *extra))
        else:
            for row in rows:
                copy.write_row((*row, *extra))
    return pks


def rows_upsert(model, names, rows, *, unique, update=()):
    """Insert many rows given as plain values of the fields `names`; a row whose `unique`
    fields match an existing row updates that row's `update` fields instead, or, with no
    `update`, is skipped. On PostgreSQL one INSERT ... SELECT FROM unnest(...) ON CONFLICT per
    batch, each column one array parameter; elsewhere `bulk_create` with the same conflict
    handling. Fields not named must have defaults in the database's eyes: give them all."""
    rows = list(rows)
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=BATCH,
            update_conflicts=bool(update), ignore_conflicts=not update,
            unique_fields=list(unique) if update else None,
            update_fields=list(update) or None)
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    columns = ", ".join(quote(f.column) for f in fields)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    target = ", ".join(quote(model._meta.get_field(name).column) for name in unique)
    if update:
        action = "DO UPDATE SET " + ", ".join(
            f"{quote(model._meta.get_field(name).column)} = EXCLUDED."
            f"{quote(model._meta.get_field(name).column)}" for name in update)
    else:
        action = "DO NOTHING"
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
           f"SELECT * FROM unnest({arrays}) ON CONFLICT ({target}) {action}")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = rows[start:start + BATCH]
            cursor.execute(sql, [ids_array(values) for values in zip(*batch, strict=True)])


def _json_prepared(row, fields, json_at, db):
    row = list(row)
    for i in json_at:
        row[i] = fields[i].get_db_prep_save(row[i], db)
    return row


def field_in(field, values):
    """A filter: `field` is one of `values`, which may be thousands of ids. On PostgreSQL
    `field = ANY(array)`, the array one parameter: an IN list costs Django and psycopg a
    placeholder each, more than the query itself. Elsewhere `field__in`."""
    values = list(values)
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": values})
    return _AnyOf(F(field), ids_array(values))


def ids_array(ids):
    """Integer ids (or any column of ints) as one PostgreSQL array parameter
    (`%s::bigint[]`): as the array's text when they are all ints, which psycopg's client-side
    binding quotes five times faster than a list of 5,000 (a close's chunk passes its ids to a
    dozen queries); anything else as it is."""
    ids = list(ids)
    if all(type(value) is int for value in ids):
        return "{" + ",".join(map(str, ids)) + "}"
    return ids


class _AnyOf(Lookup):
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return (f"{lhs} = ANY(%s::{self.lhs.output_field.db_type(connection)}[])",
                [*params, self.rhs])


def instance_saved(instance, pk):
    """A model instance built in memory whose row `rows_insert` has just written."""
    instance.pk = pk
    instance._state.adding, instance._state.db = False, connection.alias
    return instance


def _ids_take(model, count) -> list[int]:
    """`count` new primary keys from the table's own sequence, in ascending order (PostgreSQL)."""
    with connection.cursor() as cursor:
        # The sequence looked up once (a subquery), not once per id.
        cursor.execute("SELECT nextval((SELECT pg_get_serial_sequence(%s, %s)::regclass)) "
                       "FROM generate_series(1, %s)",
                       [model._meta.db_table, model._meta.pk.column, count])
        return sorted(pk for (pk,) in cursor.fetchall())


def rows_update(model, columns, rows):
    """UPDATE model SET columns... WHERE id = ... for many rows. Each row is (values of
    `columns`..., id). On PostgreSQL one statement joins the new values: given as one array per
    column, or for many rows copied into a temporary table; elsewhere one executemany.
    Database triggers fire for every row as usual."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    fields = [model._meta.get_field(c) for c in columns]
    names = [connection.ops.quote_name(f.column) for f in fields]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{n} = %s" for n in names)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)
            return
        types = [f.db_type(connection) for f in fields]
        assignments = ", ".join(f"{n} = v.{n}" for n in names)
        if len(rows) < COPY_UPDATE_FROM:
            # Typed arrays: a list of NULLs would otherwise be read as text.
            arrays = ", ".join([f"%s::{t}[]" for t in types] + ["%s::bigint[]"])
            cursor.execute(f"UPDATE {table} SET {assignments} FROM unnest({arrays}) "
                           f"AS v({', '.join(names)}, id) WHERE {table}.id = v.id",
                           [list(values) for values in zip(*rows, strict=True)])
            return
        temp = connection.ops.quote_name(f"batch_{model._meta.db_table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} ("
                       + ", ".join(f"{n} {t}" for n, t in zip(names, types, strict=True))
                       + ", id bigint)")
        with cursor.cursor.copy(f"COPY {temp} ({', '.join(names)}, id) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"UPDATE {table} SET {assignments} FROM {temp} AS v "
                       f"WHERE {table}.id = v.id")
        cursor.execute(f"DROP TABLE {temp}")


def statistics_refresh(*models, vacuum=False):
    """Tell PostgreSQL's planner how big these tables just became: right after a bulk insert
    its statistics still describe the empty tables, and the next queries then pick plans that
    take seconds instead of milliseconds.

    With `vacuum`, also reclaim the row versions that updates left behind (`VACUUM ANALYZE`;
    only outside a transaction, as PostgreSQL allows): a batch process that rewrites the same
    rows night after night (the simulator's year) cannot count on autovacuum keeping up with
    it, or on it running at all, and every scan then wades through the dead versions."""
    if connection.vendor != "postgresql":
        return
    # VACUUM cannot run inside a transaction (a test's, a caller's): there, analyse only.
    command = "VACUUM (ANALYZE)" if vacuum and not connection.in_atomic_block else "ANALYZE"
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"{command} {model._meta.db_table}")
