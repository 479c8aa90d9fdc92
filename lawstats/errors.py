"""The one error type of lawstats: it carries the message a user reads, in their language.

Raise a subclass with a message key from ``lawstats.i18n`` and its parameters; pages and the CLI catch
``LawstatsError`` in one place and show ``message(lang)`` plus ``details`` (a table of row errors, if any).
Anything else that goes wrong is a bug and is not swallowed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


class ByLanguage(dict):
    """A message parameter that reads differently per language (a list of batches, say): {"zh": ..., "en": ...}."""


class LawstatsError(Exception):
    def __init__(self, key: str, details: pd.DataFrame | None = None, **params: Any):
        self.key = key
        self.params = params
        self.details = details
        super().__init__(self.message("en"))

    def message(self, lang: str = "zh") -> str:
        from lawstats.i18n import t  # late import: i18n has no need of errors, but keep the edge one-way

        params = {k: v.get(lang, v.get("en")) if isinstance(v, ByLanguage) else v for k, v in self.params.items()}
        return t(self.key, lang, **params)


class DatabaseError(LawstatsError):
    """The database file cannot be opened or used (locked, corrupt, wrong version, read-only, disk full)."""


class NotFound(LawstatsError):
    """A region, year, table or batch that the store does not hold."""


class UndoRefused(LawstatsError):
    """An undo that would leave rows without their region: ``details`` lists the later batches that use a
    region the batch created (batch_id, file_name, user_name, created_at)."""


class InvalidFile(LawstatsError):
    """An uploaded file is refused as a whole (type, size, encoding, no header...)."""


class ValidationFailed(LawstatsError):
    """A file was read but some cells are wrong; ``details`` lists every problem (row, column, value, kind)."""


class AuthError(LawstatsError):
    """Login refused, account locked or session expired."""
