"""Reference data shared by the simulator, the staging rules and the curated tables."""

from __future__ import annotations

# ISO 4217: code -> (minor units, EUR per unit). Rates are fixed reference rates for the simulation.
CURRENCIES: dict[str, tuple[int, float]] = {
    "EUR": (2, 1.0),
    "USD": (2, 0.92),
    "GBP": (2, 1.17),
    "CHF": (2, 1.05),
    "JPY": (0, 0.0062),
    "SEK": (2, 0.087),
    "PLN": (2, 0.23),
    "CAD": (2, 0.68),
}

# Transaction type -> (direction, allowed channels). DEBIT takes money out of the account.
TRANSACTION_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "CARD_PAYMENT": ("DEBIT", ("POS",)),
    "ONLINE_PURCHASE": ("DEBIT", ("ECOMMERCE",)),
    "MOBILE_PAYMENT": ("DEBIT", ("MOBILE_APP",)),
    "TRANSFER_OUT": ("DEBIT", ("MOBILE_APP", "INTERNET_BANKING", "BRANCH")),
    "TRANSFER_IN": ("CREDIT", ("MOBILE_APP", "INTERNET_BANKING", "BRANCH")),
    "ATM_WITHDRAWAL": ("DEBIT", ("ATM",)),
    "CASH_DEPOSIT": ("CREDIT", ("BRANCH", "ATM")),
    "DIRECT_DEBIT": ("DEBIT", ("SYSTEM",)),
    "FEE": ("DEBIT", ("SYSTEM",)),
    "INTEREST": ("CREDIT", ("SYSTEM",)),
    "REFUND": ("CREDIT", ("POS", "ECOMMERCE")),
    "CHARGEBACK": ("CREDIT", ("POS", "ECOMMERCE")),
}

# SYSTEM is the bank's own batch postings (fees, interest, direct debits): no customer channel.
CHANNELS = ("POS", "ECOMMERCE", "ATM", "MOBILE_APP", "INTERNET_BANKING", "BRANCH", "SYSTEM")
DIRECTIONS = ("DEBIT", "CREDIT")
TRANSACTION_STATUSES = ("POSTED", "DECLINED")

SEGMENTS = ("RETAIL", "PREMIUM", "PRIVATE", "SME")
KYC_STATUSES = ("VERIFIED", "PENDING", "EXPIRED")
RISK_RATINGS = ("LOW", "MEDIUM", "HIGH")
CLIENT_STATUSES = ("ACTIVE", "DORMANT", "CLOSED")
ACCOUNT_TYPES = ("CURRENT", "SAVINGS", "CARD", "LOAN")
ACCOUNT_STATUSES = ("OPEN", "BLOCKED", "CLOSED")

# ISO 18245 merchant category codes used by the simulated merchants.
MCC: dict[str, str] = {
    "5411": "Grocery stores, supermarkets",
    "5812": "Eating places, restaurants",
    "5814": "Fast food restaurants",
    "5541": "Service stations",
    "5311": "Department stores",
    "5691": "Men's and women's clothing stores",
    "5732": "Electronics stores",
    "5912": "Drug stores and pharmacies",
    "5942": "Book stores",
    "4111": "Local and suburban commuter transport",
    "4511": "Airlines",
    "7011": "Hotels, motels, resorts",
    "7832": "Motion picture theaters",
    "4900": "Utilities",
    "5999": "Miscellaneous and specialty retail",
}
