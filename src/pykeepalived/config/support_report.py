"""Telling the operator which keywords of a configuration pykeepalived does not act on.

keepalived logs the keywords of features it was built without; a keyword that is accepted and
then silently ignored would let an operator believe it protects them. The daemon therefore logs
one warning per parse-only keyword (``config.support``) a configuration uses, at its first use,
with the number of further uses. ``-t`` is not concerned: what it prints and exits with stays
keepalived's.

``python3 -m pykeepalived.config.support_report`` prints the per-section summary kept in the
README.
"""

from __future__ import annotations

from pykeepalived.config.model_base import model
from pykeepalived.config.model_common import KeywordUse
from pykeepalived.config.support import ACTED, PARSE_ONLY, SUPPORT, Row

_UNLISTED = Row(PARSE_ONLY, note="the keyword is missing from pykeepalived's support table")


@model(frozen=True)
class UnsupportedUse:
    """A parse-only keyword a configuration uses: where first, how often, and why."""

    section: str
    keyword: str
    use: KeywordUse
    row: Row

    def message(self) -> str:
        where = "" if self.section == "top" else f" in {self.section}"
        more = self.use.count - 1
        further = f"; {more} more use{'s' if more > 1 else ''} after this one" if more else ""
        reason = f" ({self.row.note})" if self.row.note else ""
        return (f"{self.use.first}: '{self.keyword}'{where} is not supported by pykeepalived "
                f"and has no effect{reason}{further}")


def unsupported_uses(uses: dict[tuple[str, str], KeywordUse]) -> list[UnsupportedUse]:
    """The parse-only keywords among ``uses`` (``LoadResult.keyword_uses``), in the order
    they first appear."""
    out = []
    for (section, keyword), use in uses.items():
        row = SUPPORT.get(section, {}).get(keyword, _UNLISTED)
        if row.status != ACTED:
            out.append(UnsupportedUse(section, keyword, use, row))
    return out


def summary_table() -> str:
    """Markdown: per section, how many keywords are acted on and how many only parsed."""
    lines = ["| section | keywords | acted | parse-only |", "| --- | ---: | ---: | ---: |"]
    total = acted_total = 0
    for section, rows in SUPPORT.items():
        acted = sum(row.status == ACTED for row in rows.values())
        lines.append(f"| {section} | {len(rows)} | {acted} | {len(rows) - acted} |")
        total += len(rows)
        acted_total += acted
    lines.append(f"| all | {total} | {acted_total} | {total - acted_total} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(summary_table(), end="")
