"""Turning the bytes of an uploaded file into a table of texts, without losing or garbling anything.

Decoding is deterministic: a byte-order mark first, then strict UTF-8, then GB18030 (a superset of GBK).
Never latin-1: it "succeeds" on any bytes and garbles Chinese. The user may name the encoding instead.
Every cell comes back as the text the user typed; the importer gives it meaning.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pandas as pd

from lawstats.errors import InvalidFile

BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
ENCODINGS = ("utf-8-sig", "utf-8", "gb18030", "gbk", "utf-16")  # what a user may choose
CSV_EXTENSIONS = (".csv", ".txt", ".tsv")


@dataclass
class RawTable:
    """A file's cells as text. ``first_data_row`` is the row number (as Excel counts) of frame row 0."""
    frame: pd.DataFrame
    encoding: str | None
    first_data_row: int = 2
    sheet: str | None = None
    notices: list[tuple[str, dict]] = field(default_factory=list)  # (message key, params)

    def excel_row(self, index: int) -> int:
        return self.first_data_row + int(index)


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode bytes to text. Returns (text, encoding used). Raises InvalidFile naming the problem."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as e:
            raise InvalidFile("error.encoding_failed", encoding=encoding, position=getattr(e, "start", "?")) from e
    for bom, name in BOMS:
        if data.startswith(bom):
            return data.decode(name), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as e:
        raise InvalidFile("error.encoding_unknown", position=e.start) from e


def read_csv_bytes(data: bytes, encoding: str | None = None) -> RawTable:
    """Read CSV (or tab-separated "Unicode text") bytes into texts; the first non-empty row is the header."""
    text, used = decode(data, encoding)
    if "\x00" in text:
        raise InvalidFile("error.not_text")
    rows = list(csv.reader(io.StringIO(text), dialect=_sniff(text)))
    skipped = 0
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
        skipped += 1
    if not rows:
        raise InvalidFile("error.empty_file")
    header = [h.strip() for h in rows[0]]
    if not any(header):
        raise InvalidFile("error.no_header")
    width = len(header)
    body = []
    for row in rows[1:]:
        row = row + [""] * (width - len(row))
        body.append(row)
    extra = [i for i, row in enumerate(body) if any(cell.strip() for cell in row[width:])]
    if extra:
        raise InvalidFile("error.row_too_long", row=skipped + 2 + extra[0], width=width)
    frame = pd.DataFrame([r[:width] for r in body], columns=_unique_headers(header), dtype="str")
    return RawTable(frame=frame, encoding=used, first_data_row=skipped + 2)


def _sniff(text: str) -> type[csv.Dialect]:
    first = text.split("\n", 1)[0]
    if first.count("\t") > max(first.count(","), first.count("，")):
        return csv.excel_tab
    return csv.excel


def _unique_headers(header: list[str]) -> list[str]:
    """Blank or repeated headers get a suffix so that no column is dropped; the importer reports them."""
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(header):
        h = h or f"(列{i + 1})"
        if h in seen:
            seen[h] += 1
            h = f"{h}#{seen[h]}"
        else:
            seen[h] = 1
        out.append(h)
    return out
