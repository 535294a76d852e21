"""Tiny cases whose expected values were worked out by hand from SPEC.md section 3 and
docs/semantics.md (the arithmetic is in the comments). run_oracle_tests.py --self-test
runs the oracle on each and checks every listed cell, so the oracle itself is tested.

Each case: spec (YAML text), events (JSONL lines, line 1 first), rows (one dict per
expected CSV row: column -> expected; None = empty cell, str = exact text, number =
within 1e-12 relative), dead ({line: reason or (reason, [alternative reasons])}).
"""
import math

N = None

# --------------------------------------------------------------------------------------
# Windows and aggregations on one key, unit s, lateness 10s, default TTL (90d).
WINDOWS = {
    "name": "windows",
    "spec": """
name: windows
source: {file: events.jsonl, format: jsonl}
event_time: {field: ts, unit: s}
event_id: id
allowed_lateness: 10s
fields: {id: string, u: string, x: double}
features:
  - {name: c_all, agg: count, key: u}
  - {name: c_10, agg: count, key: u, window: 10s}
  - {name: s_10, agg: sum, of: x, key: u, window: 10s}
  - {name: m_10x, agg: mean, of: x, key: u, window: 10s, exclude_current: true}
  - {name: mn_r2, agg: min, of: x, key: u, rows: 2}
  - {name: mx_b, agg: max, of: x, key: u, window: 10s, resolution: 5s}
  - {name: v_all, agg: var, of: x, key: u}
  - {name: sd_all, agg: stddev, of: x, key: u}
  - {name: cd, agg: count_distinct, of: x, key: u}
  - {name: f_r3, agg: first, of: x, key: u, rows: 3}
  - {name: l_ex, agg: last, of: x, key: u, exclude_current: true}
  - {name: tsl, agg: time_since_last, key: u}
  - {name: cx, agg: count, of: x, key: u}
""",
    "events": [
        '{"id":"e1","ts":100,"u":"a","x":1}',
        '{"id":"e2","ts":104,"u":"a","x":3}',
        '{"id":"e3","ts":102,"u":"a","x":null}',   # out of order, within lateness
        '{"id":"e4","ts":111,"u":"a","x":1}',
        '{"id":"e5","ts":100,"u":"a","x":5}',      # 100 < 111 - 10: late
        '{"id":"e6","ts":112,"u":"b","x":-2}',
        '{"id":"e7","ts":115,"u":null,"x":9}',     # null key: applied, features null
        '{"id":"e8","ts":114,"u":"a","x":2.5}',
        '{"id":"e9","ts":115,"u":"a",',            # parse_error
        '{"id":"e10","u":"a","x":1}',              # no event time: schema
        '{"id":"e11","ts":-5,"u":"a","x":1}',      # bad_time
        '{"id":"e12","ts":120,"u":"a","x":"abc"}', # wrong type: schema
    ],
    "rows": [
        # e1 t=100: only e1. Bucket R=5s: bucket(100)=20, window buckets 19..20.
        dict(id="e1", ts="100", c_all=1, c_10=1, s_10=1, m_10x=N, mn_r2=1, mx_b=1, v_all=N,
             sd_all=N, cd=1, f_r3=1, l_ex=N, tsl=N, cx=1),
        # e2 t=104: {e1,e2}; var(1,3) = 2; last before = 1; gap 4s.
        dict(id="e2", ts="104", c_all=2, c_10=2, s_10=4, m_10x=1, mn_r2=1, mx_b=3, v_all=2,
             sd_all=math.sqrt(2), cd=2, f_r3=1, l_ex=1, tsl=4, cx=2),
        # e3 t=102, x null: windows with time <= 102 hold e1, e3 (e2 at 104 is out);
        # rows 2 = [e2, e3] -> values [3]; bucket(102)=20 = bucket(104) so e2 IS in mx_b.
        dict(id="e3", ts="102", c_all=2, c_10=2, s_10=1, m_10x=1, mn_r2=3, mx_b=3, v_all=N,
             sd_all=N, cd=1, f_r3=1, l_ex=1, tsl=2, cx=1),
        # e4 t=111: (101,111] = e2,e3,e4 -> sum 3+1; rows 2 = [e3,e4]; buckets 21..22 = [105,115)
        # -> e4; var(1,3,1) = (4/9+16/9+4/9)/2 = 4/3; last non-null before = e2 (e3 is null).
        dict(id="e4", ts="111", c_all=4, c_10=3, s_10=4, m_10x=3, mn_r2=1, mx_b=1, v_all=4 / 3,
             sd_all=math.sqrt(4 / 3), cd=2, f_r3=3, l_ex=3, tsl=7, cx=3),
        dict(id="e6", ts="112", c_all=1, c_10=1, s_10=-2, m_10x=N, mn_r2=-2, mx_b=-2, v_all=N,
             sd_all=N, cd=1, f_r3=-2, l_ex=N, tsl=N, cx=1),
        dict(id="e7", ts="115", c_all=N, c_10=N, s_10=N, m_10x=N, mn_r2=N, mx_b=N, v_all=N,
             sd_all=N, cd=N, f_r3=N, l_ex=N, tsl=N, cx=N),
        # e8 t=114: (104,114] = e4,e8 (104 is excluded: open lower bound); rows 3 = [e3,e4,e8];
        # values 1,3,1,2.5: mean 1.875, squares .765625+1.265625+.765625+.390625 = 3.1875 -> /3.
        dict(id="e8", ts="114", c_all=5, c_10=2, s_10=3.5, m_10x=1, mn_r2=1, mx_b=2.5,
             v_all=1.0625, sd_all=math.sqrt(1.0625), cd=3, f_r3=1, l_ex=1, tsl=3, cx=4),
    ],
    "dead": {5: "late", 9: "parse_error", 10: "schema", 11: "bad_time", 12: "schema"},
}

# --------------------------------------------------------------------------------------
# Expressions, unit ms. 1700000000 s = 2023-11-14T22:13:20Z, a Tuesday (dayofweek 1):
# day 19675, second of day 80000 -> hour 22.
EXPRESSIONS = {
    "name": "expressions",
    "spec": """
name: expressions
source: {file: events.jsonl, format: jsonl}
event_time: {field: ts, unit: ms}
fields: {u: string, a: double, b: int, f: bool, lat: double, lon: double}
features:
  - {name: cnt, agg: count, key: u}
  - {name: e1, expr: "a / b"}
  - {name: e2, expr: "a % b"}
  - {name: e3, expr: "if(is_null(a), -1, a * 2)"}
  - {name: e4, expr: "coalesce(a, b, 7)"}
  - {name: e5, expr: "1 + 2 * 3 - -4 / 2"}
  - {name: e6, expr: "a > 1 && !f || b == 0"}
  - {name: e7, expr: "hour(ts) + 100 * dayofweek(ts)"}
  - {name: e8, expr: "haversine(lat, lon, 0, 0)"}
  - {name: e9, expr: "log(a)"}
  - {name: e10, expr: "is_null(exp(b))"}
  - {name: e11, expr: "cnt2 * 10"}
  - {name: cnt2, expr: "cnt + 1"}
  - {name: e12, expr: "min(a, b, 3) + max(a, b) + clamp(a, -1, 1)"}
  - {name: e13, expr: "pow(2, b)"}
  - {name: e14, expr: "if(b, a, 1/0)"}
  - {name: e15, expr: "2 - 3 - 4 + 8 / 4 / 2"}
  - {name: e16, expr: "1 < 2 == 1"}
  - {name: e17, expr: "-7 % 3"}
  - {name: e18, expr: "ts / 1000"}
""",
    "events": [
        '{"ts":1700000000000,"u":"x","a":5,"b":2,"f":false,"lat":0,"lon":1}',
        '{"ts":1700000000500,"u":"x","a":null,"b":0,"f":true,"lat":null,"lon":2}',
        '{"ts":1700000001000,"a":-3,"b":1000,"f":true,"lat":0,"lon":90}',
    ],
    "rows": [
        # haversine((0,1),(0,0)) = R * 1 degree; e12 = min(5,2,3) + max(5,2) + clamp(5,-1,1).
        dict(ts="1700000000000", cnt=1, e1=2.5, e2=1, e3=10, e4=5, e5=9, e6=1, e7=122,
             e8=6371.0088 * math.pi / 180, e9=math.log(5), e10=0, e11=20, cnt2=2, e12=8,
             e13=4, e14=5, e15=-4, e16=1, e17=-1, e18=1700000000),
        # a null: everything touching a is null except is_null/coalesce; b = 0: 1/0 -> null.
        dict(ts="1700000000500", cnt=2, e1=N, e2=N, e3=-1, e4=0, e5=9, e6=N, e7=122, e8=N,
             e9=N, e10=0, e11=30, cnt2=3, e12=N, e13=1, e14=N, e15=-4, e16=1, e17=-1,
             e18=1700000000.5),
        # u absent: cnt null. exp(1000) overflows -> null -> is_null 1. Quarter meridian.
        # fmod(-3, 1000) = -3. min(-3,1000,3) + 1000 + clamp(-3,-1,1) = -3 + 1000 - 1.
        dict(ts="1700000001000", cnt=N, e1=-0.003, e2=-3, e3=-6, e4=-3, e5=9, e6=0, e7=122,
             e8=6371.0088 * math.pi / 2, e9=N, e10=1, e11=N, cnt2=N, e12=996, e13=2.0 ** 1000,
             e14=-3, e15=-4, e16=1, e17=-1, e18=1700000001),
    ],
    "dead": {},
}

# --------------------------------------------------------------------------------------
# Lateness, TTL reset, expiry, composite keys, ewma, rows. unit s, lateness 5s, TTL 100s.
TTL = {
    "name": "ttl",
    "spec": """
name: ttl
source: {file: events.jsonl, format: jsonl}
event_time: {field: ts, unit: s}
allowed_lateness: 5s
state_ttl: 100s
fields: {u: string, m: string, x: double}
features:
  - {name: uc, agg: count, key: u}
  - {name: umc, agg: count, key: [u, m]}
  - {name: uc20, agg: count, key: u, window: 20s}
  - {name: ew, agg: ewma, of: x, key: u, half_life: 10s}
  - {name: tsl, agg: time_since_last, key: u}
  - {name: rs, agg: sum, of: x, key: u, rows: 3}
""",
    "events": [
        '{"ts":1000,"u":"a","m":"m1","x":4}',
        '{"ts":1010,"u":"a","m":"m2","x":8}',
        '{"ts":1006,"u":"a","m":"m1","x":2}',   # 1006 >= 1010 - 5: applied
        '{"ts":1004,"u":"a","m":"m1","x":100}', # late for u (1004 < 1005), fine for (a,m1)
        '{"ts":1200,"u":"b","m":"m1","x":1}',   # stream time G = 1200
        '{"ts":1050,"u":"c","m":"m1","x":1}',   # 1050 < 1200 - 100: expired
        '{"ts":1115,"u":"a","m":"m2","x":5}',   # 1115 - 1010 > 100: a and (a,m2) reset
        '{"ts":1110,"u":"a","m":"m1","x":3}',   # 1110 = 1115 - 5: not late; (a,m1) resets
        '{"ts":1112,"u":"a","m":null,"x":2}',   # composite key null
        '{"ts":1115,"u":"a","m":"m2","x":null}',
    ],
    "rows": [
        dict(ts="1000", uc=1, umc=1, uc20=1, ew=4, tsl=N, rs=4),
        # ewma weights 2^(-10/10) = .5 and 1: (2 + 8) / 1.5.
        dict(ts="1010", uc=2, umc=1, uc20=2, ew=10 / 1.5, tsl=10, rs=12),
        # time <= 1006: e1, e3 (e2 at 1010 is out); rows 3 = e1,e2,e3.
        dict(ts="1006", uc=2, umc=2, uc20=2, ew=(4 * 2 ** -0.6 + 2) / (2 ** -0.6 + 1), tsl=6,
             rs=14),
        dict(ts="1200", uc=1, umc=1, uc20=1, ew=1, tsl=N, rs=1),
        dict(ts="1115", uc=1, umc=1, uc20=1, ew=5, tsl=N, rs=5),
        # after the reset a holds e7 (1115) only, which is newer than 1110; rows = [e7, e8].
        dict(ts="1110", uc=1, umc=1, uc20=1, ew=3, tsl=N, rs=8),
        dict(ts="1112", uc=2, umc=N, uc20=2, ew=(3 * 2 ** -0.2 + 2) / (2 ** -0.2 + 1), tsl=2,
             rs=10),
        # time <= 1115: e7, e8, e9, e10; x non-null: 5 @1115, 3 @1110, 2 @1112; tsl: e7 at 1115.
        dict(ts="1115", uc=4, umc=2, uc20=4,
             ew=(5 + 3 * 2 ** -0.5 + 2 * 2 ** -0.3) / (1 + 2 ** -0.5 + 2 ** -0.3), tsl=0, rs=5),
    ],
    "dead": {4: "late", 6: "expired"},
}

# --------------------------------------------------------------------------------------
# A late event for a key an engine may already have dropped (newest < G - 2*ttl): expiry is
# checked before lateness (docs/semantics.md, Admission rule 1), so it is `expired` either way.
DROPPABLE = {
    "name": "droppable",
    "spec": """
name: droppable
source: {file: events.jsonl, format: jsonl}
event_time: {field: ts, unit: s}
allowed_lateness: 10s
state_ttl: 100s
fields: {u: string}
features:
  - {name: c, agg: count, key: u}
""",
    "events": [
        '{"ts":1000,"u":"a"}',
        '{"ts":1300,"u":"b"}',   # G = 1300; a's newest 1000 < 1300 - 200: droppable
        '{"ts":980,"u":"a"}',    # 980 < 1300 - 100: expired (it is also late for a)
        '{"ts":1250,"u":"b"}',   # late for b (1250 < 1290), b not droppable
        '{"ts":1201,"u":"a"}',   # 1201 >= 1300 - 100: not expired; 201 > 100: a resets
    ],
    "rows": [dict(ts="1000", c=1), dict(ts="1300", c=1), dict(ts="1201", c=1)],
    "dead": {3: "expired", 4: "late"},
}

# --------------------------------------------------------------------------------------
# iso8601 times, buckets of 30m, rows with exclude_current, count_distinct of strings.
# 2024-01-01T00:00:00Z = 1704067200 s, a multiple of 30 min: buckets B0 = [00:00, 00:30),
# B1 = [00:30, 01:00), B2 = [01:00, 01:30); window 1h = 2 buckets.
BUCKETS = {
    "name": "buckets",
    "spec": """
name: buckets
source: {file: events.jsonl, format: jsonl}
event_time: {field: ts, unit: iso8601}
event_id: id
allowed_lateness: 5m
fields: {id: int, u: string, m: string, x: double}
features:
  - {name: cd_m, agg: count_distinct, of: m, key: u, window: 1h, resolution: 30m}
  - {name: first_b, agg: first, of: x, key: u, window: 1h, resolution: 30m}
  - {name: last_r2x, agg: last, of: x, key: u, rows: 2, exclude_current: true}
  - {name: sum_r2x, agg: sum, of: x, key: u, rows: 2, exclude_current: true}
  - {name: min_bx, agg: min, of: x, key: u, window: 1h, resolution: 30m, exclude_current: true}
  - {name: tsec, expr: "ts"}
  - {name: hr, expr: "hour(ts)"}
""",
    "events": [
        '{"id":1,"ts":"2024-01-01T00:10:00Z","u":"a","m":"p","x":2}',
        '{"id":2,"ts":"2024-01-01T01:29:59.5+01:00","u":"a","m":"q","x":-1}',
        '{"id":3,"ts":"2024-01-01 00:45:00","u":"a","m":"p","x":null}',
        '{"id":4,"ts":"2024-01-01T01:00:00.000000001Z","u":"a","m":null,"x":7}',
        '{"id":5,"ts":"2024-01-01T00:59:59Z","u":"a","m":"r","x":3}',
        '{"id":6,"ts":"2024-01-01T25:00:00Z","u":"a","m":"r","x":3}',
        '{"id":7,"ts":1704070800,"u":"a","m":"r","x":3}',
        '{"id":8,"ts":"2300-01-01T00:00:00Z","u":"a","m":"r","x":3}',
    ],
    "rows": [
        dict(id="1", ts="2024-01-01T00:10:00Z", cd_m=1, first_b=2, last_r2x=N, sum_r2x=0,
             min_bx=N, tsec=1704067800, hr=0),
        # 01:29:59.5+01:00 = 00:29:59.5Z, still B0.
        dict(id="2", ts="2024-01-01T00:29:59.5Z", cd_m=2, first_b=2, last_r2x=2, sum_r2x=2,
             min_bx=2, tsec=1704068999.5, hr=0),
        # B1 (no zone = UTC); window B0..B1 = e1,e2,e3; rows before = [e1,e2].
        dict(id="3", ts="2024-01-01T00:45:00Z", cd_m=2, first_b=2, last_r2x=-1, sum_r2x=1,
             min_bx=-1, tsec=1704069900, hr=0),
        # 1 ns rounds to 0 us: 01:00:00Z, B2; window B1..B2 = e3 (m p, x null), e4 (m null).
        dict(id="4", ts="2024-01-01T01:00:00Z", cd_m=1, first_b=7, last_r2x=-1, sum_r2x=-1,
             min_bx=N, tsec=1704070800, hr=1),
        # B1 again (within 5m lateness): window B0..B1 = e1,e2,e3,e5 (e4 in B2 is out).
        dict(id="5", ts="2024-01-01T00:59:59Z", cd_m=3, first_b=2, last_r2x=7, sum_r2x=7,
             min_bx=-1, tsec=1704070799, hr=0),
    ],
    "dead": {6: "bad_time", 7: "bad_time", 8: "bad_time"},
}

# --------------------------------------------------------------------------------------
# Fractional seconds: rounding to the microsecond (ties away from zero), lateness 0,
# equal timestamps, exponent notation.
ROUNDING = {
    "name": "rounding",
    "spec": """
name: rounding
source: {file: events.jsonl, format: jsonl}
event_time: {field: ts, unit: s}
fields: {u: string}
features:
  - {name: c, agg: count, key: u, window: 1s}
  - {name: e, expr: "ts * 2"}
""",
    "events": [
        '{"ts":1.5,"u":"a"}',
        '{"ts":2.0000005,"u":"a"}',   # 2000000.5 us -> 2000001 us
        '{"ts":2.0000004,"u":"a"}',   # 2000000 us < 2000001: late (lateness 0)
        '{"ts":2.000001,"u":"a"}',    # equal to newest: applied
        '{"ts":3e0,"u":"a"}',
    ],
    "rows": [
        dict(ts="1.5", c=1, e=3),
        dict(ts="2.000001", c=2, e=4.000002),     # (1.000001, 2.000001] holds 1.5 too
        dict(ts="2.000001", c=3, e=4.000002),
        dict(ts="3", c=3, e=6),                   # (2, 3]: the two at 2.000001 and this one
    ],
    "dead": {3: "late"},
}

CASES = [WINDOWS, EXPRESSIONS, TTL, DROPPABLE, BUCKETS, ROUNDING]
