"""The registry of nightly close steps (docs/architecture.md, "The nightly close").

Each app declares its own steps in its `close` module with `@close_step`; `operations` finds
those modules, runs the steps in order and records each one. Neither side imports the other:
a new nightly rule is a new step in the app that owns it, never an edit of the runner.

A step has two parts:

* `ids(day)`: the ids of what the step may change that night (loans, lines, ...), ascending,
  found cheaply (an index, not a scan of the book). The runner cuts them into chunks of
  `CLOSE_CHUNK_SIZE` consecutive ids, once, when the step starts. A step without `ids` is one
  chunk.
* the decorated function `run(day, first_id, last_id)`: does one chunk, the ids from `first_id`
  to `last_id` (both included; both None for a one-chunk step), with set-based SQL in the
  caller's transaction, and returns how many rows it changed. It must select its own work again
  within those bounds (the ids are bounds, not a promise) and do nothing for work already done,
  since a chunk cut short by a dead worker is run again from scratch."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class CloseStepSpec:
    name: str
    order: int
    run: Callable[[date, int | None, int | None], int]
    ids: Callable[[date], Iterable[int]] | None = None


_registry: dict[str, CloseStepSpec] = {}


def close_step(*, name: str, order: int, ids: Callable[[date], Iterable[int]] | None = None):
    """Declare the decorated function as a close step, run after every step of lower order and
    split into chunks over the ids `ids(day)` returns."""

    def register(run):
        existing = _registry.get(name)
        if existing is not None and existing.run is not run:
            raise ValueError(f"Two close steps are named {name!r}.")
        if any(s.order == order and s.name != name for s in _registry.values()):
            raise ValueError(f"Two close steps have order {order}: steps run in a fixed order.")
        _registry[name] = CloseStepSpec(name=name, order=order, run=run, ids=ids)
        return run

    return register


def close_steps() -> list[CloseStepSpec]:
    """The declared steps in the order they run."""
    return sorted(_registry.values(), key=lambda step: step.order)


def close_step_named(name: str) -> CloseStepSpec:
    return _registry[name]


def chunk_bounds(ids: Iterable[int], size: int) -> list[tuple[int, int]]:
    """(first, last) of each run of `size` consecutive ids, in order."""
    ids = list(ids)
    return [(ids[start], ids[min(start + size, len(ids)) - 1])
            for start in range(0, len(ids), size)]
