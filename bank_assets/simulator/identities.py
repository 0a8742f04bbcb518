"""Real-looking people and merchants from Faker: names, e-mails made from the names, phone
numbers, street addresses (with a city and postal code of `places`), merchant names.

Per-row Faker costs about 200 us (10 s for the 50,000 clients of a 1M-posting day), so each
locale's pool is drawn once per seed (`Faker.seed_instance`) and rows sample it with numpy.
Seeded Faker output is reproducible within one major version only (pyproject pins it).

Every pooled value suits the pipeline: one line without tab or control character (CSV, JSON,
PostgreSQL COPY), and no digit run the card-number detector takes for a card: a German phone
number such as "+49(0)7228 885341" is 13 digits with a Visa prefix, Luhn-valid one time in ten;
such values are left out of the pool.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from faker import Faker

from bank_assets.model import cards
from bank_assets.simulator.places import draw_places

HOME = "FR"  # a French bank: most clients live in France
LOCALES = {
    "FR": "fr_FR",
    "DE": "de_DE",
    "ES": "es_ES",
    "IT": "it_IT",
    "BE": "nl_BE",
    "GB": "en_GB",
    "CH": "de_CH",
}
ABROAD = ("DE", "ES", "IT", "BE", "GB", "CH")  # where the other clients live
POOL_SIZE = 2_000  # Faker draws per locale and kind of value
ADDRESSES_PER_RESIDENT = 2  # the addresses of a country its residents live (and move) at

# A shop's trade by merchant category (ISO 18245), for names such as "Pharmacie Berthelot".
TRADES = {
    "5411": ("Épicerie", "Supermarché", "Primeur"),
    "5812": ("Restaurant", "Brasserie", "Bistrot"),
    "5814": ("Snack", "Pizzeria", "Sandwicherie"),
    "5541": ("Station", "Relais", "Garage"),
    "5311": ("Galeries", "Bazar"),
    "5691": ("Boutique", "Mode"),
    "5732": ("Électroménager", "Multimédia"),
    "5912": ("Pharmacie", "Parapharmacie"),
    "5942": ("Librairie",),
    "4111": ("Taxis", "Transports"),
    "4511": ("Air", "Aviation"),
    "7011": ("Hôtel", "Auberge"),
    "7832": ("Cinéma",),
    "4900": ("Énergies", "Eaux"),
    "5999": ("Comptoir", "Atelier", "Maison"),
}
COMPANY_SHARE = 0.25  # merchants trading under a company name ("Lecomte S.A.S.")


@dataclass(frozen=True)
class Pool:
    """One locale's Faker values for a seed (object arrays of str)."""

    first_names: np.ndarray
    last_names: np.ndarray
    phones: np.ndarray
    email_domains: np.ndarray
    streets: np.ndarray
    companies: np.ndarray  # merchants are French: HOME's only


@functools.cache
def pool(country: str, seed: int) -> Pool:
    """The Faker pool of the locale of `country`, for `seed` (drawn once, then cached)."""
    fake = Faker(LOCALES[country])
    fake.seed_instance(seed)

    def draw(make, min_length: int = 1) -> np.ndarray:
        values = [v for v in (_one_line(make()) for _ in range(POOL_SIZE)) if len(v) >= min_length]
        suspects = set(cards.candidates(pa.array(values, pa.string())).tolist())
        kept = [v for i, v in enumerate(values) if i not in suspects or not cards.find(v)]
        return np.array(kept, dtype=object)

    # Names of 1-2 letters are left out: the analysts' initial ("P.") would show them nearly whole.
    return Pool(
        first_names=draw(fake.first_name, 3),
        last_names=draw(fake.last_name, 3),
        phones=draw(fake.phone_number),
        email_domains=draw(fake.free_email_domain),
        streets=draw(fake.street_address),
        companies=draw(fake.company) if country == HOME else np.array([], dtype=object),
    )


def people(
    seed: int, countries: np.ndarray, numbers: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Per client (its country of residence and client number): first and last name from its
    country's pool, an e-mail made of them ("helene.berthelot42@orange.fr"), a phone number."""
    columns = ("first_name", "last_name", "email", "phone")
    out = {c: np.empty(len(countries), dtype=object) for c in columns}
    for country in sorted(set(countries.tolist())):
        rows = np.flatnonzero(countries == country)
        p = pool(country, seed)
        first, last, phone, domain = (
            values[rng.integers(0, len(values), len(rows))]
            for values in (p.first_names, p.last_names, p.phones, p.email_domains)
        )
        local = _email_part(first) + "." + _email_part(last) + numbers[rows].astype(str)
        out["first_name"][rows], out["last_name"][rows], out["phone"][rows] = first, last, phone
        out["email"][rows] = local + "@" + domain
    return pd.DataFrame(out)


def address_book(seed: int, residents: dict[str, int]) -> pd.DataFrame:
    """ADDRESSES_PER_RESIDENT addresses (address_line, postal_code, city that belong together)
    per resident of each country, one block per country, in `residents` order."""
    rng = np.random.default_rng([seed, 0, 2])
    blocks = []
    for country, n in residents.items():
        size = ADDRESSES_PER_RESIDENT * n
        streets = pool(country, seed).streets
        city, code = draw_places(rng, country, size)
        line = streets[rng.integers(0, len(streets), size)]
        blocks.append(pd.DataFrame({"address_line": line, "postal_code": code, "city": city}))
    return pd.concat(blocks, ignore_index=True)


def merchant_names(seed: int, mcc: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A French merchant's name per MCC: its trade and a family name ("Pharmacie Berthelot"), or
    a company's name (COMPANY_SHARE of them)."""
    p = pool(HOME, seed)
    n = len(mcc)
    trade = np.array([_trade(m, u) for m, u in zip(mcc, rng.random(n))], dtype=object)
    family = p.last_names[rng.integers(0, len(p.last_names), n)]
    company = p.companies[rng.integers(0, len(p.companies), n)]
    return np.where(rng.random(n) < COMPANY_SHARE, company, trade + " " + family)


def _trade(mcc: str, u: float) -> str:
    words = TRADES.get(mcc, ("Commerce",))
    return words[int(u * len(words))]


_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ı": "i"})


@functools.cache
def _email_key(name: str) -> str:
    """A name as an e-mail address part: lower case ASCII letters, digits and hyphens."""
    folded = unicodedata.normalize("NFKD", name.lower().translate(_FOLD))
    return re.sub(r"[^a-z0-9-]", "", folded.encode("ascii", "ignore").decode())


def _email_part(names: np.ndarray) -> np.ndarray:
    return np.array([_email_key(n) for n in names], dtype=object)


def _one_line(value: str) -> str:
    """Line breaks become ", " (en_GB's "Flat 3\\nKing Street"), other white space or control
    characters one space."""
    value = re.sub(r"\s*\n\s*", ", ", value)
    return re.sub(r"[\s\x00-\x1f\x7f]+", " ", value).strip()
