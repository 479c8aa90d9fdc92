"""Turning the bytes of an uploaded file into a table of texts, without losing or garbling anything.

Decoding is deterministic: a byte-order mark first, then strict UTF-8, then GB18030 (a superset of GBK),
unless that reading is most likely garbled (a Big5 file): then the user is asked for the encoding. Never
latin-1: it "succeeds" on any bytes and garbles Chinese. The user may name the encoding instead.
A line over ``MAX_LINE_BYTES`` is refused before anything parses it; a file of one unknown column is "not a
table" and is never quoted (it may be a link to a secret); a formula cell without a saved result is refused.
XLSX is read with openpyxl in read-only mode after the zip directory has been checked (zip bombs, macros).
Every cell comes back as the text the user typed (numbers as their shortest text, percent-formatted cells
with ``%``); the importer gives it meaning. Anything refused raises ``InvalidFile`` with a message key.

Large CSV files take a fast path (pyarrow's multi-threaded reader, all columns as text); files it cannot read
exactly (ragged rows, blank lines) go through Python's csv module, which keeps every row and its number.
``iter_csv_chunks`` reads the same texts a chunk of rows at a time, from bytes or straight from disk, for
imports too large to hold as one table of texts (a national data set).
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import datetime as dt
import io
import itertools
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from lawstats.errors import InvalidFile

BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be", "big5")  # the user's choices
CSV_EXTENSIONS = (".csv", ".txt", ".tsv")
XLSX_EXTENSIONS = (".xlsx",)
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlsb", ".xlam")
OLD_EXTENSIONS = (".xls", ".et", ".ett", ".xlt")
MAX_FILE_BYTES = 256 * 2**20  # a 1,000,000-row CSV is ~100 MB
MAX_XLSX_EXPANDED = 512 * 2**20  # sum of the uncompressed sizes the zip directory declares
MAX_XLSX_RATIO = 200  # uncompressed / compressed, for members over 1 MB; real sheets compress 5-30x
HEADER_SEARCH_ROWS = 15  # titles above the header are looked through this far
UTF8_CHECK_SLICE = 16 * 2**20  # bytes decoded at a time when checking a large file is UTF-8
MAX_BLANK_RUN = 10_000  # a sheet "formatted to the bottom" ends after this many empty rows
CHUNK_ROWS = 500_000  # rows of a streamed CSV validated at a time (``iter_csv_chunks``)
ARROW_BLOCK_BYTES = 16 * 2**20  # pyarrow reads CSV (whole or streamed) in blocks of this size
EXACT_BLOCK_ROWS = 50_000  # rows the csv module reads at a time when streaming
MAX_LINE_BYTES = 8 * 2**20  # a table's line: 100,000 columns of header fit; a one-line 200 MB file does not
LINE_CHECK_SLICE = 16 * 2**20  # bytes looked through at a time for line ends

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .et, and encrypted .xlsx
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")

IsHeader = Callable[[str], object]  # a header text -> the column it names (any hashable), or None


@dataclass
class RawTable:
    """A file's cells as text. ``first_data_row`` is the row number (as Excel counts) of frame row 0.

    ``frame`` has one column per header (blank or repeated headers made unique) and str cells ("" for
    blank); rows keep their place, so ``excel_row(index)`` names the row the user sees.
    """
    frame: pd.DataFrame
    encoding: str | None
    first_data_row: int = 2
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    notices: list[tuple[str, dict]] = field(default_factory=list)  # (message key, params)

    def excel_row(self, index: int) -> int:
        return self.first_data_row + int(index)


# ---------------------------------------------------------------------------------------------------------
# Any file


def read_file(file_name: str, data: bytes, *, encoding: str | None = None, sheet: str | None = None,
              is_header: IsHeader | None = None, max_bytes: int = MAX_FILE_BYTES) -> RawTable:
    """Read an uploaded file (CSV/TXT/TSV or XLSX) into texts, or refuse it with ``InvalidFile``.

    The type comes from the bytes as much as from the name: an .xlsx that is not a zip, an .xls saved under
    another name, a workbook with macros are all refused with a message saying what to do.
    ``is_header(text)`` names the column a header text means (None if none); with it, title rows above the
    header are skipped and merged two-row headers are read as one.
    """
    suffix = PurePath(file_name or "").suffix.lower()
    if len(data) > max_bytes:
        raise InvalidFile("error.too_large", size=_mb(len(data)), limit=_mb(max_bytes))
    if suffix in MACRO_EXTENSIONS:
        raise InvalidFile("error.xlsx_macros")
    if not data or data.isspace() or data in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):  # no copy
        raise InvalidFile("error.empty_file")
    if data.startswith(_OLE_MAGIC) or suffix in OLD_EXTENSIONS:
        raise InvalidFile("error.xls_old")
    if suffix in XLSX_EXTENSIONS or data.startswith(_ZIP_MAGIC):
        if not data.startswith(_ZIP_MAGIC):
            raise InvalidFile("error.xlsx_not_zip")
        return read_xlsx_bytes(data, sheet=sheet, is_header=is_header)
    if suffix in CSV_EXTENSIONS or suffix == "":
        return read_csv_bytes(data, encoding, is_header=is_header)
    raise InvalidFile("error.file_type", suffix=suffix or file_name)


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------------------------------------
# Text


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode bytes to text. Returns (text, encoding used). Raises InvalidFile naming the problem."""
    if encoding:
        encoding = _codec_name(encoding, data)
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as e:
            raise InvalidFile("error.encoding_failed", encoding=encoding, position=getattr(e, "start", "?")) from e
    for bom, name in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as e:
                raise InvalidFile("error.encoding_failed", encoding=name, position=e.start) from e
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as e:
        raise InvalidFile("error.encoding_unknown", position=e.start) from e
    check_plausible_gb18030(data)
    return text, "gb18030"


# Nearly any bytes decode as GB18030, so a decode that succeeds proves little: a Big5 file decodes into rare
# characters, kana and private-use marks (新華鄉 -> 穝地秏). Chinese text written in GBK is made almost only of
# GB2312 characters; Big5 text of Big5's common characters. The file's first lines are read both ways; when
# Big5 reads better, or GB18030 reads as mostly rare characters, the user is asked for the encoding instead of
# getting garbled names stored. A tie goes to GB18030 (this is a mainland tool): a Big5 text reads as common
# GB2312 characters only by chance, about 0.4 per character, so a tie means a text of a few characters.
PLAUSIBILITY_BYTES = 2**20  # bytes read both ways
MIN_COMMON_SHARE = 0.5  # below this share of common characters a GB18030 reading is refused


def check_plausible_gb18030(data: bytes) -> None:
    """Refuse (asking for the encoding) a GB18030 reading that is most likely wrong; see above."""
    head = data[:PLAUSIBILITY_BYTES]
    if len(data) > len(head):
        head = head[:head.rfind(b"\n") + 1] or head  # whole lines: neither encoding has 0x0A in a character
    gb_text = head.decode("gb18030", "replace")
    gb_share = _common_share(gb_text, _common_in_gb)
    if gb_share is None:
        return
    try:
        big5_text = head.decode("big5")
    except UnicodeDecodeError:
        big5_text = None
    big5_share = _common_share(big5_text, _common_in_big5) if big5_text is not None else None
    if big5_share is not None and big5_share > gb_share:
        raise InvalidFile("error.encoding_ambiguous", gb=_first_words(gb_text), big5=_first_words(big5_text))
    if gb_share < MIN_COMMON_SHARE:
        raise InvalidFile("error.encoding_unlikely", sample=_first_words(gb_text))


def _common_share(text: str, is_common: Callable[[str], bool]) -> float | None:
    """The share of the text's non-ASCII characters that ``is_common`` accepts; None when there are none."""
    counts = collections.Counter(text)
    total = common = 0
    for char, count in counts.items():
        if char.isascii():
            continue
        total += count
        common += count if is_common(char) else 0
    return common / total if total else None


def _common_in_gb(char: str) -> bool:
    """A GB2312 hanzi (rows B0-F7), Chinese punctuation (row A1) or a full-width letter or digit (row A3),
    found by its GBK bytes (Python's gb2312 codec maps a few punctuation marks differently, · among them)."""
    try:
        code = char.encode("gbk")
    except UnicodeEncodeError:
        return False
    if len(code) != 2 or code[1] < 0xA1:
        return False
    return code[0] in (0xA1, 0xA3) or 0xB0 <= code[0] <= 0xF7


def _common_in_big5(char: str) -> bool:
    """Big5 punctuation (A140-A3BF) or one of its 5,401 common hanzi (A440-C67E)."""
    try:
        code = int.from_bytes(char.encode("big5"), "big")
    except UnicodeEncodeError:
        return False
    return 0xA140 <= code <= 0xA3BF or 0xA440 <= code <= 0xC67E


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _first_words(text: str) -> str:
    """The first run of non-ASCII characters (at most 12), to show the user how a reading looks."""
    match = _NON_ASCII_RUN.search(text)
    return match.group(0)[:12] if match else ""


def _codec_name(encoding: str, data: bytes) -> str:
    """The user's choice, refusing latin-1 and its aliases (they decode anything, garbling Chinese)."""
    import codecs

    try:
        name = codecs.lookup(encoding).name
    except LookupError as e:
        raise InvalidFile("error.encoding_failed", encoding=encoding, position="?") from e
    if name in ("latin-1", "iso8859-1", "cp1252", "ascii") and name not in ENCODINGS:
        raise InvalidFile("error.encoding_failed", encoding=encoding, position="?")
    if name == "utf-8" and data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    return name


def to_utf8(data: bytes, encoding: str | None = None) -> tuple[bytes, str]:
    """The file as UTF-8 bytes without a BOM, and the encoding it was in. UTF-8 input is not copied."""
    if encoding is None and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        try:
            _check_utf8(body)
            return body, "utf-8-sig" if body is not data else "utf-8"
        except UnicodeDecodeError:
            if body is not data:
                raise InvalidFile("error.encoding_failed", encoding="utf-8-sig", position="?") from None
    text, used = decode(data, encoding)
    return text.lstrip("\ufeff").encode("utf-8"), used


def _check_utf8(data: bytes) -> None:
    """Raise UnicodeDecodeError unless ``data`` is UTF-8; decoded in slices, as the text itself is not needed."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data), UTF8_CHECK_SLICE):
        decoder.decode(view[start:start + UTF8_CHECK_SLICE])
    decoder.decode(b"", final=True)


def read_csv_bytes(data: bytes, encoding: str | None = None, *, is_header: IsHeader | None = None) -> RawTable:
    """Read CSV (or tab-separated "Unicode text") bytes into texts; see ``read_file``."""
    utf8, used, delimiter = _csv_text(data, encoding)
    table = _fast_csv(utf8, delimiter)
    if table is not None:
        head = [[_text(v) for v in row.values()] for row in table.slice(0, HEADER_SEARCH_ROWS).to_pylist()]
        found = locate_header(head, is_header)
        body = table.slice(found.body_start)
        names = _unique_headers(found.headers)
        frame = body.rename_columns([f"c{i}" for i in range(body.num_columns)]).to_pandas()
        frame.columns = names
        frame = _drop_empty_columns(frame, found.headers)
        return RawTable(frame=frame, encoding=used, first_data_row=found.body_start + 1,
                        notices=found.notices + decoded_names_notice(frame, used, is_header))
    try:
        rows = list(csv.reader(io.StringIO(utf8.decode("utf-8"), newline=""), delimiter=delimiter))
    except csv.Error as e:
        raise InvalidFile("error.csv_unreadable", reason=str(e)) from e
    return _table_from_rows(rows, used, None, [], is_header, strict_width=True)


def _csv_text(data: bytes, encoding: str | None) -> tuple[bytes, str, str]:
    """(UTF-8 bytes, the encoding they were in, the delimiter) of a CSV file, or ``InvalidFile``."""
    check_line_lengths(data)
    utf8, used = to_utf8(data, encoding)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        check_line_lengths(utf8)  # UTF-16 has 0x0A bytes inside characters: its lines are counted once decoded
    if b"\x00" in utf8:
        raise InvalidFile("error.not_text")
    if not utf8 or utf8.isspace():  # strip() would copy a large file
        raise InvalidFile("error.empty_file")
    return utf8, used, _delimiter(utf8)


def check_line_lengths(source: bytes | os.PathLike) -> None:
    """Refuse a text file with a line over ``MAX_LINE_BYTES`` before anything parses it, looking through it
    a slice at a time and stopping at the first such line: the parsers would hold the whole line, several
    times over (a one-line 200 MB file took 1.6 GB before it was refused). Workbooks and UTF-16 files
    (whose 0x0A bytes may be inside characters) are left to their readers."""
    with _slices(source) as slices:
        carried = lines = 0  # bytes of the line running into the next slice; lines ended so far
        for piece in slices:
            if lines == 0 and carried == 0 and piece[:4].tobytes().startswith(_NOT_LINES):
                return
            ends = np.flatnonzero(np.frombuffer(piece, dtype=np.uint8) == 0x0A)
            if not len(ends):
                carried += len(piece)
            else:
                lengths = np.diff(ends, prepend=-1 - carried) - 1
                too_long = np.flatnonzero(lengths > MAX_LINE_BYTES)
                if len(too_long):
                    carried = MAX_LINE_BYTES + 1
                    lines += int(too_long[0])
                    break
                lines += len(ends)
                carried = len(piece) - 1 - int(ends[-1])
            if carried > MAX_LINE_BYTES:
                break
        if carried > MAX_LINE_BYTES:
            raise InvalidFile("error.line_too_long", line=lines + 1, limit=_mb(MAX_LINE_BYTES))


_NOT_LINES = (_ZIP_MAGIC, _OLE_MAGIC[:4], b"\xff\xfe", b"\xfe\xff")


@contextlib.contextmanager
def _slices(source: bytes | os.PathLike) -> Iterator[Iterator[memoryview]]:
    """The bytes of ``source`` (bytes, or a file read as it goes) as memoryviews of ``LINE_CHECK_SLICE``."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            yield (memoryview(piece) for piece in iter(lambda: f.read(LINE_CHECK_SLICE), b""))
    else:
        view = memoryview(source)
        yield (view[start:start + LINE_CHECK_SLICE] for start in range(0, len(view), LINE_CHECK_SLICE))


def _delimiter(utf8: bytes) -> str:
    return _sniff(utf8[:65536].split(b"\n", 1)[0].decode("utf-8", "ignore"))


def iter_csv_chunks(source: bytes | os.PathLike, encoding: str | None = None, *,
                    is_header: IsHeader | None = None, rows: int | None = None) -> Iterator[RawTable]:
    """A CSV's texts ``rows`` rows at a time, read as ``read_csv_bytes`` reads them: the same header, the
    same row numbers (each chunk's ``first_data_row``), the same refusals. A large file is then never held
    as one table of texts. A column without header is kept in the chunks where it has a value.

    ``source``: the file's bytes, or its path: a UTF-8 file on disk is read as the chunks are needed, so
    not even its bytes are held (other encodings are decoded in memory first)."""
    rows = rows or CHUNK_ROWS
    stream = _csv_stream(source, encoding)
    blocks = _record_blocks(stream)
    first = next(blocks)
    found = locate_header(first.iloc[:HEADER_SEARCH_ROWS + 1].to_numpy(dtype=object, na_value="").tolist(),
                          is_header)
    headers = found.headers[:int(first.iloc[found.body_start - 1].notna().sum())]  # as _table_from_rows
    names = _unique_headers(headers)
    pending: list[pd.DataFrame] = []
    pending_rows = done_rows = consumed = 0  # data rows waiting, data rows yielded, records read
    for block in itertools.chain([first], blocks):
        skip = found.body_start if consumed == 0 else 0
        pending.append(_fit_width(block.iloc[skip:], len(names), first_row=consumed + skip + 1))
        pending_rows += len(block) - skip
        consumed += len(block)
        if pending_rows >= rows:
            yield _chunk(pending, names, headers, found, stream.encoding, done_rows, is_header)
            done_rows += pending_rows
            pending, pending_rows = [], 0
    if pending_rows or done_rows == 0:
        yield _chunk(pending, names, headers, found, stream.encoding, done_rows, is_header)


@dataclass
class _CsvStream:
    """Where a streamed CSV's UTF-8 text comes from: ``arrow`` for pyarrow (a path or a buffer), ``binary()``
    for Python's csv module, ``head`` its first bytes (no BOM)."""
    arrow: object
    binary: Callable[[], io.BufferedIOBase]
    head: bytes
    encoding: str
    delimiter: str


def _csv_stream(source: bytes | os.PathLike, encoding: str | None) -> _CsvStream:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        check_line_lengths(path)
        used = _utf8_file(path, encoding)
        if used is None:  # another encoding: decode in memory, as a whole read does
            return _csv_stream(path.read_bytes(), encoding)
        with open(path, "rb") as f:
            head = f.read(65536).removeprefix(b"\xef\xbb\xbf")
        return _CsvStream(str(path), lambda: open(path, "rb"), head, used, _delimiter(head))
    utf8, used, delimiter = _csv_text(source, encoding)
    return _CsvStream(pa.BufferReader(utf8), lambda: io.BytesIO(utf8), utf8[:65536], used, delimiter)


def _utf8_file(path: Path, encoding: str | None) -> str | None:
    """``utf-8`` or ``utf-8-sig`` when the file is UTF-8 text (checked a slice at a time), None when it is
    in another encoding; refuses binary and empty files as ``_csv_text`` does."""
    if encoding not in (None, "utf-8", "utf-8-sig"):
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    blank = True
    with open(path, "rb") as f:
        first = f.read(UTF8_CHECK_SLICE)
        if first.startswith((b"\xff\xfe", b"\xfe\xff")):
            return None
        bom = first.startswith(b"\xef\xbb\xbf")
        piece = first[3:] if bom else first
        try:
            while piece:
                if b"\x00" in piece:
                    raise InvalidFile("error.not_text")
                blank = blank and piece.isspace()
                decoder.decode(piece)
                piece = f.read(UTF8_CHECK_SLICE)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:  # GB18030, or broken UTF-8: the in-memory path decodes it or says where
            return None
    if blank:
        raise InvalidFile("error.empty_file")
    return "utf-8-sig" if bom else "utf-8"


def _chunk(frames: list[pd.DataFrame], names: list[str], headers: list[str], found, used: str,
           before: int, is_header: IsHeader | None) -> RawTable:
    """One chunk's texts under the file's headers; ``before``: data rows in the chunks before it."""
    frame = _drop_empty_columns(pd.concat(frames, ignore_index=True).set_axis(names, axis=1), headers)
    notices = list(found.notices) + decoded_names_notice(frame, used, is_header) if not before else []
    return RawTable(frame=frame, encoding=used, first_data_row=found.body_start + 1 + before, notices=notices)


def _fit_width(block: pd.DataFrame, width: int, first_row: int) -> pd.DataFrame:
    """A block of records cut or padded to the header's width; a cell right of it is an error (an unquoted
    1,234), as in ``_table_from_rows``. ``first_row``: the block's first row as Excel counts."""
    if block.shape[1] > width:
        extra = block.iloc[:, width:]
        filled = extra.apply(lambda c: c.fillna("").astype(str).str.strip().ne("")).any(axis=1).to_numpy()
        if filled.any():
            row = first_row + int(filled.argmax())
            raise InvalidFile("error.row_too_long", row=row, width=width)
        block = block.iloc[:, :width]
    block = block.fillna("") if block.shape[1] else block
    for i in range(block.shape[1], width):
        block[i] = ""
    block.columns = range(width)
    return block


def _record_blocks(stream: _CsvStream) -> Iterator[pd.DataFrame]:
    """Every record of the file, a block at a time, as frames of texts (columns 0, 1, ...; a short record
    has missing cells). pyarrow reads while it can; where it stops (a ragged row, a blank line) Python's csv
    module goes on from the first record pyarrow did not give."""
    done = 0
    width = _first_record_width(stream.head, stream.delimiter)
    if width is not None:
        try:
            reader = pa_csv.open_csv(stream.arrow, **_arrow_options(stream.delimiter, width, ARROW_BLOCK_BYTES))
            for batch in reader:
                frame = batch.to_pandas()
                frame.columns = range(frame.shape[1])
                done += len(frame)
                yield frame
            return
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    with io.TextIOWrapper(stream.binary(), encoding="utf-8-sig", newline="") as text:
        records = csv.reader(text, delimiter=stream.delimiter)
        try:
            for _ in itertools.islice(records, done):
                pass
            while block := list(itertools.islice(records, EXACT_BLOCK_ROWS)):
                width = max(map(len, block))
                yield pd.DataFrame([row + [None] * (width - len(row)) for row in block], dtype="str")
        except csv.Error as e:
            raise InvalidFile("error.csv_unreadable", reason=str(e)) from e


def _fast_csv(utf8: bytes, delimiter: str) -> pa.Table | None:
    """All cells as text with pyarrow, or None when the file needs the exact (slow) reader."""
    width = _first_record_width(utf8, delimiter)
    if width is None:
        return None
    try:
        return pa_csv.read_csv(io.BytesIO(utf8), **_arrow_options(delimiter, width, ARROW_BLOCK_BYTES))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def _arrow_options(delimiter: str, width: int, block_size: int) -> dict:
    """pyarrow's CSV options for exact texts: every cell a string, blank lines kept (so that pyarrow stops
    on them and the exact reader takes over), line breaks inside quotes allowed."""
    return {
        "read_options": pa_csv.ReadOptions(autogenerate_column_names=True, block_size=block_size),
        "parse_options": pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
        "convert_options": pa_csv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(width)},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
    }


def _first_record_width(utf8: bytes, delimiter: str) -> int | None:
    """How many fields the first record has (it may span lines inside quotes); None if it is blank."""
    head = utf8[:65536].decode("utf-8", "ignore")
    try:
        record = next(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter), None)
    except csv.Error:
        return None
    if not record or not any(cell.strip() for cell in record):
        return None
    return len(record)


def _sniff(first_line: str) -> str:
    if first_line.count("\t") > max(first_line.count(","), first_line.count("，")):
        return "\t"
    return ","


def _table_from_rows(rows: list[list], encoding: str | None, sheet: str | None, sheets: list[str],
                     is_header: IsHeader | None, merges: list[tuple[int, int, int, int]] | None = None,
                     strict_width: bool = False) -> RawTable:
    """Texts from a list of rows (exact CSV path and XLSX): header located, rows padded to its width.

    XLSX cells right of the header become unnamed columns (listed as unknown); in CSV they are an error."""
    found = locate_header(rows[:HEADER_SEARCH_ROWS + 1], is_header, merges)
    if strict_width:  # CSV: a row longer than its header is broken (an unquoted 1,234), not a new column
        found.headers = found.headers[:len(rows[found.body_start - 1])]
    width = len(found.headers)
    body = rows[found.body_start:]
    for offset, row in enumerate(body):
        if len(row) > width and any(str(cell).strip() for cell in row[width:]):
            raise InvalidFile("error.row_too_long", row=found.body_start + offset + 1, width=width)
    cells = [list(row[:width]) + [""] * (width - len(row)) for row in body]
    frame = pd.DataFrame(cells, columns=_unique_headers(found.headers), dtype="str") if cells else \
        pd.DataFrame({h: pd.Series([], dtype="str") for h in _unique_headers(found.headers)})
    frame = _drop_empty_columns(frame, found.headers)
    return RawTable(frame=frame, encoding=encoding, first_data_row=found.body_start + 1, sheet=sheet,
                    sheets=sheets, notices=found.notices + decoded_names_notice(frame, encoding, is_header))


NAME_COLUMNS = ("region", "name")  # what ``is_header`` calls a column of region names
DECODED_NAMES_SHOWN = 5


def decoded_names_notice(frame: pd.DataFrame, encoding: str | None, is_header: IsHeader | None) -> list:
    """A file decoded from anything but UTF-8 shows its first region names as read, so that a wrong
    encoding is seen before the commit (Big5 read as GBK gives 穝地秏 for 新華鄉)."""
    if is_header is None or encoding in (None, "utf-8", "utf-8-sig"):
        return []
    column = next((c for c in frame.columns if is_header(c) in NAME_COLUMNS), None)
    if column is None:
        return []
    names = []
    for text in frame[column].iloc[:10_000]:
        text = str(text).strip()
        if text and text not in names:
            names.append(text[:20])
            if len(names) == DECODED_NAMES_SHOWN:
                break
    return [("notice.decoded_names", {"encoding": encoding, "names": "、".join(names)})] if names else []


def _drop_empty_columns(frame: pd.DataFrame, headers: list[str]) -> pd.DataFrame:
    """Columns with no header and no value (spreadsheet leftovers) are not columns at all."""
    empty = [name for name, head in zip(frame.columns, headers)
             if not head.strip() and not frame[name].str.strip().ne("").any()]
    return frame.drop(columns=empty) if empty else frame


def _text(value) -> str:
    return "" if value is None else str(value)


# ---------------------------------------------------------------------------------------------------------
# Where the header is


@dataclass
class HeaderFound:
    headers: list[str]
    body_start: int  # index of the first data row in the list of rows
    notices: list[tuple[str, dict]]


def locate_header(rows: list[list], is_header: IsHeader | None,
                  merges: list[tuple[int, int, int, int]] | None = None) -> HeaderFound:
    """Find the header among the first rows: the row (or two rows of merged cells) naming most known columns.

    Without ``is_header`` the first non-blank row is the header. Rows above it (a title such as
    "西堡镇人口统计表") are left out with a notice. ``merges`` are merged ranges (0-based, inclusive
    first_row, first_col, last_row, last_col); a header cell spanning two rows, or a group title spanning
    several columns above them ("户籍" over "户数 | 人口"), is read as one header ("户籍户数").
    """
    texts = [[_text(c).strip() for c in row] for row in rows]
    filled = [row[:] for row in texts]
    width = max((len(r) for r in texts), default=0)
    for row in filled:
        row.extend([""] * (width - len(row)))
    for r0, c0, r1, c1 in merges or ():
        if r0 >= len(filled):
            continue
        value = filled[r0][c0] if c0 < width else ""
        for r in range(r0, min(r1, len(filled) - 1) + 1):
            for c in range(c0, min(c1, width - 1) + 1):
                filled[r][c] = value
    nonblank = [i for i, row in enumerate(texts) if any(row)]
    if not nonblank:
        raise InvalidFile("error.no_header")
    best = (nonblank[0], nonblank[0], 0)  # (top, bottom, score)
    if is_header is not None:
        for bottom in nonblank:
            for top in (bottom, bottom - 1):
                if top < 0 or top not in nonblank:
                    continue
                # distinct columns named: "户数 | 人口 | 户数 | 人口" names two, "户籍户数 | 户籍人口 | 常住户数..." four
                score = len({key for key in map(is_header, _combine(filled, top, bottom)) if key})
                if score > best[2]:
                    best = (top, bottom, score)
    top, bottom, score = best
    headers = _combine(filled, top, bottom, is_header) if top < bottom else filled[bottom]
    if not any(headers):
        raise InvalidFile("error.no_header")
    if is_header is not None and score == 0 and sum(1 for h in headers if h) < 2:
        # one unknown column: a text file, not a table (a link to /etc/shadow). Its lines are not quoted.
        raise InvalidFile("error.not_a_table", rows=len(rows))
    notices = []
    if top < bottom:
        notices.append(("notice.merged_header", {"first": top + 1, "last": bottom + 1}))
    if top > 0 and any(any(texts[i]) for i in range(top)):
        notices.append(("notice.header_row", {"row": top + 1, "skipped": top}))
    return HeaderFound(headers=list(headers), body_start=bottom + 1, notices=notices)


def _combine(filled: list[list[str]], top: int, bottom: int, is_header: IsHeader | None = None) -> list[str]:
    """Header texts of rows top..bottom: a lower cell alone where it is known, else the upper + lower text."""
    if top == bottom:
        return filled[bottom]
    out = []
    for upper, lower in zip(filled[top], filled[bottom]):
        if upper == lower or not upper:
            out.append(lower)
        elif not lower:
            out.append(upper)
        elif is_header is not None and is_header(upper + lower):
            out.append(upper + lower)
        elif is_header is not None and is_header(lower):
            out.append(lower)
        else:
            out.append(upper + lower)
    return out


def _unique_headers(header: list[str]) -> list[str]:
    """Blank or repeated headers get a suffix so that no column is dropped; the importer reports them."""
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(header):
        h = h.strip() or f"(列{i + 1})"
        if h in seen:
            seen[h] += 1
            h = f"{h}#{seen[h]}"
        else:
            seen[h] = 1
        out.append(h)
    return out


# ---------------------------------------------------------------------------------------------------------
# XLSX


def check_xlsx_archive(data: bytes) -> zipfile.ZipFile:
    """Open the zip and check its directory before anything is decompressed: no macros, no zip bomb."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise InvalidFile("error.xlsx_not_zip") from e
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names:
        raise InvalidFile("error.xlsx_corrupt", reason="xl/workbook.xml")
    if any(n.lower().endswith("vbaproject.bin") for n in names) or _declares_macros(archive):
        raise InvalidFile("error.xlsx_macros")
    expanded = sum(m.file_size for m in members)
    if expanded > MAX_XLSX_EXPANDED:
        raise InvalidFile("error.xlsx_bomb", size=_mb(expanded), limit=_mb(MAX_XLSX_EXPANDED))
    for m in members:
        if m.file_size > 2**20 and m.file_size > MAX_XLSX_RATIO * max(m.compress_size, 1):
            raise InvalidFile("error.xlsx_bomb", size=_mb(expanded), limit=_mb(MAX_XLSX_EXPANDED))
    return archive


def _declares_macros(archive: zipfile.ZipFile) -> bool:
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return False
    if info.file_size > 2**20:
        return False
    return b"macroEnabled" in archive.read(info)


def list_sheets(data: bytes) -> list[str]:
    """The sheet names of a workbook (after the same checks as reading it)."""
    workbook = _open_workbook(data)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def _open_workbook(data: bytes):
    import openpyxl

    check_xlsx_archive(data)
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except InvalidFile:
        raise
    except Exception as e:  # openpyxl raises many kinds on a damaged workbook; all mean "cannot be read"
        raise InvalidFile("error.xlsx_corrupt", reason=_first_line(e)) from e


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return (text.splitlines()[0][:120] if text else type(error).__name__)


def read_xlsx_bytes(data: bytes, sheet: str | None = None, *, is_header: IsHeader | None = None) -> RawTable:
    """Read one sheet of a workbook into texts. Without ``sheet`` the first sheet that has a recognised
    header is read (else the first sheet), with a notice when there are several."""
    workbook = _open_workbook(data)
    try:
        names = list(workbook.sheetnames)
        if sheet is not None and sheet not in names:
            raise InvalidFile("error.unknown_sheet", sheet=sheet, sheets="、".join(names))
        candidates = [sheet] if sheet is not None else names
        first_error = None
        for name in candidates:
            try:
                rows, merges, unfilled = _sheet_rows(workbook, name)
                table = _table_from_rows(rows, None, name, names, is_header, merges)
            except InvalidFile as e:
                first_error = first_error or e
                continue
            except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError) as e:
                raise InvalidFile("error.xlsx_corrupt", reason=_first_line(e)) from e
            if sheet is None and is_header is not None and len(names) > 1 and \
                    not any(is_header(h) for h in table.frame.columns):
                first_error = first_error or InvalidFile("error.no_header")
                continue
            if unfilled:  # the sheet to be read: blank texts would be stored as missing values
                raise InvalidFile("error.formula_without_value", cells=_cells_text(name, unfilled))
            if len(names) > 1:
                table.notices.insert(0, ("notice.sheet_used", {"count": len(names), "sheet": name}))
            return table
        raise first_error or InvalidFile("error.no_header")
    finally:
        workbook.close()


def _sheet_rows(workbook, name: str) -> tuple[list[list[str]], list[tuple[int, int, int, int]], list[str]]:
    """Every row of a sheet as texts, its merged ranges (0-based) with their values spread, and the cells
    whose formula has no saved result (their text would be blank)."""
    sheet = workbook[name]
    rows: list[list[str]] = []
    blank_run = 0
    for cells in sheet.iter_rows():
        row = [_cell_text(c) for c in cells]
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
        blank_run = 0 if row else blank_run + 1
        if blank_run >= MAX_BLANK_RUN:
            break
    while rows and not rows[-1]:
        rows.pop()
    xml = _scan_sheet_xml(workbook, sheet)
    merges = xml.merges
    for r0, c0, r1, c1 in merges:  # a merged cell's value belongs to every cell it covers (data rows too)
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= c1:
                row.extend([""] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                row[c] = value
    return rows, merges, xml.unfilled_formulas


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+):([A-Z]+\d+)"')
# A cell holding a formula, and its cached result if the file has one (<v>; a program that writes formulas,
# such as openpyxl, leaves it empty: only Excel or WPS computes it, when the file is opened and saved).
_FORMULA_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*)>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*'
                           rb'(?:<(?:\w+:)?v\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?v>))?')
_CELL_ATTRIBUTE = re.compile(rb'\b(r|t)="([^"]*)"')


@dataclass
class _SheetXml:
    merges: list[tuple[int, int, int, int]]  # merged ranges, 0-based (first_row, first_col, last_row, last_col)
    unfilled_formulas: list[str]  # cells (A1 style) with a formula and no saved result


def _scan_sheet_xml(workbook, sheet) -> _SheetXml:
    """Merged ranges and formulas without a result, from the sheet's XML (read-only worksheets load
    neither), scanned in chunks cut after a whole cell."""
    path = getattr(sheet, "_worksheet_path", None)
    if path is None:
        return _SheetXml([], [])
    ranges: list[tuple[bytes, bytes]] = []
    unfilled: list[str] = []
    tail = b""
    with workbook._archive.open(path) as source:
        while True:
            chunk = source.read(4 * 2**20)
            text = tail + chunk
            cut = _after_last_cell(text) if chunk else len(text)
            ranges.extend(m.groups() for m in _MERGE.finditer(text, 0, cut))
            if b"<f" in text or b":f" in text:
                unfilled.extend(_unfilled_formulas(text, cut))
            tail = text[cut:]
            if not chunk:
                break
    merges = []
    for first, last in ranges:
        r0, c0 = _cell_index(first.decode())
        r1, c1 = _cell_index(last.decode())
        merges.append((r0, c0, r1, c1))
    return _SheetXml(merges, unfilled)


def _after_last_cell(text: bytes) -> int:
    """Where a chunk of sheet XML may be cut: after its last closed cell, else before its last tag."""
    end = max(text.rfind(b"</c>") + 4, text.rfind(b":c>") + 3)
    if end > 3:
        return end
    cut = text.rfind(b"<")
    return cut if cut > 0 else len(text)


def _unfilled_formulas(text: bytes, end: int) -> Iterator[str]:
    for match in _FORMULA_CELL.finditer(text, 0, end):
        attributes = dict(_CELL_ATTRIBUTE.findall(match.group(1)))
        saved = match.group(2) or b""
        has_value = re.search(rb"<(?:\w+:)?v\b", match.group(0)) is not None
        # an empty result of a text formula (t="str": =IF(A1="","",A1)) is a result; an empty number is not
        if not has_value or not saved and attributes.get(b"t") not in (b"str", b"inlineStr"):
            yield attributes.get(b"r", b"?").decode()


def _cells_text(sheet: str, cells: list[str], shown: int = 5) -> str:
    """``Sheet1!C2、Sheet1!C3`` (the first few, then how many in all)."""
    names = "、".join(f"{sheet}!{cell}" for cell in cells[:shown])
    return names if len(cells) <= shown else f"{names} …（{len(cells)}）"


def _cell_index(ref: str) -> tuple[int, int]:
    letters, digits = _CELL_REF.match(ref).groups()
    column = 0
    for ch in letters:
        column = column * 26 + (ord(ch) - 64)
    return int(digits) - 1, column - 1


def _cell_text(cell) -> str:
    """A cell as the text the user sees: 25218.0 -> "25218", a percent cell 0.0064 -> "0.64%"."""
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        number_format = getattr(cell, "number_format", "") or ""
        if "%" in number_format:
            return number_text(value * 100) + "%"
        return number_text(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def number_text(value: float | int) -> str:
    """The shortest text of a number: 25218.0 -> 25218, 58670.24 -> 58670.24, 0.1 + 0.2 -> 0.3."""
    if isinstance(value, int):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"
