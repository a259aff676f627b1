"""Escaping the report's values for the markup written in Python: HTML and WordprocessingML.

A report of a thousand covenants puts some 70,000 values into its HTML sections and 57,000
into its Word document, and each must be escaped. markupsafe.escape (Jinja's autoescape) makes a
Markup object per value, which cost more than writing the rest of the text. The HTML takes
markupsafe's escaping itself, its C function without the Markup (57 ns a value against 220 for
five str.replace calls: a fifth of the HTML's rendering), in the same bytes; a test holds it,
and the replace chain it falls back on, to markupsafe.escape. (Escaping all values in one
call, joined by a separator and split again, measured no faster for the HTML and slower for
the Word body: keeping the values apart from the markup until then cost as much as the calls
it saved.)
"""

from __future__ import annotations

__all__ = ["html_text", "xml_text"]


def _html_text(value: str) -> str:
    """`value` as HTML text or attribute value, in the bytes Jinja's autoescape (markupsafe)
    writes: & < > " ' as &amp; &lt; &gt; &#34; &#39;."""
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


try:  # markupsafe's own escaping in C, without the Markup object escape() wraps it in
    from markupsafe._speedups import _escape_inner as html_text
except ImportError:  # (a private name of markupsafe 3: the chain above if it is ever gone)
    html_text = _html_text


def xml_text(value: str) -> str:
    """`value` as XML character data: & < > escaped (as xml.sax.saxutils.escape does)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
