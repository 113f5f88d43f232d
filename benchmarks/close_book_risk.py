"""The floors of the risk engine's close steps (benchmarks/close_book.py runs them with the
others): the nightly B-card rescoring and the watch over its score distribution.

The rescoring's floor is the work no rescoring can skip, without the close's chunks: the
night's customers chosen by the product's own statement (`risk.services.rescoring_selection`:
those whose score or review can have moved since the night before, or every customer with an
open cash line when the night before was not planned or the night ends a month), their B-card's
features read by their own statement (`risk.features.behaviour`, 50,000 customers a
statement, as the training reads them), the champion's booster on every row at once on both
cores, and the scores that moved written by one `INSERT ... ON CONFLICT` from a `COPY`. The
policy's changes to limits and rates (a few per cent of the lines on an ordinary night) are
left out, so the floor is if anything low."""

from datetime import timedelta

import numpy as np

OPEN_CASH_LINES_SQL = """
    SELECT l.id, l.customer_id FROM lending_creditline l
    JOIN lending_creditproduct p ON p.id = l.product_id
    WHERE p.kind = 'cash_loan' AND l.status IN ('active', 'frozen') AND l.opened_on <= %s
"""


def floor_rescore_lines(conn, day, ref):
    from risk.features.behaviour import CHUNK, behaviour_matrix, columns_from_rows, columns_query
    from risk.services.rescoring import behaviour_champion, model_scores

    champion = behaviour_champion()
    if champion is None:
        return 0
    lines = conn.execute(OPEN_CASH_LINES_SQL, [day]).fetchall()
    chosen = _chosen_customers(conn, day)
    if chosen is not None:
        lines = [(line, customer) for line, customer in lines if customer in chosen]
    customers = np.array(sorted({customer for _line, customer in lines}), dtype=np.int64)
    parts = []
    for start in range(0, len(customers), CHUNK):
        ids = customers[start:start + CHUNK]
        sql, params = columns_query(ids.tolist(), day)
        parts.append(behaviour_matrix(columns_from_rows(ids, conn.execute(sql, params)
                                                        .fetchall()), day))
    champion.booster.set_param({"nthread": 2})
    try:
        scored = model_scores(champion, np.concatenate(parts))
    finally:
        champion.booster.set_param({"nthread": 1})
    row_of = {int(c): i for i, c in enumerate(customers)}
    conn.execute("CREATE TEMP TABLE floor_scores (line_id bigint, probability numeric, "
                 "grade varchar(1)) ON COMMIT DROP")
    with conn.cursor().copy("COPY floor_scores FROM STDIN") as copy:
        for line_id, customer_id in lines:
            row = row_of[customer_id]
            copy.write_row((line_id, scored.probabilities[row], scored.grades[row]))
    conn.execute("""
        INSERT INTO risk_linescore (line_id, role, model_version_id, probability, grade,
                                    business_date)
        SELECT line_id, 'champion', %(version)s, probability, grade, %(day)s FROM floor_scores
        ON CONFLICT (line_id, role) DO UPDATE SET
            model_version_id = EXCLUDED.model_version_id, probability = EXCLUDED.probability,
            grade = EXCLUDED.grade, business_date = EXCLUDED.business_date
        WHERE (risk_linescore.model_version_id, risk_linescore.probability,
               risk_linescore.grade)
              IS DISTINCT FROM (EXCLUDED.model_version_id, EXCLUDED.probability,
                                EXCLUDED.grade)
    """, {"version": champion.version.pk, "day": day})
    return len(lines)


def _chosen_customers(conn, day) -> set[int] | None:
    """The customers tonight's rescoring chooses, None when it scores every open line."""
    from risk.services.rescoring_selection import (
        STAMP_MARGIN,
        is_month_end,
        moved_customers_query,
    )

    before = conn.execute("SELECT planned_at FROM risk_rescoringnight WHERE business_date = %s",
                          [day - timedelta(days=1)]).fetchone()
    if before is None or is_month_end(day):
        return None
    sql, params = moved_customers_query(day, before[0] - STAMP_MARGIN)
    return {customer for (customer,) in conn.execute(sql, params)}


def floor_watch_models(conn, day, ref):
    """One pass over the champion's latest scores of the open lines: a count per training
    decile, and the mean."""
    row = conn.execute("""
        SELECT id, metrics -> 'score_deciles' FROM risk_modelversion
        WHERE card = 'behaviour' AND status = 'champion'
    """).fetchone()
    if row is None:
        return 0
    version, edges = row
    counts = conn.execute("""
        SELECT width_bucket(s.probability, %(edges)s::numeric[]), count(*), avg(s.probability)
        FROM risk_linescore s JOIN lending_creditline l ON l.id = s.line_id
        WHERE s.role = 'champion' AND s.model_version_id = %(version)s
          AND l.status IN ('active', 'frozen')
        GROUP BY 1
    """, {"edges": [str(e) for e in edges or []], "version": version}).fetchall()
    return conn.execute("""
        INSERT INTO risk_scoredistribution (model_version_id, role, business_date, lines,
                                            bucket_counts, mean_probability, psi, psi_status)
        VALUES (%(version)s, 'champion', %(day)s, %(lines)s, %(counts)s, 0, 0, 'ok')
        ON CONFLICT (model_version_id, business_date) DO UPDATE SET lines = EXCLUDED.lines,
            bucket_counts = EXCLUDED.bucket_counts
    """, {"version": version, "day": day, "lines": sum(c for _b, c, _m in counts),
          "counts": f"[{', '.join(str(c) for _b, c, _m in counts)}]"}).rowcount
