"""The population simulator: synthetic customers with a hidden probability of default, and
months of history on the platform written through the lending services' own rules."""

from .books import BulkBook, ServiceBook
from .history import (
    PRODUCT_CODE,
    SimulationRefused,
    SimulationResult,
    sim_product_ensure,
    simulate_history,
)
from .population import Population, generate_population, simulation_end, true_probability

__all__ = [
    "PRODUCT_CODE",
    "BulkBook",
    "Population",
    "ServiceBook",
    "SimulationRefused",
    "SimulationResult",
    "generate_population",
    "sim_product_ensure",
    "simulate_history",
    "simulation_end",
    "true_probability",
]
