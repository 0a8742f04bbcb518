"""Reference dimensions kept in code: transaction types and channels."""

from bank_assets.builders.assets import reference_asset
from bank_assets.builders.catalog import in_domain
from bank_assets.model import reference as ref

assets = [
    reference_asset(
        "dw.dim_transaction_types",
        lambda: [
            {
                "transaction_type_key": key,
                "transaction_type": code,
                "description": ref.TRANSACTION_TYPE_NAMES[code],
                "direction": direction,
                "channels": ", ".join(channels),
            }
            for key, (code, (direction, channels)) in enumerate(ref.TRANSACTION_TYPES.items(), 1)
        ],
    ),
    reference_asset(
        "dw.dim_channels",
        lambda: [
            {
                "channel_key": key,
                "channel": code,
                "description": ref.CHANNEL_NAMES[code][0],
                "is_card_not_present": ref.CHANNEL_NAMES[code][1],
            }
            for key, code in enumerate(ref.CHANNELS, 1)
        ],
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
