"""The simulator's hidden truth, kept beside the customers it made so that training can measure
a model against the best possible one (the ceiling)."""

from core.batch import BATCH

from ..models import SimulatedCustomer


def simulated_truths_record(truths) -> None:
    """`truths` are (user, seed, true probability, default month or None), one per simulated
    customer; real customers never get one."""
    rows = []
    for user, seed, probability, default_month in truths:
        if not 0 <= probability <= 1:
            raise ValueError(f"A probability lies in [0, 1], not {probability}.")
        rows.append(SimulatedCustomer(user=user, seed=seed, true_probability=float(probability),
                                      default_month=default_month))
    SimulatedCustomer.objects.bulk_create(rows, batch_size=BATCH)
