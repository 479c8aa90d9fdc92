"""Text that comes from data, files or the URL (region names, sources, cells, file names, link parameters) shown
as plain text everywhere: the one place that knows how each renderer could read such text as markup.

- ``visible``: every renderer. Zero-width and bidi control characters (Unicode category Cf: U+200B, U+202E,
  U+2066…, U+FEFF) are dropped: they hide text or reverse it on screen (``名单\u202egpj.exe`` shows as a .jpg
  name ending in ``exe.jpg``).
- ``markdown``: Streamlit's markdown elements (titles, captions, alerts, toasts, widget labels). Streamlit
  renders Markdown, its own ``:material/…:``/``:red[…]`` directives and ``$…$`` KaTeX; every character that
  could start one is backslash-escaped. (Streamlit has no plain-text title or caption, and no escaper of its own.)
- ``plotly``: chart labels and hovers. plotly.js renders a subset of HTML (``<a href>``, ``<b>``, ``<br>``),
  so ``<`` and ``&`` become entities (the standard library's ``html.escape``).
- ``frame``: a table's text cells and headers through ``visible`` (tables draw text, not markup).
"""

from __future__ import annotations

import html
import re
import unicodedata

import pandas as pd

_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()#+-.!|<>:/$~=&\"'^")
_WORD_JOINER = "\u2060"  # invisible and zero-width, reorders nothing: breaks patterns found after escaping
# GFM turns bare addresses into links after parsing (backslashes do not stop it): http://…, www.…, a@b.c
_AUTOLINK_STARTS = re.compile(r"(?i)(https?|ftp|mailto|xmpp|www)(?=[:.])|(?=@)")


def visible(text) -> str:
    """``text`` without format characters (zero-width spaces and joiners, bidi embeddings, overrides and
    isolates, the byte-order mark): what is on screen is what is stored, in the order it is stored."""
    text = str(text)
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def markdown(text) -> str:
    """``text`` for a Streamlit markdown element: shows exactly as typed, line breaks kept (``<script>``,
    ``**x**``, ``[x](url)``, ``![](url)``, ``http://x.cn``, ``:red[x]``, ``:material/home:``, ``$x$`` included).
    A word joiner (U+2060, invisible) after ``http``/``www`` and before ``@`` keeps GFM from linking addresses."""
    text = visible(text).replace(":streamlit:", ":" + _WORD_JOINER + "streamlit:")  # else Streamlit's logo
    text = _AUTOLINK_STARTS.sub(lambda m: m.group(0) + _WORD_JOINER, text)
    escaped = "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)
    return escaped.replace("\r\n", "\n").replace("\n", "  \n")


def plotly(text) -> str:
    """``text`` for a plotly label, title or hover: never a tag or a link."""
    return html.escape(visible(text), quote=False)


def frame(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells and column names went through ``visible`` (numbers untouched)."""
    shown = table.rename(columns=lambda c: visible(c) if isinstance(c, str) else c)
    for position in range(shown.shape[1]):  # by position: an uploaded header may repeat
        values = shown.iloc[:, position]
        if pd.api.types.is_string_dtype(values) or values.dtype == object:
            shown.isetitem(position, values.map(lambda v: visible(v) if isinstance(v, str) else v))
    return shown
