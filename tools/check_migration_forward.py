"""Shows that a database created and seeded at an older commit migrates forward to the current
tree with every row, every ledger balance, every trigger and every constraint intact.

    .venv/bin/python tools/check_migration_forward.py [--base COMMIT] [--database NAME] [--keep]

0. checks that the current tree loads at all (`manage.py check`), so as not to seed for nothing;
1. checks COMMIT out into a temporary git worktree and, with the same venv, migrates a fresh
   PostgreSQL database NAME there and seeds it with `seed_demo`;
2. snapshots it straight from PostgreSQL (snapshot A): each table's columns, exact row count and
   content checksum (every table's, the project apps' and the others'), the ledger's balance
   per account and the principal per loan, the triggers (with a hash of their definition and
   of their function), constraints and indexes;
3. runs the CURRENT tree's `migrate` against the same database and snapshots it again (B);
4. compares: anything in A missing or different in B is a problem, unless the migrations
   explain it (content types repointed to the app a model moved to, migrations and permissions
   added), which is listed as expected; what B has in addition is listed as added;
5. checks with `showmigrations --plan` that nothing is left unapplied and runs `audit_verify` when
   the current tree has it.

Exit status: 0 when nothing was lost or changed unexpectedly, 1 when something was, 2 when a step
could not be run (the check is then incomplete). The worktree is removed at the end and, unless
--keep, the database too (--keep also leaves the worktree and the two snapshots as JSON).
"""

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BASE = "59b8ed8"
DEFAULT_DATABASE = "credit_migration_check"
SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
# Tables that the migration machinery itself writes to; compared row by row instead.
BOOKKEEPING = ("django_migrations", "django_content_type", "auth_permission")
SYSTEM_DATABASES = {"postgres", "template0", "template1"}
MODELS_MARKER = "@@MODELS@@"
# Run inside each tree (`manage.py shell -c`): which code was imported, which table each model has.
MODELS_PROBE = (
    "import json, django.apps, lending\n"
    "models = {f'{m._meta.app_label}.{m._meta.model_name}': m._meta.db_table\n"
    "          for m in django.apps.apps.get_models(include_auto_created=True)}\n"
    f"print({MODELS_MARKER!r} + json.dumps({{'lending': lending.__file__, 'models': models}}))\n"
)


class StepFailed(Exception):
    """A step of the check could not be run; the check is incomplete."""


# ---------------------------------------------------------------------------------------------
# Running things


class Phases:
    """Times each phase, prints its start and end, and sums them up at the end."""

    def __init__(self):
        self.done = []

    @contextlib.contextmanager
    def __call__(self, name):
        print(f"\n=== {name}", flush=True)
        started = time.monotonic()
        outcome = "failed"
        try:
            yield
            outcome = "ok"
        finally:
            elapsed = time.monotonic() - started
            self.done.append((name, elapsed, outcome))
            print(f"=== {name}: {outcome} in {elapsed:.1f}s", flush=True)

    def report(self):
        print("\nTimings")
        for name, elapsed, outcome in self.done:
            print(f"  {elapsed:8.1f}s  {name}{'' if outcome == 'ok' else '  (' + outcome + ')'}")
        print(f"  {sum(e for _, e, _ in self.done):8.1f}s  total")


def python_executable():
    venv_python = REPO / ".venv" / "bin" / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


def django_env(database):
    env = dict(os.environ)
    env.pop("REDIS_URL", None)  # tasks run in-process, as in `make run`
    env.pop("PYTHONPATH", None)  # each tree imports its own code, found next to manage.py
    env.update({
        "DATABASE_URL": f"postgres://{SERVER['user']}@{SERVER['host']}:{SERVER['port']}/{database}",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def manage(tree, env, *args, capture=False, check=True, shown=None):
    """Runs manage.py in a tree; streams its output unless capture, then returns it."""
    command = [python_executable(), "manage.py", *args]
    print(f"$ (cd {tree} && manage.py {shown or ' '.join(args)})", flush=True)
    result = subprocess.run(command, cwd=tree, env=env, text=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.STDOUT if capture else None)
    if check and result.returncode != 0:
        if capture:
            print(result.stdout)
        raise StepFailed(f"manage.py {shown or ' '.join(args)} exited with {result.returncode} "
                         f"in {tree}")
    return result


def git(*args):
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, text=True,
                          capture_output=True).stdout.strip()


def models_of(tree, env):
    """{app_label.model: db_table} in that tree's code, after checking that code is the tree's."""
    output = manage(tree, env, "shell", "-c", MODELS_PROBE, capture=True,
                    shown="shell -c <list models and their tables>").stdout
    for line in output.splitlines():
        if line.startswith(MODELS_MARKER):
            probe = json.loads(line[len(MODELS_MARKER):])
            break
    else:
        print(output)
        raise StepFailed(f"could not read the models of {tree}")
    if not Path(probe["lending"]).resolve().is_relative_to(Path(tree).resolve()):
        raise StepFailed(f"manage.py in {tree} imported lending from {probe['lending']}: the "
                         "snapshot would not be of that tree's code")
    return probe["models"]


# ---------------------------------------------------------------------------------------------
# The database


def connect(database, autocommit=False):
    return psycopg.connect(dbname=database, autocommit=autocommit, **SERVER)


def database_recreate(database):
    with connect("postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(database)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def database_drop(database):
    with connect("postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(database)))


def digest(text):
    return hashlib.sha256((text or "").encode()).hexdigest()[:16]


def checksum_query(table, columns=None):
    """md5 over the table's rows as text, in a stable order. With columns, only those (in that
    order), which gives the same text as the whole row had when the table had just them."""
    if columns is None:
        return sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {} t").format(
            sql.Identifier(table))
    row = sql.SQL("ROW({})").format(sql.SQL(", ").join(
        sql.SQL("t.{}").format(sql.Identifier(c)) for c in columns))
    return sql.SQL("SELECT md5(string_agg(r::text, '|' ORDER BY r::text)) "
                   "FROM (SELECT {} AS r FROM {} t) s").format(row, sql.Identifier(table))


def snapshot(database, columns_for_checksum=None):
    """Everything about the public schema that the check compares, as plain JSON-able data.

    columns_for_checksum: {table: [column, ...]} to checksum a table over those columns only
    (snapshot B of a table that gained columns is checksummed over the columns A had)."""
    columns_for_checksum = columns_for_checksum or {}
    snap = {"tables": {}, "triggers": {}, "constraints": {}, "indexes": {}, "rows": {}}
    with connect(database) as conn, conn.cursor() as cur:
        # Text forms of timestamps, dates and intervals must not depend on the session.
        cur.execute("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; "
                    "SET IntervalStyle = 'postgres'; SET extra_float_digits = 1")
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "ORDER BY tablename")
        for (table,) in cur.fetchall():
            cur.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                        " WHERE table_schema = 'public' AND table_name = %s"
                        " ORDER BY ordinal_position", (table,))
            columns = [list(row) for row in cur.fetchall()]
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            (count,) = cur.fetchone()
            subset = columns_for_checksum.get(table)
            present = {c[0] for c in columns}
            if subset is not None and not set(subset) <= present:
                checksum = None  # a column went missing: reported from the column lists
            else:
                cur.execute(checksum_query(table, subset))
                (checksum,) = cur.fetchone()
            snap["tables"][table] = {"rows": count, "columns": columns,
                                     "checksum": checksum, "checksum_columns": subset}

        cur.execute("SELECT a.code, SUM(p.amount)::text FROM lending_posting p"
                    " JOIN lending_ledgeraccount a ON a.id = p.account_id"
                    " GROUP BY a.code ORDER BY a.code")
        snap["ledger"] = dict(cur.fetchall())
        cur.execute("SELECT count(*), COALESCE(SUM(amount), 0)::text FROM lending_posting")
        snap["ledger_total"] = list(cur.fetchone())
        cur.execute("SELECT p.loan_id::text, SUM(p.amount)::text FROM lending_posting p"
                    " JOIN lending_ledgeraccount a ON a.id = p.account_id"
                    " WHERE a.code LIKE 'principal_receivable:%%' AND p.loan_id IS NOT NULL"
                    " GROUP BY p.loan_id ORDER BY p.loan_id")
        snap["loan_principal"] = dict(cur.fetchall())

        cur.execute("SELECT c.relname, t.tgname, t.tgenabled::text, pg_get_triggerdef(t.oid),"
                    " pg_get_functiondef(t.tgfoid)"
                    " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE NOT t.tgisinternal AND n.nspname = 'public'")
        for table, name, enabled, definition, function in cur.fetchall():
            snap["triggers"][f"{table}.{name}"] = {
                "table": table, "name": name, "enabled": enabled,
                "definition": digest(definition), "function": digest(function)}

        cur.execute("SELECT c.relname, con.conname, con.contype::text,"
                    " pg_get_constraintdef(con.oid)"
                    " FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                    " ORDER BY 1, 2, 4")
        for table, name, kind, definition in cur.fetchall():
            snap["constraints"][f"{table}.{name}"] = f"[{kind}] {definition}"

        cur.execute("SELECT tablename, indexname, indexdef FROM pg_indexes"
                    " WHERE schemaname = 'public'")
        for table, name, definition in cur.fetchall():
            snap["indexes"][f"{table}.{name}"] = definition

        # The migration machinery's own tables, row by row, to explain their differences.
        cur.execute("SELECT id::text, app, name, applied::text FROM django_migrations")
        snap["rows"]["django_migrations"] = {f"{app}.{name}": [i, applied]
                                             for i, app, name, applied in cur.fetchall()}
        cur.execute("SELECT id::text, app_label, model FROM django_content_type")
        snap["rows"]["django_content_type"] = {i: [app, model]
                                               for i, app, model in cur.fetchall()}
        cur.execute("SELECT id::text, content_type_id::text, codename, name FROM auth_permission")
        snap["rows"]["auth_permission"] = {i: [ct, codename, name]
                                           for i, ct, codename, name in cur.fetchall()}
    return snap


# ---------------------------------------------------------------------------------------------
# Comparing


class Findings:
    def __init__(self):
        self.problems = []  # lost or changed, not explained by the migrations
        self.expected = []  # changed, and the migrations say why
        self.added = []
        self.warnings = []  # worth a look, not a change to data

    def print(self):
        for title, items in (("ADDED in B", self.added), ("EXPECTED (explained by migrations)",
                             self.expected), ("WARNINGS", self.warnings),
                             ("PROBLEMS (lost or changed unexpectedly)", self.problems)):
            print(f"\n{title}: {len(items)}")
            for item in items:
                print(f"  - {item}")


def compare_tables(a, b, found):
    print("\nTables (rows A -> B, content):")
    width = max(len(t) for t in a["tables"]) if a["tables"] else 10
    for table, ta in a["tables"].items():
        tb = b["tables"].get(table)
        if tb is None:
            print(f"  {table:<{width}} {ta['rows']:>9} -> MISSING")
            found.problems.append(f"table {table} ({ta['rows']} rows) is missing in B")
            continue
        columns_a = {c[0]: c[1:] for c in ta["columns"]}
        columns_b = {c[0]: c[1:] for c in tb["columns"]}
        lost = [c for c in columns_a if c not in columns_b]
        retyped = [f"{c} {columns_a[c]} -> {columns_b[c]}" for c in columns_a
                   if c in columns_b and columns_a[c] != columns_b[c]]
        new_columns = [c for c in columns_b if c not in columns_a]
        if lost:
            found.problems.append(f"table {table}: columns lost: {', '.join(lost)}")
        if retyped:
            found.problems.append(f"table {table}: columns changed: {'; '.join(retyped)}")
        if new_columns:
            found.added.append(f"table {table}: new columns {', '.join(new_columns)} "
                               "(content compared over the columns A had)")
        if table in BOOKKEEPING:
            status = "compared row by row below"
        elif ta["checksum"] == tb["checksum"] and not lost:
            status = "same content"
        else:
            status = "CONTENT DIFFERS"
            found.problems.append(f"table {table}: content checksum differs "
                                  f"({ta['checksum']} -> {tb['checksum']})")
        if ta["rows"] != tb["rows"] and table not in BOOKKEEPING:
            status += ", ROW COUNT DIFFERS"
            found.problems.append(f"table {table}: {ta['rows']} rows in A, {tb['rows']} in B")
        print(f"  {table:<{width}} {ta['rows']:>9} -> {tb['rows']:<9} {status}")
    for table, tb in b["tables"].items():
        if table not in a["tables"]:
            print(f"  {table:<{width}} {'':>9} -> {tb['rows']:<9} new")
            found.added.append(f"table {table} ({tb['rows']} rows)")


def compare_bookkeeping(a, b, models_a, models_b, found):
    """django_migrations, django_content_type and auth_permission, row by row."""
    ra, rb = a["rows"], b["rows"]

    migrations_a, migrations_b = ra["django_migrations"], rb["django_migrations"]
    for key, row in migrations_a.items():
        if key not in migrations_b:
            found.problems.append(f"django_migrations: {key} was applied in A, not recorded in B")
        elif migrations_b[key] != row:
            found.problems.append(f"django_migrations: {key} row changed {row} -> "
                                  f"{migrations_b[key]}")
    new = sorted((row[1], key) for key, row in migrations_b.items() if key not in migrations_a)
    if new:
        found.expected.append(f"django_migrations: {len(new)} migrations applied by the current "
                              f"tree: {', '.join(key for _, key in new)}")

    cts_a, cts_b = ra["django_content_type"], rb["django_content_type"]
    label_a = {i: ".".join(r) for i, r in cts_a.items()}
    label_b = {i: ".".join(r) for i, r in cts_b.items()}
    for ct_id, (app_a, model_a) in sorted(cts_a.items(), key=lambda kv: int(kv[0])):
        if ct_id not in cts_b:
            found.problems.append(f"django_content_type: {app_a}.{model_a} (id {ct_id}) deleted")
            continue
        app_b, model_b = cts_b[ct_id]
        if (app_a, model_a) == (app_b, model_b):
            continue
        table_a = models_a.get(f"{app_a}.{model_a}")
        table_b = models_b.get(f"{app_b}.{model_b}")
        if model_a == model_b and table_a and table_a == table_b and table_a in b["tables"]:
            found.expected.append(
                f"django_content_type id {ct_id}: {app_a}.{model_a} -> {app_b}.{model_b} "
                f"(the model moved apps and kept table {table_a}; permissions stay attached)")
        else:
            found.problems.append(
                f"django_content_type id {ct_id}: {app_a}.{model_a} -> {app_b}.{model_b}, which "
                f"no model move explains (tables: {table_a} -> {table_b})")
    for ct_id, (app_b, model_b) in sorted(cts_b.items(), key=lambda kv: int(kv[0])):
        if ct_id in cts_a:
            continue
        key = f"{app_b}.{model_b}"
        moved_from = [k for k, t in models_a.items() if t == models_b.get(key) and k != key]
        if moved_from and any(".".join(r) in moved_from for r in cts_b.values()):
            found.problems.append(
                f"django_content_type: new {key} (id {ct_id}) for a model that moved from "
                f"{', '.join(moved_from)}, whose content type was not repointed: permissions "
                "granted on it no longer apply")
        else:
            what = "a model of the current tree" if key in models_b else "no model has it"
            found.expected.append(f"django_content_type: new {key} (id {ct_id}, {what})")

    perms_a, perms_b = ra["auth_permission"], rb["auth_permission"]
    for perm_id, row in sorted(perms_a.items(), key=lambda kv: int(kv[0])):
        if perm_id not in perms_b:
            found.problems.append(f"auth_permission: {row[1]} on {label_a.get(row[0])} "
                                  f"(id {perm_id}) deleted")
        elif perms_b[perm_id] != row:
            found.problems.append(f"auth_permission id {perm_id} changed: {row} -> "
                                  f"{perms_b[perm_id]}")
    new = [f"{label_b.get(row[0], row[0])}: {row[1]}"
           for perm_id, row in sorted(perms_b.items(), key=lambda kv: int(kv[0]))
           if perm_id not in perms_a]
    if new:
        found.expected.append(f"auth_permission: {len(new)} new permissions for new models: "
                              f"{', '.join(new)}")


def compare_ledger(a, b, found):
    print(f"\nLedger: {len(a['ledger'])} accounts, {a['ledger_total'][0]} postings in A "
          f"(sum {a['ledger_total'][1]}); {len(a['loan_principal'])} loans with principal")
    for code, balance in a["ledger"].items():
        after = b["ledger"].get(code)
        print(f"  {code:<40} {balance:>18} -> {after}")
        if after != balance:
            found.problems.append(f"ledger account {code}: balance {balance} -> {after}")
    for code in b["ledger"]:
        if code not in a["ledger"]:
            found.problems.append(f"ledger account {code} has postings in B, none in A")
    if a["ledger_total"] != b["ledger_total"]:
        found.problems.append(f"ledger postings (count, sum): {a['ledger_total']} -> "
                              f"{b['ledger_total']}")
    changed = [loan for loan in a["loan_principal"].keys() | b["loan_principal"].keys()
               if a["loan_principal"].get(loan) != b["loan_principal"].get(loan)]
    for loan in sorted(changed, key=int):
        found.problems.append(f"loan {loan}: ledger principal {a['loan_principal'].get(loan)} "
                              f"-> {b['loan_principal'].get(loan)}")
    print(f"  per-loan principal: {len(a['loan_principal']) - len(changed)} of "
          f"{len(a['loan_principal'])} loans identical")


def compare_triggers(a, b, found):
    print(f"\nTriggers: {len(a['triggers'])} in A, {len(b['triggers'])} in B")
    for key, ta in sorted(a["triggers"].items()):
        tb = b["triggers"].get(key)
        if tb is None:
            same_name = [k for k, t in b["triggers"].items() if k not in a["triggers"]
                         and t["table"] == ta["table"]]
            hint = f" (B has new triggers on that table: {', '.join(same_name)})" \
                if same_name else ""
            found.problems.append(f"trigger {key} is missing in B{hint}")
            print(f"  {key}: MISSING")
            continue
        issues = []
        if tb["enabled"] == "D":
            issues.append("disabled in B")
        elif tb["enabled"] != ta["enabled"]:
            issues.append(f"enabled flag {ta['enabled']} -> {tb['enabled']}")
        if tb["definition"] != ta["definition"]:
            issues.append("pg_get_triggerdef differs")
        if tb["function"] != ta["function"]:
            issues.append("its function's body differs")
        for issue in issues:
            found.problems.append(f"trigger {key}: {issue}")
        print(f"  {key}: enabled={tb['enabled']} def={tb['definition']} "
              f"{'; '.join(issues) if issues else 'same'}")
    for key, tb in sorted(b["triggers"].items()):
        if key not in a["triggers"]:
            found.added.append(f"trigger {key} (enabled={tb['enabled']})")


def compare_definitions(kind, a, b, found):
    missing = changed = 0
    for key, definition in sorted(a.items()):
        if key not in b:
            missing += 1
            found.problems.append(f"{kind} {key} is missing in B ({definition})")
        elif b[key] != definition:
            changed += 1
            found.problems.append(f"{kind} {key} changed: {definition} -> {b[key]}")
    added = sorted(key for key in b if key not in a)
    for key in added:
        found.added.append(f"{kind} {key}: {b[key]}")
    print(f"{kind.capitalize()} definitions: {len(a)} in A, {len(a) - missing - changed} "
          f"unchanged in B, {missing} missing, {changed} changed, {len(added)} added")


def compare(a, b, models_a, models_b):
    found = Findings()
    compare_tables(a, b, found)
    compare_bookkeeping(a, b, models_a, models_b, found)
    compare_ledger(a, b, found)
    compare_triggers(a, b, found)
    print()
    compare_definitions("constraint", a["constraints"], b["constraints"], found)
    compare_definitions("index", a["indexes"], b["indexes"], found)
    return found


# ---------------------------------------------------------------------------------------------
# After the migration


def unapplied_migrations(tree, env, found):
    output = manage(tree, env, "showmigrations", "--plan", capture=True, check=False)
    lines = output.stdout.splitlines()
    applied = [line for line in lines if line.startswith("[X]")]
    pending = [line for line in lines if line.startswith("[ ]")]
    print(f"showmigrations --plan: {len(applied)} applied, {len(pending)} unapplied")
    for line in pending:
        print(f"  {line}")
        found.problems.append(f"unapplied migration after migrate: {line[3:].strip()}")
    if output.returncode != 0:
        print(output.stdout)
        found.problems.append(f"showmigrations exited with {output.returncode}")


def models_without_migrations(tree, env, found):
    output = manage(tree, env, "makemigrations", "--check", "--dry-run", capture=True,
                    check=False)
    if output.returncode != 0:
        found.warnings.append("the current tree's models have changes no migration records "
                              "(makemigrations --check):\n      "
                              + output.stdout.strip().replace("\n", "\n      "))
    else:
        print("makemigrations --check: models and migrations agree")


def audit_verify(tree, env, found):
    commands = manage(tree, env, "help", "--commands", capture=True).stdout.split()
    if "audit_verify" not in commands:
        print("audit_verify: the current tree has no such command; skipped")
        return
    result = manage(tree, env, "audit_verify", check=False)
    if result.returncode != 0:
        found.problems.append(f"audit_verify exited with {result.returncode}")
    else:
        print("audit_verify: ok")


# ---------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=DEFAULT_BASE, help="the older commit (%(default)s)")
    parser.add_argument("--database", default=DEFAULT_DATABASE,
                        help="database to drop, recreate and use (%(default)s)")
    parser.add_argument("--keep", action="store_true",
                        help="leave the database, the worktree and the snapshots")
    args = parser.parse_args(argv)
    if args.database in SYSTEM_DATABASES:
        parser.error(f"refusing to drop {args.database}")

    phases = Phases()
    env = django_env(args.database)
    workdir = Path(tempfile.mkdtemp(prefix="migration-forward-"))
    base_tree = workdir / "base"
    worktree_added = False
    found = None
    failure = None
    base_sha = git("rev-parse", "--verify", f"{args.base}^{{commit}}")
    print(f"Base: {args.base} = {base_sha[:12]} ({git('log', '-1', '--format=%s', base_sha)})")
    print(f"Current tree: {REPO} (HEAD {git('rev-parse', '--short=12', 'HEAD')}, "
          f"{len(git('status', '--porcelain').splitlines())} paths with uncommitted changes)")
    print(f"Database: {args.database}; worktree: {base_tree}")
    try:
        with phases("pre-flight: the current tree loads (manage.py check)"):
            # Fails in seconds rather than after the seeding when the current tree is broken.
            manage(REPO, env, "check")
        with phases("set up: database and base worktree"):
            database_recreate(args.database)
            git("worktree", "add", "--detach", str(base_tree), base_sha)
            worktree_added = True
        with phases("base: migrate"):
            manage(base_tree, env, "migrate", "--noinput")
            models_a = models_of(base_tree, env)
        with phases("base: seed_demo"):
            manage(base_tree, env, "seed_demo")
        with phases("snapshot A"):
            a = snapshot(args.database)
            rows = sum(t["rows"] for t in a["tables"].values())
            print(f"{len(a['tables'])} tables, {rows} rows, {len(a['triggers'])} triggers, "
                  f"{len(a['constraints'])} constraints, {len(a['indexes'])} indexes")
        try:
            with phases("current: migrate"):
                manage(REPO, env, "migrate", "--noinput")
        except StepFailed as exc:
            failure = str(exc)  # still look at what the database has become
            print("The current tree's migrate failed; snapshot B is of the database as it left "
                  "it.")
        with phases("snapshot B"):
            try:
                models_b = models_of(REPO, env)
            except StepFailed as exc:  # content types cannot be explained; the rest still can
                print("The current tree's models could not be listed; content type changes "
                      "will show as unexplained.")
                models_b = {}
                failure = failure or str(exc)
            # Over A's columns, in A's order: the same text as A's whole rows, even if a
            # migration added columns.
            b = snapshot(args.database, {table: [c[0] for c in ta["columns"]]
                                         for table, ta in a["tables"].items()})
        with phases("compare"):
            found = compare(a, b, models_a, models_b)
        if failure is None:
            with phases("current: showmigrations, makemigrations --check, audit_verify"):
                unapplied_migrations(REPO, env, found)
                models_without_migrations(REPO, env, found)
                audit_verify(REPO, env, found)
        if args.keep:
            for name, data in (("snapshot_a.json", a), ("snapshot_b.json", b),
                               ("models_a.json", models_a), ("models_b.json", models_b)):
                (workdir / name).write_text(json.dumps(data, indent=1, sort_keys=True))
    except StepFailed as exc:
        failure = str(exc)
    except (psycopg.Error, subprocess.CalledProcessError) as exc:
        failure = f"{exc.__class__.__name__}: {exc}"
        if isinstance(exc, subprocess.CalledProcessError):
            failure += f"\n{exc.stderr}"
    finally:
        with phases("clean up"):
            if not args.keep:
                cleanup_steps = [("drop database", lambda: database_drop(args.database))]
                if worktree_added:
                    cleanup_steps.insert(0, ("remove worktree", lambda: git(
                        "worktree", "remove", "--force", str(base_tree))))
                for what, step in cleanup_steps:
                    try:
                        step()
                    except (psycopg.Error, subprocess.CalledProcessError) as exc:
                        print(f"could not {what}: {exc} {getattr(exc, 'stderr', '') or ''}")
                shutil.rmtree(workdir, ignore_errors=True)
                removed = f"the worktree {base_tree} and " if worktree_added else ""
                print(f"removed {removed}the database {args.database}")
            else:
                print(f"kept: database {args.database}, worktree {base_tree} (remove it with "
                      f"`git worktree remove --force {base_tree}`), snapshots in {workdir}")

    print("\n" + "=" * 78)
    if found is not None:
        found.print()
    phases.report()
    if failure:
        print(f"\nINCOMPLETE: {failure}\n(the check did not run to the end: whatever is listed "
              "above is not a verdict on the migration)")
        return 2
    if found.problems:
        print(f"\nFAILED: {len(found.problems)} things lost or changed unexpectedly "
              f"between {args.base} and the current tree.")
        return 1
    print(f"\nOK: everything in the database seeded at {args.base} is intact after migrating "
          "to the current tree.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
