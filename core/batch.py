"""Set-based writes for paths that change many rows at once (docs/architecture.md, "Scale").

An UPDATE per row costs ten times more than one statement joining the new values, and Django's
`bulk_update` spends its time building CASE WHEN SQL in Python: neither belongs on a path that
touches thousands of rows."""

from django.db import connection

BATCH = 5000


def rows_update(model, columns, rows, *, batch=BATCH):
    """UPDATE model SET columns... WHERE id = ... for many rows. Each row is (values of
    `columns`..., id). On PostgreSQL one statement per batch joins a VALUES list; elsewhere (the
    embedded demo database) one executemany. Database triggers fire for every row as usual."""
    if not rows:
        return
    table = model._meta.db_table
    fields = [model._meta.get_field(c) for c in columns]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{f.column} = %s" for f in fields)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)
            return
        assignments = ", ".join(f"{f.column} = v.{f.column}" for f in fields)
        names = ", ".join([f.column for f in fields] + ["id"])
        # Typed placeholders: a NULL in a VALUES list would otherwise be read as text.
        row_sql = "(" + ", ".join([f"%s::{f.db_type(connection)}" for f in fields]
                                  + ["%s::bigint"]) + ")"
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES "
                + ", ".join([row_sql] * len(chunk))
                + f") AS v({names}) WHERE {table}.id = v.id",
                [value for row in chunk for value in row])


def statistics_refresh(*models):
    """Tell PostgreSQL's planner how big these tables just became: right after a bulk insert
    its statistics still describe the empty tables, and the next queries then pick plans that
    take seconds instead of milliseconds."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {model._meta.db_table}")
