"""Escaping the report's values for the markup written in Python: HTML and WordprocessingML.

A report of a thousand covenants puts some 70,000 values into its HTML sections and 57,000
into its Word document, and each must be escaped. markupsafe (Jinja's autoescape) makes a Markup
object per value, which cost more than writing the rest of the text; a chain of str.replace
calls on a value that holds nothing to escape costs a fraction of that, and writes the same
bytes. (Escaping all values in one call, joined by a separator and split again, measured no
faster for the HTML and slower for the Word body: keeping the values apart from the markup
until then cost as much as the calls it saved.)
"""

from __future__ import annotations


def html_text(value: str) -> str:
    """`value` as HTML text or attribute value, in the bytes Jinja's autoescape (markupsafe)
    writes: & < > " ' as &amp; &lt; &gt; &#34; &#39;."""
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def xml_text(value: str) -> str:
    """`value` as XML character data: & < > escaped (as xml.sax.saxutils.escape does)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
