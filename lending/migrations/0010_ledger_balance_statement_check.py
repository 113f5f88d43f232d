"""The ledger's balance rule, checked per statement instead of per row.

Before: `entry_balances`, a django-pgtrigger row-level deferred constraint trigger, summed the
entry's postings once per posting at commit, each call inside pgtrigger's ignore wrapper (a
subtransaction). A close that books 300,000 entries queued 600,000 such checks for its COMMIT.

Now, on PostgreSQL (SQLite, the demo database, has no triggers and is left alone):

* `ledger_postings_inserted` (and `_updated`, `_deleted`, which only run if someone got past the
  append-only triggers): AFTER ... FOR EACH STATEMENT with transition tables. One set-based query
  sums every entry the statement touched over all its postings, and records the entries left
  unbalanced (legs split across statements: `bulk_create` batches) in
  `lending_ledger_open_entry`, keyed by the transaction; the first one recorded also inserts the
  transaction's row in `lending_ledger_balance_check`.
* `ledger_entries_balance`: a DEFERRABLE INITIALLY DEFERRED constraint trigger on that table, so
  at most one deferred event per transaction. At commit (or at `SET CONSTRAINTS ALL IMMEDIATE`)
  it re-sums the recorded entries in one GROUP BY ... HAVING and refuses the first that does
  not balance, with the same message and SQLSTATE (check_violation) as before; then it clears
  the transaction's rows, so a later statement of the same transaction records afresh.

Both tables are UNLOGGED and empty outside running transactions. The checks are plain SQL, not
pgtriggers: `pgtrigger.ignore` cannot switch them off.
"""

import pgtrigger.migrations
from django.db import migrations

FORWARD = r"""
CREATE UNLOGGED TABLE lending_ledger_open_entry (
    xact xid8 NOT NULL,
    entry_id bigint NOT NULL,
    PRIMARY KEY (xact, entry_id)
);
CREATE UNLOGGED TABLE lending_ledger_balance_check (
    xact xid8 PRIMARY KEY
);

CREATE FUNCTION lending_ledger_postings_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched text;
    opened bigint;
BEGIN
    touched := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT entry_id FROM ledger_new_postings'
        WHEN 'DELETE' THEN 'SELECT entry_id FROM ledger_old_postings'
        ELSE 'SELECT entry_id FROM ledger_new_postings
              UNION SELECT entry_id FROM ledger_old_postings'
    END;
    -- Dynamic SQL: planned for this statement's row count, never a plan cached for another.
    EXECUTE 'INSERT INTO lending_ledger_open_entry (xact, entry_id)
             SELECT pg_current_xact_id(), p.entry_id FROM lending_posting p
             WHERE p.entry_id IN (' || touched || ')
             GROUP BY p.entry_id HAVING SUM(p.amount) <> 0
             ON CONFLICT DO NOTHING';
    GET DIAGNOSTICS opened = ROW_COUNT;
    IF opened > 0 THEN
        INSERT INTO lending_ledger_balance_check (xact) VALUES (pg_current_xact_id())
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION lending_ledger_entries_balance() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    unbalanced bigint;
BEGIN
    EXECUTE 'WITH recorded AS (
                 DELETE FROM lending_ledger_open_entry WHERE xact = $1 RETURNING entry_id)
             SELECT p.entry_id FROM lending_posting p
             WHERE p.entry_id IN (SELECT entry_id FROM recorded)
             GROUP BY p.entry_id HAVING SUM(p.amount) <> 0
             ORDER BY p.entry_id LIMIT 1'
        INTO unbalanced USING NEW.xact;
    DELETE FROM lending_ledger_balance_check WHERE xact = NEW.xact;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not balance', unbalanced
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ledger_postings_inserted AFTER INSERT ON lending_posting
    REFERENCING NEW TABLE AS ledger_new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION lending_ledger_postings_changed();
CREATE TRIGGER ledger_postings_updated AFTER UPDATE ON lending_posting
    REFERENCING OLD TABLE AS ledger_old_postings NEW TABLE AS ledger_new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION lending_ledger_postings_changed();
CREATE TRIGGER ledger_postings_deleted AFTER DELETE ON lending_posting
    REFERENCING OLD TABLE AS ledger_old_postings
    FOR EACH STATEMENT EXECUTE FUNCTION lending_ledger_postings_changed();

CREATE CONSTRAINT TRIGGER ledger_entries_balance AFTER INSERT ON lending_ledger_balance_check
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION lending_ledger_entries_balance();
"""

REVERSE = r"""
DROP TRIGGER ledger_postings_inserted ON lending_posting;
DROP TRIGGER ledger_postings_updated ON lending_posting;
DROP TRIGGER ledger_postings_deleted ON lending_posting;
DROP TABLE lending_ledger_balance_check;
DROP TABLE lending_ledger_open_entry;
DROP FUNCTION lending_ledger_postings_changed();
DROP FUNCTION lending_ledger_entries_balance();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)
    return run


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0009_credit_loss_account"),
    ]

    operations = [
        # The old row-level check goes first (pgtrigger's operation: reversed, it puts it back).
        pgtrigger.migrations.RemoveTrigger(model_name="posting", name="entry_balances"),
        migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(REVERSE)),
    ]
