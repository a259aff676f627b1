"""Dutch time: the covenants' days, deadlines and send hours are days in Amsterdam.

Times are stored in UTC; which day a moment falls on (today, a deadline passed, a digest's
day) is decided in Amsterdam time. The zone lives in the domain so that domain and services
code need not import the settings to know what day it is.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
