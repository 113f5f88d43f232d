"""The registry of nightly close steps (docs/architecture.md, "The nightly close").

Each app declares its own steps in its `close` module with `@close_step`; `operations` finds
those modules, runs the steps in order and records each one. Neither side imports the other:
a new nightly rule is a new step in the app that owns it, never an edit of the runner."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class CloseStepSpec:
    name: str
    order: int
    # Does the step's work for one business date in the caller's transaction; returns the
    # number of rows it changed.
    run: Callable[[date], int]


_registry: dict[str, CloseStepSpec] = {}


def close_step(*, name: str, order: int):
    """Declare the decorated function as a close step, run after every step of lower order."""

    def register(run):
        existing = _registry.get(name)
        if existing is not None and existing.run is not run:
            raise ValueError(f"Two close steps are named {name!r}.")
        if any(s.order == order and s.name != name for s in _registry.values()):
            raise ValueError(f"Two close steps have order {order}: steps run in a fixed order.")
        _registry[name] = CloseStepSpec(name=name, order=order, run=run)
        return run

    return register


def close_steps() -> list[CloseStepSpec]:
    """The declared steps in the order they run."""
    return sorted(_registry.values(), key=lambda step: step.order)
