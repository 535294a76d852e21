#!/usr/bin/python3
"""Seeded generator of adversarial feature test cases: a spec YAML and an events JSONL.

    make_log.py --seed S --variant V --events N --out DIR [--in-order]

Writes DIR/spec.yaml and DIR/events.jsonl. The same (seed, variant, events, in-order)
always gives the same files. Variants differ in time unit, lateness, TTL and time scale
(see VARIANTS); every variant has every aggregation over every window kind.

--in-order makes a log the pandas check can follow: non-decreasing times, no nulls,
no missing fields, no bad records, no gap long enough to reset a key.
"""
import argparse
import datetime
import json
import os
import random

S, M, H, D = 1_000_000, 60_000_000, 3_600_000_000, 86_400_000_000
DUR_UNITS = [("d", D), ("h", H), ("m", M), ("s", S), ("ms", 1000), ("us", 1)]

# Each variant: unit, time scale and admission settings. ttl None = the default (90d).
# Windows: w1 < w2 time windows, wb with resolution res, rows r1/r2.
VARIANTS = [
    dict(name="s_small_ints", unit="s", base=1_000 * S, lateness=30 * S, ttl=2 * H,
         w1=M, w2=10 * M, wb=30 * M, res=5 * M, r1=5, r2=3, small=10 * S, medium=10 * M,
         p_equal=0.3, users=12, frac=False, magnitude=1e5),
    dict(name="ms_default_ttl", unit="ms", base=1_700_000_000 * S, lateness=5 * M, ttl=None,
         w1=H, w2=D, wb=7 * D, res=D, r1=5, r2=2, small=30 * S, medium=6 * H,
         p_equal=0.2, users=20, frac=True, magnitude=1e5),
    dict(name="iso_zero_lateness", unit="iso8601", base=1_704_067_200 * S, lateness=0,
         ttl=D, w1=5 * M, w2=H, wb=2 * H, res=30 * M, r1=4, r2=1, small=20 * S, medium=2 * H,
         p_equal=0.25, users=10, frac=True, magnitude=1e4),
    dict(name="us_tight_ttl", unit="us", base=1_600_000_000 * S, lateness=H, ttl=90 * M,
         w1=10 * M, w2=30 * M, wb=30 * M, res=5 * M, r1=5, r2=3, small=60 * S, medium=30 * M,
         p_equal=0.2, users=8, frac=True, magnitude=1e5),
    dict(name="s_extreme_values", unit="s", base=1_650_000_000 * S, lateness=10 * S,
         ttl=3 * H, w1=M, w2=15 * M, wb=H, res=10 * M, r1=6, r2=2, small=15 * S,
         medium=20 * M, p_equal=0.2, users=10, frac=True, magnitude=1e12),
    dict(name="s_dense_equal", unit="s", base=50 * S, lateness=2 * S, ttl=10 * M,
         w1=10 * S, w2=M, wb=2 * M, res=20 * S, r1=10, r2=4, small=3 * S, medium=2 * M,
         p_equal=0.6, users=3, frac=False, magnitude=1e3),
]
IN_ORDER = dict(name="in_order", unit="s", base=1_700_000_000 * S, lateness=0, ttl=None,
                w1=M, w2=H, wb=H, res=10 * M, r1=5, r2=3, small=20 * S, medium=10 * M,
                p_equal=0.2, users=8, frac=False, magnitude=1e4)

CATS = ["food", "fuel", "travel", "web", "atm", "gift"]
AGGS_OF_AMOUNT = ["sum", "mean", "min", "max", "var", "stddev", "first", "last", "ewma"]


def dur(us):
    """Microseconds -> the spec's duration text (largest exact unit)."""
    for suffix, size in DUR_UNITS:
        if us % size == 0:
            return f"{us // size}{suffix}"
    raise ValueError(us)


# ----------------------------------------------------------------------------- spec

def window_kinds(v):
    """(suffix, window keys) for each window kind: time, rows, bucketed, none."""
    return [("w1", {"window": dur(v["w1"])}),
            ("r1", {"rows": v["r1"]}),
            ("b", {"window": dur(v["wb"]), "resolution": dur(v["res"])}),
            ("all", {})]


def ewma_half_life(v, suffix):
    # Windowed ewma: a third of the window. Unbounded or row windows can span many TTLs,
    # so a long half-life keeps weights far from underflow (see the oracle's ewma()).
    ttl = v["ttl"] or max(90 * D, v["wb"] + v["lateness"])
    return dur({"w1": v["w1"], "b": v["wb"]}.get(suffix, ttl) // 3 // S * S or S)


def user_features(v):
    """Every aggregation over every window kind on key user_id."""
    out = []
    for suffix, win in window_kinds(v):
        out.append(dict(name=f"u_count_{suffix}", agg="count", key="user_id", **win))
        out.append(dict(name=f"u_countof_{suffix}", agg="count", of="amount", key="user_id",
                        **win))
        out.append(dict(name=f"u_distinct_{suffix}", agg="count_distinct", of="cat",
                        key="user_id", **win))
        for agg in AGGS_OF_AMOUNT:
            extra = {"half_life": ewma_half_life(v, suffix)} if agg == "ewma" else {}
            out.append(dict(name=f"u_{agg}_{suffix}", agg=agg, of="amount", key="user_id",
                            **win, **extra))
    out.append(dict(name="u_tsl", agg="time_since_last", key="user_id"))
    return out


def excluded_features(v):
    """exclude_current over each window kind and several aggregations."""
    w1, w2 = dur(v["w1"]), dur(v["w2"])
    bucket = {"window": dur(v["wb"]), "resolution": dur(v["res"])}
    features = [
        dict(name="ux_mean_w2", agg="mean", of="amount", key="user_id", window=w2),
        dict(name="ux_sum_r2", agg="sum", of="amount", key="user_id", rows=v["r2"]),
        dict(name="ux_count_b", agg="count", key="user_id", **bucket),
        dict(name="ux_distinct_w1", agg="count_distinct", of="amount", key="user_id",
             window=w1),
        dict(name="ux_ewma_w2", agg="ewma", of="amount", key="user_id", window=w2,
             half_life=dur(v["w2"] // 2)),
        dict(name="ux_var_all", agg="var", of="amount", key="user_id"),
        dict(name="ux_min_r1", agg="min", of="qty", key="user_id", rows=v["r1"]),
        dict(name="ux_first_b", agg="first", of="amount", key="user_id", **bucket),
        dict(name="u_last_lat", agg="last", of="lat", key="user_id"),
        dict(name="u_last_lon", agg="last", of="lon", key="user_id"),
    ]
    return [dict(f, exclude_current=True) for f in features]


def other_key_features(v):
    """An int key (merch) and the composite keys [user_id, merch] and [merch, cat]."""
    w1, w2 = dur(v["w1"]), dur(v["w2"])
    bucket = {"window": dur(v["wb"]), "resolution": dur(v["res"])}
    um = ["user_id", "merch"]
    return [
        dict(name="m_count_w2", agg="count", key="merch", window=w2),
        dict(name="m_sum_all", agg="sum", of="amount", key="merch"),
        dict(name="m_max_qty_r2", agg="max", of="qty", key="merch", rows=v["r2"]),
        dict(name="m_users_w2", agg="count_distinct", of="user_id", key="merch", window=w2),
        dict(name="m_mean_qty_b", agg="mean", of="qty", key="merch", **bucket),
        dict(name="m_last_flag", agg="last", of="flag", key="merch"),
        dict(name="m_sum_flag_w1", agg="sum", of="flag", key="merch", window=w1),
        dict(name="m_tsl", agg="time_since_last", key="merch"),
        dict(name="um_count_w1", agg="count", key=um, window=w1),
        dict(name="um_mean_r2", agg="mean", of="amount", key=um, rows=v["r2"]),
        dict(name="um_tsl", agg="time_since_last", key=um),
        dict(name="um_std_all", agg="stddev", of="amount", key=um),
        dict(name="um_ewma_b", agg="ewma", of="qty", key=um, half_life=dur(v["res"]), **bucket),
        dict(name="mc_distinct_u_all", agg="count_distinct", of="user_id", key=["merch", "cat"],
             exclude_current=True),
        dict(name="ux_count_all", agg="count", key="user_id", exclude_current=True),
    ]


def expression_features():
    """Expressions over fields and features. Comparisons and divisors use fields or
    counts only, so a last-bit difference in a float feature cannot flip a result."""
    exprs = {
        "x_zscore": "(amount - u_mean_w1) / (coalesce(u_stddev_w1, 0) + 1)",
        "x_ratio": "amount / (abs(u_mean_all) + 1)",
        "x_per_qty": "amount / qty",
        "x_mod": "amount % qty",
        "x_qmod": "-qty % 7",
        "x_if": "if(is_null(amount), -1, amount * 2)",
        "x_if_flag": "if(flag, amount, -amount)",
        "x_coalesce": "coalesce(amount, qty, 0)",
        "x_logic": "u_count_w1 > 3 && flag || !(qty == 0)",
        "x_cmp": "(amount >= 100) + (amount != 0) * 2 + (qty < 0) * 4",
        "x_km": "haversine(lat, lon, u_last_lat, u_last_lon)",
        "x_clock": "hour(ts) * 10 + dayofweek(ts)",
        "x_math": "log1p(abs(amount)) + sqrt(abs(qty)) + pow(abs(amount), 0.5)",
        "x_sqrt_neg": "sqrt(amount)",
        "x_log": "log(amount)",
        "x_exp": "exp(qty)",
        "x_is_null_exp": "is_null(exp(qty))",
        "x_minmax": "clamp(amount, -100, 100) + min(qty, 3, amount) - max(u_count_w1, qty)",
        "x_forward": "x_later * 2 + u_tsl",
        "x_later": "u_count_all - ux_count_all + m_count_w2 / (qty * 0 + u_count_b)",
        "x_div0": "u_count_w1 / (qty - qty)",
        "x_nested": "coalesce(if(qty > 10, um_mean_r2, u_last_lat), is_null(flag), -1)",
    }
    return [dict(name=n, expr=e) for n, e in exprs.items()]


def yaml_value(value):
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and not value.replace("_", "").isalnum():
        return json.dumps(value)
    return str(value)


def feature_line(feature):
    body = ", ".join(f"{k}: {yaml_value(v)}" for k, v in feature.items())
    return f"  - {{{body}}}"


def spec_text(v, features):
    lines = [f"name: oracle_{v['name']}",
             "source: {file: events.jsonl, format: jsonl}",
             f"event_time: {{field: ts, unit: {v['unit']}}}",
             "event_id: txn_id",
             f"allowed_lateness: {dur(v['lateness']) if v['lateness'] else '0s'}"]
    if v["ttl"] is not None:
        lines.append(f"state_ttl: {dur(v['ttl'])}")
    lines += ["fields:", "  txn_id: string", "  user_id: string", "  merch: int",
              "  amount: double", "  qty: int", "  flag: bool", "  cat: string",
              "  lat: double", "  lon: double", "features:"]
    lines += [feature_line(f) for f in features]
    return "\n".join(lines) + "\n"


def all_features(v):
    return (user_features(v) + excluded_features(v) + other_key_features(v)
            + expression_features())


# ----------------------------------------------------------------------------- events

def longest_window(v):
    return max(v["w1"], v["w2"], v["wb"])


def effective_ttl(v):
    return v["ttl"] if v["ttl"] is not None else max(90 * D, longest_window(v) + v["lateness"])


class EventMaker:
    """Draws one event line at a time; the stream time only moves forward, event times
    scatter around it (late, very late, expired) unless in_order."""

    def __init__(self, v, rng, in_order):
        self.v, self.rng, self.in_order = v, rng, in_order
        self.cursor = v["base"]
        self.ttl = effective_ttl(v)
        self.users = [f"u{i}" for i in range(v["users"])]
        # Zipf-like weights: the rare users come back after long idle gaps (TTL resets).
        self.weights = [1.0 / (i + 1) for i in range(v["users"])]
        self.unit_us = {"s": S, "ms": 1000, "us": 1, "iso8601": S}[v["unit"]]

    # -- time
    def granular(self, us):
        """Whole units, or microseconds where the variant allows fractions."""
        if self.v["frac"] and self.rng.random() < 0.5:
            return max(0, int(us))
        return max(0, int(us) // self.unit_us * self.unit_us)

    def advance(self):
        rng, v = self.rng, self.v
        r = rng.random()
        if r < v["p_equal"]:
            return
        r = rng.random()
        if r < 0.85:
            step = rng.uniform(1, v["small"])
        elif r < 0.98 or self.in_order:
            step = rng.uniform(v["small"], min(v["medium"], self.ttl // 2))
        else:
            step = self.ttl * rng.uniform(0.3, 1.5)   # long idle gap for everyone
        self.cursor += max(self.unit_us, self.granular(step))

    def event_time(self):
        """-> (time, kind); kind 'expired' asks for keys the stream has never seen, since
        an old event on a known key is `late` first (admission rule 1 before rule 2)."""
        rng, v, t = self.rng, self.v, self.cursor
        r = 1.0 if self.in_order else rng.random()
        if r < 0.10:
            return self.granular(t - rng.uniform(0, v["lateness"])), "within"
        if r < 0.16:
            behind = v["lateness"] + rng.uniform(1, 2 * v["lateness"] + 60 * S)
            return self.granular(t - behind), "beyond"
        if r < 0.19:
            return self.granular(t - self.ttl - rng.uniform(1, self.ttl / 2)), "expired"
        return t, "now"

    # -- values
    def pick(self, p_null, p_missing, make):
        """A field value: make() or null or missing (None vs the MISSING marker)."""
        if self.in_order:
            return make()
        r = self.rng.random()
        if r < p_null:
            return None
        if r < p_null + p_missing:
            return MISSING
        return make()

    def amount(self):
        rng, mag = self.rng, self.v["magnitude"]
        r = rng.random()
        if r < 0.08:
            return rng.choice([0, 0.0, -0.0])
        if r < 0.18:
            return rng.randint(-50, 500)                       # an integer JSON literal
        if r < 0.25:
            return rng.choice([1.5, 2.5, 10.0, -7.25])         # repeats: ties and duplicates
        if r < 0.35:
            return round(rng.choice([-1, 1]) * rng.uniform(mag / 10, mag), 2)
        if r < 0.40:
            return round(rng.choice([-1, 1]) * rng.uniform(1e-6, 1e-3), 9)
        return round(rng.uniform(-mag / 100, mag / 100), 2)

    def qty(self):
        r = self.rng.random()
        if r < 0.10:
            return 0
        if r < 0.15:
            return self.rng.randint(700, 1000)                 # exp(qty) overflows
        return self.rng.randint(-5, 20)

    def values(self):
        rng = self.rng
        return {
            "user_id": self.pick(0.04, 0.03, lambda: rng.choices(self.users, self.weights)[0]),
            "merch": self.pick(0.04, 0.03, lambda: rng.choice([-1, 0, 1, 2, 3, 4, 5, 6])),
            "amount": self.pick(0.06, 0.04, self.amount),
            "qty": self.pick(0.05, 0.03, self.qty),
            "flag": self.pick(0.08, 0.02, lambda: rng.random() < 0.4),
            "cat": self.pick(0.06, 0.02, lambda: rng.choice(CATS)),
            "lat": self.pick(0.06, 0.02, lambda: round(rng.uniform(-80, 80), 4)),
            "lon": self.pick(0.06, 0.02, lambda: round(rng.uniform(-180, 180), 4)),
        }


MISSING = object()


# ----------------------------------------------------------------------------- formatting

def time_literal(us, unit, rng):
    """JSON text of an event time in the spec's unit (exact, no rounding needed)."""
    if unit == "iso8601":
        return json.dumps(iso_text(us, rng))
    size = {"s": S, "ms": 1000, "us": 1}[unit]
    whole, rest = divmod(us, size)
    if rest == 0:
        return str(whole)
    return f"{whole}." + f"{rest:0{len(str(size)) - 1}d}".rstrip("0")


def iso_text(us, rng):
    """Varied ISO-8601 spellings of the same instant: zones, 'T' or ' ', 0-9 digits."""
    offset_min = rng.choice([0, 0, 0, 60, -300, 330, 14 * 60 - 1])
    zone = rng.choice(["Z", "Z", "", "offset", "offset"])
    if zone != "offset":
        offset_min = 0
    local = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us,
                                                               minutes=offset_min)
    text = local.strftime("%Y-%m-%d") + rng.choice(["T", "T", "T", " "])
    text += local.strftime("%H:%M:%S") + fraction_text(local.microsecond, rng)
    if zone == "offset":
        sign = "+" if offset_min >= 0 else "-"
        text += f"{sign}{abs(offset_min) // 60:02d}:{abs(offset_min) % 60:02d}"
    return text + (zone if zone == "Z" else "")


def fraction_text(micro, rng):
    r = rng.random()
    if micro == 0:
        return rng.choice(["", "", ".0", ".000000000"])
    if r < 0.1:   # nanoseconds that round to `micro` (ties and halves away from zero)
        return f".{micro - 1:06d}{rng.randint(500, 999):03d}"
    if r < 0.2:
        return f".{micro:06d}{rng.randint(0, 499):03d}"
    return "." + f"{micro:06d}".rstrip("0")


def record_text(ts_literal, values, txn_id, rng):
    parts = [("txn_id", json.dumps(txn_id))]
    if ts_literal is not None:
        parts.append(("ts", ts_literal))
    parts += [(k, json.dumps(v)) for k, v in values.items() if v is not MISSING]
    rng.shuffle(parts)
    return "{" + ",".join(f'"{k}":{text}' for k, text in parts) + "}"


# ----------------------------------------------------------------------------- bad records

def bad_time_literal(unit, rng):
    if unit == "iso8601":
        return json.dumps(rng.choice(["2024-02-30T00:00:00Z", "2024-01-01T24:00:00Z",
                                      "not a time", "2250-01-01T00:00:00Z", "2024-01-01"]))
    size = {"s": 1, "ms": 1000, "us": 1_000_000}[unit]
    return rng.choice(["-1", str(-5 * size), str(10_000_000_000 * size)])


def bad_record(kind, good_values, maker, txn_id):
    """A record that must be dead-lettered with reason `kind`."""
    rng, v = maker.rng, maker.v
    ts = time_literal(maker.event_time()[0], v["unit"], rng)
    values = dict(good_values)
    if kind == "parse_error":
        text = record_text(ts, values, txn_id, rng)
        return text[:rng.randint(1, len(text) - 1)]
    if kind == "bad_time":
        return record_text(bad_time_literal(v["unit"], rng), values, txn_id, rng)
    field, wrong = rng.choice([("ts", None), ("amount", "abc"), ("qty", 1.5),
                               ("flag", "yes"), ("user_id", 17), ("merch", "x")])
    if field == "ts":
        return record_text(None, values, txn_id, rng)
    values[field] = wrong
    return record_text(ts, values, txn_id, rng)


def event_lines(v, n, seed, in_order):
    rng = random.Random(f"{seed}/{v['name']}/{in_order}")
    maker = EventMaker(v, rng, in_order)
    lines = []
    for i in range(1, n + 1):
        maker.advance()
        values, txn_id = maker.values(), f"t{i}"
        r = 1.0 if in_order else rng.random()
        if r < 0.012:
            lines.append(bad_record("parse_error", values, maker, txn_id))
        elif r < 0.027:
            lines.append(bad_record("schema", values, maker, txn_id))
        elif r < 0.04:
            lines.append(bad_record("bad_time", values, maker, txn_id))
        else:
            t, kind = maker.event_time()
            if kind == "expired":
                values.update(user_id=f"ghost{i}", merch=100_000 + i)
            lines.append(record_text(time_literal(t, v["unit"], rng), values, txn_id, rng))
    return lines


def write_case(out_dir, seed, variant, n, in_order=False):
    """Writes spec.yaml and events.jsonl into out_dir; returns their paths."""
    v = IN_ORDER if in_order else VARIANTS[variant % len(VARIANTS)]
    os.makedirs(out_dir, exist_ok=True)
    spec_path = os.path.join(out_dir, "spec.yaml")
    events_path = os.path.join(out_dir, "events.jsonl")
    with open(spec_path, "w", encoding="utf-8") as f:
        f.write(spec_text(v, all_features(v)))
    with open(events_path, "w", encoding="utf-8") as f:
        f.write("\n".join(event_lines(v, n, seed, in_order)) + "\n")
    return spec_path, events_path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variant", type=int, default=0,
                    help=f"0..{len(VARIANTS) - 1}: " + ", ".join(x["name"] for x in VARIANTS))
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--out", required=True, help="directory to write spec.yaml, events.jsonl")
    ap.add_argument("--in-order", action="store_true")
    args = ap.parse_args(argv)
    for path in write_case(args.out, args.seed, args.variant, args.events, args.in_order):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
