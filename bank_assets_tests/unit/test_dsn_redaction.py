"""What the command line prints of a DSN: never its password."""

from __future__ import annotations


def test_printed_dsns_hide_the_password():
    from bank_assets.cli import redacted

    assert redacted("postgresql://bank:s3cret@db:5432/bank") == "postgresql://bank:***@db:5432/bank"
    assert (
        redacted("postgresql://postgres:@/bank?host=/x") == "postgresql://postgres:@/bank?host=/x"
    )
