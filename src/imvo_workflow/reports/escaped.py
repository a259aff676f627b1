"""Markup text (HTML, WordprocessingML) built from the code's literal pieces and the data's
values, every value escaped, all of them in one call.

A report of a thousand covenants puts some 80,000 values into its HTML and 57,000 into its
Word document; escaping each on its own cost more than writing the rest of the text. Here the
values are kept apart from the literals as they are added, joined by a separator no value holds,
escaped in one C call over the joined text and split again. A value is never written unescaped:
`add` takes the literal pieces only from its template, which is the code's, and every value
goes through the escape. Should a value hold the separator (the domain refuses control
characters, so none should), the values are escaped one by one instead.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape as xml_escape

from markupsafe import escape as markupsafe_escape

#: Joins the values for the one escape call; a control character, refused in every text.
SEPARATOR = "\x00"
#: Where a template takes a value.
SLOT = "{}"


def html_escape(text: str) -> str:
    """HTML's escape as Jinja's autoescape writes it (& < > " ' as &amp; &lt; &gt; &#34; &#39;),
    so a page written here and one written by the template read the same bytes."""
    return str(markupsafe_escape(text))


def xml_text(text: str) -> str:
    """XML character data: & < > escaped (quotes need no escape outside attributes)."""
    return xml_escape(text)


class Escaped:
    """Markup text: templates with their slots filled by values, escaped when it is taken.

    `add` only keeps its template and values (it is called tens of thousands of times); the
    templates are joined and split at their slots once, in `text`.
    """

    def __init__(self, escape: Callable[[str], str]) -> None:
        self._escape = escape
        self._templates: list[str] = []
        self._values: list[str] = []

    def add(self, template: str, *values: str) -> None:
        """`template` with each `{}` filled by the next of `values`, escaped. A template is the
        code's markup: it holds no braces but its slots."""
        self._templates.append(template)
        self._values.extend(values)

    def text(self) -> str:
        """The markup written so far, every value escaped."""
        literals = "".join(self._templates).split(SLOT)
        values = self._escaped()
        if len(literals) != len(values) + 1:
            raise ValueError(
                f"the templates have {len(literals) - 1} slots for {len(values)} values"
            )
        merged = literals + values  # the right length; interleaved below
        merged[0::2] = literals
        merged[1::2] = values
        return "".join(merged)

    def _escaped(self) -> list[str]:
        """Every value escaped: in one call over them all, joined by the separator no value
        holds; one by one should one hold it after all."""
        joined = SEPARATOR.join(self._values)
        if joined.count(SEPARATOR) == len(self._values) - 1:
            return self._escape(joined).split(SEPARATOR)
        return [self._escape(value) for value in self._values]
