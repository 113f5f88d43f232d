"""The B-card's ceiling: the best probability any model could give a training row of a simulated
customer, from the simulator's hidden truth and everything the platform has seen by the row's
snapshot. Pure: dates and numbers in, a probability out; no database.

The generative process (operations/simulation/population.py, restated here because risk may not
import operations; tests/risk/test_bcard.py checks the two against each other by Monte Carlo):
each customer has one loan of `TERM_MONTHS` monthly instalments due d_1 < ... < d_12, and a
hidden probability p. Independently of each other, given p:

- D ~ Bernoulli(p): the customer defaults.
- A defaulter's default instalment K is uniform on the feasible set
  F = {k : d_k + 90 days <= E}, E the simulation's last day; K and every later instalment are
  never paid, so K reaches 60 days past due on d_K + 60 and stays unpaid.
- A non-defaulter pays off early with probability 0.15, on P = d_{S-1} + O, S uniform on 2..11
  and O uniform on 3..19 days (170 equally likely days); a P on or after E means no payoff.
  Every instalment due on or after P is settled on P; the loan is paid off that day.
- Each instalment k is drawn late with probability q = 0.02 + 0.6 p, by s days, s uniform on
  1..25; the draw takes effect only for an instalment that is paid by the schedule (k < K for a
  defaulter) and, for a customer paying off on P, only if d_k + s < P. Otherwise an instalment
  is paid on its due date.

An instalment is "unpaid at t" when it was not paid by the close of t (a payment on t counts).
The row's outcome: an instalment reaches `BAD_DPD` (60) days past due on a day in (t, W], W the
end of the row's window; only a defaulter ever does (lateness stops at 25 days), on d_K + 60.

Derivation. The hidden draws that matter give these hypotheses, with their priors:
  D_k  a defaulter at instalment k in F:                      p / |F|
  N    a non-defaulter with no payoff before E:               (1 - p) (0.85 + 0.15 n_E / 170),
       n_E the payoff days on or after E
  N_P  a non-defaulter paying off on a day P < E:             (1 - p) 0.15 / 170 for each day.
Given a hypothesis the lateness draws are independent across instalments, so the likelihood of
the history seen by t is a product over instalments. Let m be the number of instalments due by
t. Each instalment before the m-th fell due at least 28 days before d_m <= t; what it showed
(paid on time: 1 - q; s days late: q / 25) has the same likelihood under every hypothesis
still possible (any payoff P is after t, so it cut none of their lateness short), and that
factor cancels in Bayes' rule. What is left:

1. The loan paid off by t, or every instalment paid: only non-defaulters do that: 0.
2. Some instalment due by t is unpaid at t; j is the first, u = t - d_j days past due.
   If j < m, or u >= 25, no lateness explains it (at most 25 days, and always settled before
   the next due date): only D_j is possible, and the probability is 1 if t < d_j + 60 <= W,
   else 0. (A row with d_j + 60 <= t is already in default: left out, NaN here.)
   If j = m and u < 25, the likelihood of "m unpaid at t" is
     D_m:            1 (never paid);
     D_k, k > m:     q (25 - u) / 25 (m was paid by the schedule, late by more than u days);
     N:              q (25 - u) / 25;
     N_P, P > t:     q #{s in 1..25 : s > u, d_m + s < P} / 25 (the lateness must also end
                     before the payoff day, or it was not taken and m was paid on time);
     D_k, k < m:     0 (an earlier instalment would be unpaid).
3. Nothing unpaid and not paid off. The m-th instalment (if m > 0) was paid s days late:
     s >= 1:  q / 25 under every hypothesis left (D_k with k > m, N, N_P with P > t): cancels;
     s <= 0:  1 - q under D_k (k > m) and N; (1 - q) + q #{s in 1..25 : d_m + s >= P} / 25
              under N_P, since a lateness running to the payoff day was not taken.
   With m = 0 nothing is due yet and every likelihood is 1.

The probability is the posterior weight of the bad hypotheses (D_k with t < d_k + 60 <= W) over
that of every hypothesis consistent with the history. It is exact, not an approximation: the
Bayes probability of the outcome given p and the whole history by t. Everything else the
platform records (the amount, rate and method of the loan, the limit cuts, the nightly close's
figures) is a function of p, of draws independent of the outcome given p, or of this history,
so conditioning on it changes nothing. Ranking by it gives the highest ROC curve any score
computed from less (no model sees p) can reach, in the population (Neyman-Pearson); on a
finite held-out set a model can land a little above it by chance."""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

# The simulator's generative process (operations/simulation/population.py).
DEFAULT_DPD = 90  # a defaulter's instalment is chosen so that it is 90+ days past due by E
EARLY_PAYOFF_SHARE = 0.15
PAYOFF_SEQS = range(2, 12)  # paid off in the period before instalment S
PAYOFF_OFFSETS = range(3, 20)  # days after the previous due date
LATE_BASE, LATE_SLOPE = 0.02, 0.6  # P(an instalment is late) = 0.02 + 0.6 p
LATE_DAYS = 25  # a late payment comes 1..25 days after the due date
BAD_DPD = 60


@dataclass(frozen=True)
class LoanHistory:
    """A simulated customer's one loan as the platform records it (possibly after the snapshot:
    the function reads only what happened by the close of the snapshot)."""

    due_dates: tuple  # the instalments' due dates, in order
    paid_on: tuple  # the day each instalment was paid; None: unpaid so far
    paid_off_on: date | None  # the day the loan was paid off early, if it was


def bad_probability(p: float, loan: LoanHistory, *, snapshot: date, window_end: date,
                    history_end: date, bad_dpd: int = BAD_DPD) -> float:
    """P(an instalment reaches `bad_dpd` days past due in (snapshot, window_end] | p, the
    history by the close of `snapshot`), for a customer of the simulator whose history ran to
    `history_end` (see the module's docstring for the derivation). NaN when the loan was already
    `bad_dpd` days past due by the snapshot: such a row is not a training row."""
    t, dues, paid_on = snapshot, tuple(loan.due_dates), loan.paid_on
    if window_end > history_end:
        raise ValueError(f"The window ends on {window_end}, after the simulated history "
                         f"({history_end}): its outcome is not the simulator's.")
    if len(paid_on) != len(dues):
        raise ValueError("One payment day (or None) per instalment.")
    m = bisect_right(dues, t) - 1  # the last instalment due by t (0-based; -1: none yet)
    j = next((k for k in range(m + 1) if paid_on[k] is None or paid_on[k] > t), None)
    bad_offset = timedelta(days=bad_dpd)
    if j is not None and dues[j] + bad_offset <= t:
        return float("nan")
    if ((loan.paid_off_on is not None and loan.paid_off_on <= t)
            or all(day is not None and day <= t for day in paid_on)):
        return 0.0
    feasible, now_feasible, now_bad, later, later_bad = _defaulters(
        dues, history_end, t, window_end, m, bad_dpd)
    if not feasible:
        return 0.0
    q = LATE_BASE + LATE_SLOPE * p
    if j is not None:
        u = (t - dues[j]).days
        if j < m or u >= LATE_DAYS:
            return 1.0 if t < dues[j] + bad_offset <= window_end else 0.0
        # j == m, u < 25: a default at m, or m late by more than u days (a non-defaulter, or a
        # defaulter at a later instalment).
        late_beyond = q * (LATE_DAYS - u) / LATE_DAYS
        bad_weight = (p / feasible) * (now_feasible * now_bad + late_beyond * later_bad)
        defaulter_weight = (p / feasible) * (now_feasible + late_beyond * later)
        good_weight = (1 - p) * (
            _no_payoff_prior(dues, history_end) * late_beyond
            + EARLY_PAYOFF_SHARE / _payoff_days() * q
            * _payoff_late_counts(dues, history_end, t, m, u) / LATE_DAYS)
    else:
        if m < 0:
            on_time, cut_short = 1.0, 0.0
        else:
            # Late: the same factor q / 25 under every hypothesis left; on time: 1 - q, and a
            # payoff day may have cut short a lateness drawn for instalment m.
            late = (paid_on[m] - dues[m]).days >= 1
            on_time, cut_short = (1.0, 0.0) if late else (1.0 - q, q / LATE_DAYS)
        payoff_after, payoff_cut = _payoff_on_time_counts(dues, history_end, t, m)
        bad_weight = (p / feasible) * on_time * later_bad
        defaulter_weight = (p / feasible) * on_time * later
        good_weight = (1 - p) * (
            _no_payoff_prior(dues, history_end) * on_time
            + EARLY_PAYOFF_SHARE / _payoff_days() * (on_time * payoff_after
                                                      + cut_short * payoff_cut))
    total = defaulter_weight + good_weight
    return bad_weight / total if total > 0 else 0.0


@lru_cache(maxsize=65536)
def _defaulters(dues: tuple, history_end: date, t: date, window_end: date, m: int,
                bad_dpd: int) -> tuple:
    """|F|; whether instalment m is in F and would turn bad inside the window; how many of F
    come after m, and how many of those turn bad inside the window."""
    feasible = [k for k, due in enumerate(dues)
                if due + timedelta(days=DEFAULT_DPD) <= history_end]

    def bad(k):
        return t < dues[k] + timedelta(days=bad_dpd) <= window_end

    later = [k for k in feasible if k > m]
    return (len(feasible), int(m in feasible), int(m >= 0 and bad(m)), len(later),
            sum(bad(k) for k in later))


def _payoff_days() -> int:
    return len(PAYOFF_SEQS) * len(PAYOFF_OFFSETS)


@lru_cache(maxsize=4096)
def _payoff_on(dues: tuple, history_end: date) -> tuple:
    """Each of the 170 equally likely payoff draws' day, or None: on or after the end, so no
    payoff."""
    days = []
    for seq in PAYOFF_SEQS:
        for offset in PAYOFF_OFFSETS:
            day = dues[seq - 2] + timedelta(days=offset)
            days.append(day if day < history_end else None)
    return tuple(days)


@lru_cache(maxsize=4096)
def _no_payoff_prior(dues: tuple, history_end: date) -> float:
    never = sum(day is None for day in _payoff_on(dues, history_end))
    return (1 - EARLY_PAYOFF_SHARE) + EARLY_PAYOFF_SHARE * never / _payoff_days()


@lru_cache(maxsize=65536)
def _payoff_late_counts(dues: tuple, history_end: date, t: date, m: int, u: int) -> int:
    """Over the payoff days after t: the lateness draws (of 25) that leave instalment m unpaid
    at t, u days past due (late by more than u days, and paid before the payoff day)."""
    return sum(sum(1 for s in range(u + 1, LATE_DAYS + 1) if dues[m] + timedelta(days=s) < day)
               for day in _payoff_on(dues, history_end) if day is not None and day > t)


@lru_cache(maxsize=65536)
def _payoff_on_time_counts(dues: tuple, history_end: date, t: date, m: int) -> tuple:
    """Over the payoff days after t: how many there are, and the lateness draws (of 25) that the
    payoff would have cut short for instalment m (so that it was paid on its due date)."""
    days = [day for day in _payoff_on(dues, history_end) if day is not None and day > t]
    if m < 0:
        return len(days), 0
    cut = sum(sum(1 for s in range(1, LATE_DAYS + 1) if dues[m] + timedelta(days=s) >= day)
              for day in days)
    return len(days), cut
