"""Reference data shared by the simulator, the staging rules and the curated tables."""

from __future__ import annotations

# ISO 4217: code -> (minor units, EUR per unit). The rates are the simulator's fixed reference
# rates: the pipeline converts with the day's staged fx_rates and reads only the minor units.
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

# Money is numeric(18,2) (below 10^16) in PostgreSQL and Spark. A transaction amount must be below
# MAX_AMOUNT so that its EUR value (amount x rate, rates at most MAX_EUR_PER_UNIT EUR per unit)
# fits too: (10^12 - 0.01) x 10^4 < 10^16.
MAX_AMOUNT = 10**12

# The highest believable reference rate, EUR per unit (the dearest currency handled is about 1.2):
# a rate above it is a broken FX file, quarantined in staging, never multiplied into amounts.
MAX_EUR_PER_UNIT = 10_000

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

# Transaction type -> the amount in EUR above which a posting is an outlier (a warn-level rule:
# flagged for review, never dropped). Card, ATM and mobile limits are the usual product limits.
TYPE_LIMITS_EUR: dict[str, float] = {
    "CARD_PAYMENT": 3_000,
    "ONLINE_PURCHASE": 2_500,
    "MOBILE_PAYMENT": 500,
    "TRANSFER_OUT": 50_000,
    "TRANSFER_IN": 50_000,
    "ATM_WITHDRAWAL": 1_000,
    "CASH_DEPOSIT": 15_000,
    "DIRECT_DEBIT": 2_500,
    "FEE": 100,
    "INTEREST": 100,
    "REFUND": 1_500,
    "CHARGEBACK": 2_500,
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

CURRENCY_NAMES: dict[str, str] = {
    "EUR": "Euro",
    "USD": "US dollar",
    "GBP": "Pound sterling",
    "CHF": "Swiss franc",
    "JPY": "Yen",
    "SEK": "Swedish krona",
    "PLN": "Zloty",
    "CAD": "Canadian dollar",
}

TRANSACTION_TYPE_NAMES: dict[str, str] = {
    "CARD_PAYMENT": "Card payment at a point of sale",
    "ONLINE_PURCHASE": "Online purchase (card not present)",
    "MOBILE_PAYMENT": "Mobile wallet payment",
    "TRANSFER_OUT": "Outgoing transfer",
    "TRANSFER_IN": "Incoming transfer",
    "ATM_WITHDRAWAL": "ATM cash withdrawal",
    "CASH_DEPOSIT": "Cash deposit",
    "DIRECT_DEBIT": "Direct debit",
    "FEE": "Bank fee",
    "INTEREST": "Interest credited",
    "REFUND": "Merchant refund",
    "CHARGEBACK": "Card chargeback",
}

# Channel -> (description, card not present). Card-not-present channels carry online fraud risk.
CHANNEL_NAMES: dict[str, tuple[str, bool]] = {
    "POS": ("Point of sale terminal", False),
    "ECOMMERCE": ("E-commerce (card not present)", True),
    "ATM": ("Automated teller machine", False),
    "MOBILE_APP": ("Mobile banking app", True),
    "INTERNET_BANKING": ("Internet banking", True),
    "BRANCH": ("Branch counter", False),
    "SYSTEM": ("Bank batch posting", False),
}

# Product code -> (name, category, annual interest rate, monthly fee in EUR).
PRODUCTS: dict[str, tuple[str, str, float, float]] = {
    "CUR-STD": ("Standard current account", "DEPOSIT", 0.0, 2.0),
    "CUR-PREM": ("Premium current account", "DEPOSIT", 0.0, 9.0),
    "SAV-LIVA": ("Livret A savings", "DEPOSIT", 0.03, 0.0),
    "SAV-LDDS": ("Sustainable development savings", "DEPOSIT", 0.03, 0.0),
    "CARD-CLASSIC": ("Classic debit card", "CARD", 0.0, 3.5),
    "CARD-GOLD": ("Gold credit card", "CARD", 0.0, 11.0),
    "LOAN-PERS": ("Personal loan", "LOAN", 0.059, 0.0),
    "LOAN-AUTO": ("Car loan", "LOAN", 0.045, 0.0),
    "LOAN-MORT": ("Mortgage", "LOAN", 0.034, 0.0),
    "INS-HOME": ("Home insurance", "INSURANCE", 0.0, 18.0),
    "INS-LIFE": ("Life insurance", "INSURANCE", 0.0, 25.0),
    "INV-PEA": ("Equity savings plan (PEA)", "INVESTMENT", 0.0, 4.0),
}
PRODUCT_CATEGORIES = ("DEPOSIT", "CARD", "LOAN", "INSURANCE", "INVESTMENT")

LOAN_DECISIONS = ("PENDING", "APPROVED", "REJECTED")
LOAN_STATUSES = ("APPLIED", "APPROVED", "REJECTED", "ACTIVE", "CLOSED", "DEFAULTED")
INSTALLMENT_STATUSES = ("PAID", "LATE", "PARTIAL", "MISSED")
SURVEY_CHANNELS = ("BRANCH", "PHONE", "MOBILE_APP", "EMAIL")
SURVEY_SERVICES = ("ACCOUNT", "CARD", "LOAN", "ADVICE", "COMPLAINT_HANDLING")
FRAUD_TYPES = ("card_testing", "velocity", "new_country")
