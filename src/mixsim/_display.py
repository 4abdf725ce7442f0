"""HTML summaries of result objects, for Jupyter (``_repr_html_``): a heading, a few lines and tables."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

MAX_ROWS = 25
"""Rows shown per table; the full table is one ``.to_frame()`` away."""


def summary_html(title: str, lines: Sequence[str], tables: Sequence[tuple[str, pd.DataFrame]]) -> str:
    """A small HTML block: ``title``, ``lines`` of text, then each ``(caption, table)`` (first rows only)."""
    parts = [f"<div class='mixsim'><strong>{html.escape(title)}</strong>"]
    parts += [f"<br><span>{html.escape(line)}</span>" for line in lines]
    for caption, frame in tables:
        shown = frame.head(MAX_ROWS)
        more = len(frame) - len(shown)
        parts.append(f"<p style='margin:0.6em 0 0.2em'>{html.escape(caption)}</p>")
        parts.append(shown.to_html(index=False, float_format=_number, na_rep="n/a", border=0))
        if more > 0:
            parts.append(f"<span>... {more:,} more rows: see .to_frame()</span>")
    parts.append("</div>")
    return "\n".join(parts)


def _number(x: float) -> str:
    """Readable numbers: thousands separated, two decimals below 100, none above."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}" if abs(x) < 0.01 and x else f"{x:,.2f}"
