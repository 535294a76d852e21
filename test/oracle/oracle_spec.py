"""Spec, duration and event-time reading for the Python oracles.

Written from SPEC.md section 2 and docs/semantics.md only (never from the engine's
source), so that the oracle is an independent reading of the contract.

All times and durations are integers of microseconds, as in docs/semantics.md, so
window boundaries compare exactly.
"""
import datetime
import decimal
import os
import re

import yaml

US_PER = {"us": 1, "ms": 1_000, "s": 1_000_000, "m": 60_000_000,
          "h": 3_600_000_000, "d": 86_400_000_000}
DAY_US = US_PER["d"]

# (Sluice) valid event times: 1970-01-01T00:00:00Z <= t < 2200-01-01T00:00:00Z.
MAX_TIME_US = (datetime.date(2200, 1, 1) - datetime.date(1970, 1, 1)).days * DAY_US

# Event-time units: how many microseconds one unit is ("iso8601" reads as seconds
# wherever a number is needed, e.g. in expressions).
UNIT_US = {"s": 1_000_000, "ms": 1_000, "us": 1, "iso8601": 1_000_000}

AGGS = {"count", "sum", "mean", "min", "max", "var", "stddev", "count_distinct",
        "first", "last", "ewma", "time_since_last"}
FIELD_TYPES = {"string", "double", "int", "bool"}


class SpecError(Exception):
    """The spec is not one the oracle can read (the engine should exit 2 on it)."""


def parse_duration(text):
    """'250ms', '30s', '5m', '1h', '7d' (also 'us') -> integer microseconds."""
    m = re.fullmatch(r"\s*(\d+)\s*(us|ms|s|m|h|d)\s*", str(text))
    if not m:
        raise SpecError(f"bad duration {text!r}")
    return int(m.group(1)) * US_PER[m.group(2)]


def round_half_away(value):
    """Decimal -> nearest integer, ties away from zero (docs/semantics.md)."""
    return int(value.quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP))


ISO_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})"
                    r"(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?")


def iso_to_us(text):
    """ISO-8601 text -> microseconds since the epoch, or None if unparsable."""
    m = ISO_RE.fullmatch(text)
    if not m:
        return None
    y, mo, d, hh, mi, ss = (int(g) for g in m.groups()[:6])
    try:
        days = (datetime.date(y, mo, d) - datetime.date(1970, 1, 1)).days
    except ValueError:
        return None
    if hh > 23 or mi > 59 or ss > 59:
        return None
    frac = m.group(7) or "0"
    frac_us = round_half_away(decimal.Decimal("0." + frac) * 1_000_000)
    total = ((days * 24 + hh) * 60 + mi) * 60 + ss
    zone = m.group(8)
    if zone and zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh > 23 or zm > 59:
            return None
        offset = (zh * 60 + zm) * 60
        total -= offset if zone[0] == "+" else -offset
    return total * 1_000_000 + frac_us


def time_value_to_us(value, unit):
    """A JSON event-time value -> microseconds, or None when it is not a valid time.

    Numbers arrive as int or decimal.Decimal (the JSON reader keeps the literal's exact
    decimal value) so sub-microsecond rounding is done on the written number.
    """
    if unit == "iso8601":
        us = iso_to_us(value) if isinstance(value, str) else None
    elif isinstance(value, bool) or not isinstance(value, (int, decimal.Decimal)):
        us = None
    elif isinstance(value, decimal.Decimal) and not value.is_finite():
        us = None
    elif abs(decimal.Decimal(value)) * UNIT_US[unit] >= MAX_TIME_US:
        us = None   # far out of range (and beyond what Decimal rounds without overflow)
    else:
        us = round_half_away(decimal.Decimal(value) * UNIT_US[unit])
    if us is None or us < 0 or us >= MAX_TIME_US:
        return None
    return us


def format_time(us, unit):
    """The backfill CSV's event-time cell (docs/semantics.md 'Event time')."""
    if unit == "iso8601":
        stamp = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
        text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
        if stamp.microsecond:
            text += "." + f"{stamp.microsecond:06d}".rstrip("0")
        return text + "Z"
    whole, rest = divmod(us, UNIT_US[unit])
    if rest == 0:
        return str(whole)
    digits = len(str(UNIT_US[unit])) - 1
    return f"{whole}." + f"{rest:0{digits}d}".rstrip("0")


class Feature:
    """One `features:` entry, normalised."""

    def __init__(self, raw):
        if not isinstance(raw, dict) or "name" not in raw:
            raise SpecError(f"bad feature {raw!r}")
        self.name = raw["name"]
        self.expr_text = raw.get("expr")
        self.agg = raw.get("agg")
        self.of = raw.get("of")
        key = raw.get("key")
        self.key = tuple(key) if isinstance(key, list) else ((key,) if key else None)
        self.window = parse_duration(raw["window"]) if "window" in raw else None
        self.rows = int(raw["rows"]) if "rows" in raw else None
        self.resolution = parse_duration(raw["resolution"]) if "resolution" in raw else None
        self.exclude_current = bool(raw.get("exclude_current", False))
        self.half_life = parse_duration(raw["half_life"]) if "half_life" in raw else None
        self._check()

    def _check(self):
        if self.expr_text is not None:
            return
        if self.agg not in AGGS or not self.key:
            raise SpecError(f"feature {self.name}: needs a known agg and a key")
        if self.window is not None and self.rows is not None:
            raise SpecError(f"feature {self.name}: window and rows are exclusive")
        if self.resolution is not None and (self.window is None
                                            or self.window % self.resolution):
            raise SpecError(f"feature {self.name}: resolution needs a window multiple of it")
        if self.agg == "ewma" and self.half_life is None:
            raise SpecError(f"feature {self.name}: ewma needs half_life")

    @property
    def is_expr(self):
        return self.expr_text is not None


class Spec:
    """The parts of a pipeline spec that define features (SPEC.md section 2)."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
        self.path = path
        self.name = raw.get("name")
        source = raw.get("source") or {}
        self.source_file = source.get("file")
        self.time_field = raw["event_time"]["field"]
        self.unit = raw["event_time"]["unit"]
        if self.unit not in UNIT_US:
            raise SpecError(f"bad event_time unit {self.unit!r}")
        self.event_id = raw.get("event_id")
        self.lateness = parse_duration(raw.get("allowed_lateness", "0s"))
        self.fields = dict(raw.get("fields") or {})
        for name, typ in self.fields.items():
            if typ not in FIELD_TYPES:
                raise SpecError(f"field {name}: bad type {typ!r}")
        self.features = [Feature(f) for f in raw.get("features") or []]
        self.state_ttl = self._state_ttl(raw.get("state_ttl"))

    def _state_ttl(self, text):
        windows = [f.window for f in self.features if f.window is not None]
        floor = max(90 * DAY_US, max(windows, default=0) + self.lateness)
        if text is None:
            return floor
        ttl = parse_duration(text)
        if ttl < max(windows, default=0) + self.lateness:
            raise SpecError("state_ttl shorter than longest window + allowed_lateness")
        return ttl

    def key_spaces(self):
        """Distinct key tuples, in first-use order (same fields, same order = one space)."""
        spaces = []
        for f in self.features:
            if not f.is_expr and f.key not in spaces:
                spaces.append(f.key)
        return spaces

    def input_path(self):
        if self.source_file is None:
            return None
        if os.path.isabs(self.source_file):
            return self.source_file
        return os.path.join(os.path.dirname(os.path.abspath(self.path)), self.source_file)
