"""Where people live: real cities with their real postal codes, per country of residence.

Faker draws a city and a postal code independently (fr_FR: a made-up town, any department's
code), so an address would not hold together; this short gazetteer gives the city and a postal
code of that city, Faker the street. Weights are populations in thousands (rounded), so big
cities hold more clients. Great Britain lists outward codes (the district): the inward part
("1AB") is drawn. The data is `places.csv`, beside this module.
"""

from __future__ import annotations

import csv
from importlib.resources import files

import numpy as np


def _gazetteer() -> dict[str, tuple[tuple[str, int, str], ...]]:
    """places.csv: country, city, population in thousands, its postal codes (space-separated)."""
    cities: dict[str, list[tuple[str, int, str]]] = {}
    with (files("bank_assets.simulator") / "places.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            cities.setdefault(row["country"], []).append(
                (row["city"], int(row["thousands"]), row["postal_codes"])
            )
    return {country: tuple(rows) for country, rows in cities.items()}


CITIES = _gazetteer()
_INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))  # those a British inward code uses


def draw_places(rng: np.random.Generator, country: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` (city, postal code) pairs of `country`, cities weighted by population."""
    cities = CITIES[country]
    weight = np.array([people for _, people, _ in cities], float)
    city = rng.choice(len(cities), n, p=weight / weight.sum())
    codes = [cities[c][2].split() for c in city]
    code = np.array([c[int(x * len(c))] for c, x in zip(codes, rng.random(n))], dtype=object)
    if country == "GB":
        digit = rng.integers(0, 10, n).astype(str)
        letters = _INWARD_LETTERS[rng.integers(0, len(_INWARD_LETTERS), (n, 2))]
        code = code + " " + digit.astype(object) + letters[:, 0] + letters[:, 1]
    return np.array([cities[c][0] for c in city], dtype=object), code
