"""The bank's source systems, simulated: writes a day's landing files and the manifest that
completes the day. For demos, tests and benchmarks; the pipeline never imports it.

Vectorized with numpy and pyarrow and deterministic for a seed: the population (clients,
accounts, merchants, loans) comes from the seed alone, each day's activity from (seed, day).
Balances chain per account within a day and across the days of one call. Defect rows are
planted at known rates and counted in the manifest, so the pipeline's reconciliation can be
checked exactly.

    population    clients, accounts, cards, merchants; the masters as exported on a day
    identities    real-looking names, e-mails, phones, streets, merchant names (Faker pools)
    places        real cities with their postal codes, per country of residence
    transactions  a day's postings: balances, declines, transfers, planted fraud
    defects       defect rows planted in the transactions file, and their expected outcome
    loans         the loan book and its installments
    day           the other daily sources, and writing a day's landing files + manifest
"""

from bank_assets.simulator.day import DayResult, simulate, write_day
from bank_assets.simulator.defects import DEFECTS
from bank_assets.simulator.population import (
    Population,
    accounts_on,
    build_population,
    clients_on,
    population_size,
)
from bank_assets.simulator.transactions import simulate_transactions

__all__ = [
    "DEFECTS",
    "DayResult",
    "Population",
    "accounts_on",
    "build_population",
    "clients_on",
    "population_size",
    "simulate",
    "simulate_transactions",
    "write_day",
]
