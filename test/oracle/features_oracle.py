#!/usr/bin/python3
"""Brute-force feature oracle for Sluice (SPEC.md sections 3-4, docs/semantics.md).

    features_oracle.py SPEC.yaml [--input EVENTS.jsonl] --output OUT.csv --dead-letter DEAD.jsonl

Replays the log in file order. For every event it decides admission (parse_error,
schema, bad_time, expired, late), then recomputes every feature from scratch by
scanning the list of events applied so far to the event's key: no incremental state,
no cleverness, so that it is easy to check by reading. Sums, means and variances are
exact (fractions.Fraction) and rounded once, so the oracle is the true value.

It never reads the engine's source: it is an independent reading of the documents.
"""
# CHOICES — readings taken where SPEC.md / docs/semantics.md are silent or ambiguous
# (the engine is checked against these; change them only with the documents):
#  1. Expired is checked before late (docs/semantics.md, Admission rule 1), so the reason
#     of an event both late and expired is `expired` whether or not its keys are in memory.
#  2. An applied event whose keys are all null still advances the stream time G.
#  3. first/last/min/... see only the non-null `of` values; `rows: N` takes the last N
#     events (null-valued ones included) and then drops their null values.
#  4. ewma is the exact weighted mean; weights are normalised to the newest event so they
#     never underflow to 0/0 (the generator keeps half-lives long enough that a direct
#     evaluation does not underflow either).
#  5. Check order: parse_error (not JSON, NaN/Infinity tokens) -> schema (not an object;
#     time field absent or null) -> bad_time (unparsable, wrong JSON type for the unit,
#     out of range) -> schema (a declared field of the wrong type).
#  6. Field types: int = JSON integer in int64 (1.5 and 2.0 are schema errors); double =
#     any finite JSON number; bool = true/false; string = JSON string (17 is a schema
#     error); null and absent are null; undeclared fields are ignored.
#  7. Blank lines are not records (neither rows nor dead letters); `source` is
#     "<basename>:<1-based physical line>" and compare.py looks only at the line.
#  8. Expressions: non-finite is null at every node (is_null(exp(1000)) = 1); min/max
#     take 1+ arguments; hour/dayofweek floor the seconds; haversine uses
#     2R·asin(min(1, sqrt(a))); the event-time field reads the time rounded to the
#     microsecond, in the spec's unit.
#  9. An undeclared event_id field is printed as given; a missing one is an empty cell.
import argparse
import decimal
import fractions
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle_expr import Evaluator, parse_expr, variables  # noqa: E402
from oracle_spec import (SpecError, Spec, UNIT_US, format_time,  # noqa: E402
                         time_value_to_us)

INT64 = 2 ** 63


class DeadLetter(Exception):
    """A record goes to the dead letters; `alternatives` are other reasons an engine
    may equally give (see Replay.late_alternatives)."""

    def __init__(self, reason, alternatives=()):
        super().__init__(reason)
        self.reason, self.alternatives = reason, tuple(alternatives)


class Applied:
    """One event as applied to a key: its position in the log, time and typed values."""

    def __init__(self, seq, t, values):
        self.seq, self.t, self.values = seq, t, values


# ----------------------------------------------------------------------------- input

def read_lines(path):
    """(line number, text) for every non-blank line; blank lines are not records."""
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            text = text.rstrip("\r\n")
            if text.strip():
                yield number, text


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")   # NaN / Infinity are not valid JSON


def typed_value(value, typ):
    """JSON value -> typed value (None for null). Raises DeadLetter('schema') on a wrong type."""
    if value is None:
        return None
    is_number = isinstance(value, (int, decimal.Decimal)) and not isinstance(value, bool)
    if typ == "string" and isinstance(value, str):
        return value
    if typ == "bool" and isinstance(value, bool):
        return value
    if typ == "int" and isinstance(value, int) and not isinstance(value, bool):
        if -INT64 <= value < INT64:
            return value
    if typ == "double" and is_number:
        x = float(value)
        if math.isfinite(x):
            return x
    raise DeadLetter("schema")


def parse_record(spec, text):
    """One JSONL line -> (event time in us, {field: typed value}); raises DeadLetter."""
    try:
        obj = json.loads(text, parse_float=decimal.Decimal, parse_constant=_reject_constant)
    except ValueError:
        raise DeadLetter("parse_error")
    if not isinstance(obj, dict):
        raise DeadLetter("schema")
    if obj.get(spec.time_field) is None:   # absent (or null): no event time at all
        raise DeadLetter("schema")
    t = time_value_to_us(obj[spec.time_field], spec.unit)
    if t is None:
        raise DeadLetter("bad_time")
    values = {name: typed_value(obj.get(name), typ) for name, typ in spec.fields.items()}
    if spec.event_id and spec.event_id not in spec.fields:
        values[spec.event_id] = obj.get(spec.event_id)   # undeclared id: printed as given
    return t, values


# ----------------------------------------------------------------------------- windows

def window_events(feature, prior, current):
    """The events of the key that feature `feature` aggregates for `current`.

    `prior` are the events applied to the key before `current`, in log order.
    """
    candidates = prior if feature.exclude_current else prior + [current]
    t = current.t
    if feature.rows is not None:
        return candidates[-feature.rows:] if feature.rows > 0 else []
    if feature.resolution is not None:
        bucket, width = t // feature.resolution, feature.window // feature.resolution
        return [e for e in candidates if bucket - width < e.t // feature.resolution <= bucket]
    if feature.window is not None:
        return [e for e in candidates if t - feature.window < e.t <= t]
    return [e for e in candidates if e.t <= t]


# ----------------------------------------------------------------------------- aggregations

def numeric(value):
    """A typed field value as a number for arithmetic (bool is 0/1)."""
    return float(value) if isinstance(value, bool) else value


def exact_sum(xs):
    return sum((fractions.Fraction(x) for x in xs), fractions.Fraction(0))


def exact_var(xs):
    n = len(xs)
    mean = exact_sum(xs) / n
    return sum(((fractions.Fraction(x) - mean) ** 2 for x in xs), fractions.Fraction(0)) / (n - 1)


def ewma(pairs, t, half_life):
    """Σ wᵢxᵢ / Σ wᵢ with wᵢ = 2^(−(t−tᵢ)/half_life).

    The common factor 2^(−(t−t_max)/half_life) cancels, so weights are taken relative to
    the newest tᵢ: the same value, without underflow on long gaps or overflow on rows
    windows that hold events newer than t.
    """
    t_max = max(ti for ti, _ in pairs)
    weights = [2.0 ** ((ti - t_max) / half_life) for ti, _ in pairs]
    num = math.fsum(w * x for w, (_, x) in zip(weights, pairs))
    return num / math.fsum(weights)


def aggregate(feature, events, t):
    """The feature's value over `events` (already the window), for an event at time t."""
    if feature.agg == "count" and feature.of is None:
        return float(len(events))
    pairs = [(e.t, e.values.get(feature.of)) for e in events]
    pairs = [(ti, v) for ti, v in pairs
             if v is not None and not (isinstance(v, float) and math.isnan(v))]
    values = [v for _, v in pairs]
    agg, n = feature.agg, len(values)
    if agg == "count":
        return float(n)
    if agg == "count_distinct":
        return float(len(set(values)))   # 1 == 1.0 and -0.0 == 0.0 in Python sets
    values = [numeric(v) for v in values]
    if agg == "sum":
        return float(exact_sum(values))
    if n == 0:
        return None
    if agg == "mean":
        return float(exact_sum(values) / n)
    if agg in ("min", "max"):
        return float(min(values) if agg == "min" else max(values))
    if agg in ("first", "last"):
        return float(values[0] if agg == "first" else values[-1])
    if agg == "ewma":
        return ewma([(ti, numeric(v)) for ti, v in pairs], t, feature.half_life)
    if n < 2:
        return None
    var = exact_var(values)
    return float(var) if agg == "var" else math.sqrt(float(var))


def time_since_last(prior, t):
    earlier = [e.t for e in prior if e.t <= t]
    return (t - max(earlier)) / 1e6 if earlier else None


# ----------------------------------------------------------------------------- features

class FeatureComputer:
    """Computes every feature of one applied event: aggregations, then expressions."""

    def __init__(self, spec):
        self.spec = spec
        self.by_name = {f.name: f for f in spec.features}
        self.trees = {f.name: parse_expr(f.expr_text) for f in spec.features if f.is_expr}
        self._check_names()

    def _check_names(self):
        numeric_fields = {n for n, typ in self.spec.fields.items() if typ != "string"}
        known = set(self.by_name) | numeric_fields | {self.spec.time_field}
        for name, tree in self.trees.items():
            unknown = variables(tree) - known
            if unknown:
                raise SpecError(f"feature {name}: unknown or non-numeric names {sorted(unknown)}")

    def compute(self, current, key_lists):
        """key_lists: key tuple -> (events applied to the event's key before it) or None
        when the event's key is null in that key space."""
        values = {}
        for f in self.spec.features:
            if not f.is_expr:
                values[f.name] = self._aggregation(f, current, key_lists[f.key])
        for f in self.spec.features:
            if f.is_expr:
                self._expression(f.name, current, values, set())
        return [values[f.name] for f in self.spec.features]

    @staticmethod
    def _aggregation(feature, current, prior):
        if prior is None:
            return None
        if feature.agg == "time_since_last":
            return time_since_last(prior, current.t)
        return aggregate(feature, window_events(feature, prior, current), current.t)

    def _expression(self, name, current, values, visiting):
        if name in values:
            return values[name]
        if name in visiting:
            raise SpecError(f"feature {name}: expressions form a cycle")
        visiting.add(name)

        def lookup(var):
            if var in self.by_name:
                return self._expression(var, current, values, visiting)
            if var in self.spec.fields:
                value = current.values.get(var)
                return None if value is None else float(value)
            return current.t / UNIT_US[self.spec.unit]   # the event-time field, in its unit

        unit_us = UNIT_US[self.spec.unit]
        values[name] = Evaluator(lookup, unit_us).eval(self.trees[name])
        return values[name]


# ----------------------------------------------------------------------------- replay

class Replay:
    """Log-order replay: admission rules 1-4 of docs/semantics.md, then features."""

    def __init__(self, spec):
        self.spec = spec
        self.spaces = spec.key_spaces()
        self.state = {ks: {} for ks in self.spaces}   # key space -> key -> [Applied]
        self.stream_time = None                       # G: newest applied time, any key
        self.computer = FeatureComputer(spec)
        self.rows, self.dead = [], []                 # (seq, line, t, values, features)

    def run(self, lines):
        for seq, (line, text) in enumerate(lines):
            try:
                t, values = parse_record(self.spec, text)
                self.apply(Applied(seq, t, values), line)
            except DeadLetter as dead:
                self.dead.append(self._dead_record(line, dead.reason, dead.alternatives))

    def _dead_record(self, line, reason, alternatives=()):
        record = {"reason": reason, "line": line}
        if alternatives:
            record["alt_reasons"] = list(alternatives)
        return record

    def keys_of(self, values):
        """Key space -> key tuple, or None when any key field is null/absent."""
        keys = {}
        for ks in self.spaces:
            key = tuple(values.get(field) for field in ks)
            keys[ks] = None if any(v is None for v in key) else key
        return keys

    def newest(self, ks, key):
        events = self.state[ks].get(key)
        return max(e.t for e in events) if events else None

    def admit(self, event, keys):
        """Rules 1 and 2 of docs/semantics.md: raises DeadLetter('expired' or 'late').
        Expiry is checked first, so the reason never depends on which keys are in memory."""
        if self.stream_time is not None and event.t < self.stream_time - self.spec.state_ttl:
            raise DeadLetter("expired")
        late = [ks for ks, key in keys.items() if key is not None
                and self.newest(ks, key) is not None
                and event.t < self.newest(ks, key) - self.spec.lateness]
        if late:
            raise DeadLetter("late")

    def apply(self, event, line):
        keys = self.keys_of(event.values)
        self.admit(event, keys)
        priors = {}
        for ks, key in keys.items():
            if key is None:
                priors[ks] = None
                continue
            newest = self.newest(ks, key)
            if newest is not None and event.t - newest > self.spec.state_ttl:
                self.state[ks][key] = []              # rule 3: the key starts afresh
            priors[ks] = list(self.state[ks].get(key, []))
            self.state[ks].setdefault(key, []).append(event)
        self.stream_time = event.t if self.stream_time is None else max(self.stream_time, event.t)
        features = self.computer.compute(event, priors)
        self.rows.append((line, event, features))


# ----------------------------------------------------------------------------- output

def format_number(x):
    """Shortest round-trip text; integral values without '.0' (as %g / to_chars print)."""
    if x is None:
        return ""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def format_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    text = str(value)
    if any(c in text for c in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def header(spec):
    cols = [spec.event_id] if spec.event_id else []
    return cols + [spec.time_field] + [f.name for f in spec.features]


def write_csv(spec, rows, path):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(header(spec)) + "\n")
        for _line, event, features in rows:
            cells = [format_cell(event.values.get(spec.event_id))] if spec.event_id else []
            cells.append(format_time(event.t, spec.unit))
            cells += [format_number(x) for x in features]
            f.write(",".join(cells) + "\n")


def write_dead(dead, events_path, path):
    name = os.path.basename(events_path)
    with open(path, "w", encoding="utf-8") as f:
        for record in dead:
            out = {"reason": record["reason"], "source": f"{name}:{record['line']}"}
            if "alt_reasons" in record:
                out["alt_reasons"] = record["alt_reasons"]
            f.write(json.dumps(out) + "\n")


def run_oracle(spec_path, events_path=None):
    """-> (spec, events path, Replay). Library entry point for the other scripts."""
    spec = Spec(spec_path)
    events_path = events_path or spec.input_path()
    replay = Replay(spec)
    replay.run(read_lines(events_path))
    return spec, events_path, replay


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spec")
    ap.add_argument("--input", help="events JSONL (default: the spec's source.file)")
    ap.add_argument("--output", required=True, help="feature CSV to write")
    ap.add_argument("--dead-letter", required=True, help="dead-letter JSONL to write")
    args = ap.parse_args(argv)
    try:
        spec, events_path, replay = run_oracle(args.spec, args.input)
    except SpecError as err:
        print(f"{args.spec}: spec error: {err}", file=sys.stderr)
        return 2
    write_csv(spec, replay.rows, args.output)
    write_dead(replay.dead, events_path, args.dead_letter)
    return 0


if __name__ == "__main__":
    sys.exit(main())
