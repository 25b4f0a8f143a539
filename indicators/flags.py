"""Value flags: what a statistician must know about one value beyond its number (SDMX observation status).

What belongs here: the set of flag codes, their words in Chinese and English, and turning a stored flag text
into codes and back. The codes follow SDMX's OBS_STATUS code list and Eurostat's flags, lower-case as
Eurostat prints them beside a value ("6.58 p"):

====  ==================  ===============================================================
code  SDMX / Eurostat     meaning here
====  ==================  ===============================================================
p     P  provisional      first published, to be revised (a preliminary communiqué value)
e     E  estimated        estimated or inferred by the publisher or by us
b     B  break            the series changes basis in this year (see the indicator's breaks)
d     D  definition       the definition differs from the indicator's (scope, coverage)
r     (Eurostat r)        revised: differs from the value first published
u     (Eurostat u)        low reliability: approximate, a bound ("exceeded"), or read indirectly
====  ==================  ===============================================================

A value stores its flags as codes separated by spaces ("p u"); no flag is no text.
"""

from __future__ import annotations

from indicators.i18n import Text

FLAGS: dict[str, Text] = {
    "p": Text("初步数", "provisional"),
    "e": Text("估计数", "estimated"),
    "b": Text("序列断点", "break in series"),
    "d": Text("口径不同", "definition differs"),
    "r": Text("修订数", "revised"),
    "u": Text("可靠性低", "low reliability"),
}


def codes(text: object) -> tuple[str, ...]:
    """The flag codes of a stored flag text, in the order of :data:`FLAGS`; unknown words are left out."""
    if not isinstance(text, str):
        return ()
    given = set(text.split())
    return tuple(code for code in FLAGS if code in given)


def with_flags(number: str, text: object) -> str:
    """A formatted number with its flags beside it, as Eurostat prints them: '6.58 p'."""
    found = codes(text)
    return f"{number} {''.join(found)}" if found else number

