"""Input fields the operations share: euro amounts, code lists, codice fiscale."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields, validate

# Far above any rent or contribution; stops typos of a few extra digits.
MAX_AMOUNT_CENTS = 100_000_000


class Money(fields.Field):
    """A euro amount with at most two decimals, loaded as integer cents and dumped as a "12.50" string."""

    default_error_messages = {"invalid": "Not a valid amount in euro.", "negative": "Must not be negative.",
                              "too_large": "Amount too large.", "precision": "At most two decimals."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise self.make_error("invalid")
        try:
            amount = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("invalid")
        if amount < 0:
            raise self.make_error("negative")
        if amount != amount.quantize(Decimal("0.01")):
            raise self.make_error("precision")
        cents = int(amount * 100)
        if cents > MAX_AMOUNT_CENTS:
            raise self.make_error("too_large")
        return cents

    def _serialize(self, value: int | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else cents_to_euro(value)


def cents_to_euro(cents: int) -> str:
    """1250 -> "12.50"."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def Code(choices: Iterable[Any], **kwargs: Any) -> fields.Field:  # noqa: N802 - reads like a field class
    """A string from a code list."""
    return fields.String(validate=validate.OneOf(tuple(choices)), **kwargs)


_CF_PATTERN = re.compile(r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$")
_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8,
                 12, 14, 16, 10, 22, 25, 24, 23], strict=True))


def _even(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A")


def codice_fiscale_is_valid(value: str) -> bool:
    """Whether ``value`` is a well-formed Italian tax code with a correct check character."""
    if not _CF_PATTERN.match(value):
        return False
    total = sum(_ODD[c] if i % 2 == 0 else _even(c) for i, c in enumerate(value[:15]))
    return chr(ord("A") + total % 26) == value[15]


class CodiceFiscale(fields.String):
    """An Italian tax code, upper-cased, with its check character verified."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if not codice_fiscale_is_valid(text):
            raise ValidationError("Not a valid codice fiscale.")
        return text
