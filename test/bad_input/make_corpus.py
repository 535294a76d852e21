#!/usr/bin/python3
"""Writes the bad-input corpus: JSONL and CSV event files that mix valid events with every kind of
malformed record, each with a sidecar of expected outcomes derived from docs/semantics.md
("Decoding" and "Admission").

    make_corpus.py --out DIR

DIR/<corpus>/events.<ext> and DIR/<corpus>/expected.jsonl for each corpus in CORPORA; the specs are
test/bad_input/specs/<corpus>.yaml. Deterministic: the same bytes on every run (seeded RNG).

expected.jsonl has one object per record (and per skipped empty line), in file order:
  line, nlines      1-based physical line where the record starts, and how many lines it spans
  offset, length    where the record's bytes are in the file: what `record` must reproduce (a BOM at
                    the file start and the CR before the newline are not part of it, as documented)
  expect            "applied", a dead-letter reason, or "skip" (an empty line: not a record)
  also_ok           other outcomes accepted where docs/semantics.md leaves the choice open
  case              what the line exercises
  id, ts, user, amount   for records that may be applied: the expected event_id and time cells of
                    its row (ts may list accepted spellings), and the key and value the checker
                    feeds its own count/sum model with (amount "*": do not check that key's sum)
"""
import argparse
import json
import os
import random

MS0 = 1_700_000_000_000          # 2023-11-14T22:13:20Z in ms
DAY_MS = 86_400_000
MIB = 1 << 20
BOM = b"\xef\xbb\xbf"
CORPORA = ("jsonl_ms", "jsonl_iso", "csv_ms")


def q(s):
    """A JSON string literal, non-ASCII kept as UTF-8."""
    return json.dumps(s, ensure_ascii=False)


def obj(*pairs):
    """A JSON object from (key, raw JSON text) pairs, in order, duplicates allowed."""
    return "{" + ",".join(f"{q(k)}:{v}" for k, v in pairs) + "}"


class Corpus:
    """Accumulates the bytes of one events file and the expected outcome of each record."""

    def __init__(self):
        self.data = bytearray()
        self.line = 1
        self.entries = []
        self.ids = 0

    def next_id(self):
        self.ids += 1
        return f"e{self.ids:04d}"

    def put(self, body, expect, case, end=b"\n", prefix=b"", also_ok=(), **info):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.data += prefix
        entry = {"line": self.line, "nlines": body.count(b"\n") + 1, "offset": len(self.data),
                 "length": len(body), "expect": expect, "case": case}
        if also_ok:
            entry["also_ok"] = list(also_ok)
        entry.update(info)
        self.entries.append(entry)
        self.data += body + end
        self.line += (prefix + body + end).count(b"\n")
        return entry

    def blank(self, case, text=b"\n"):
        """An empty line (possibly with a CR): not a record."""
        self.put(b"", "skip", case, end=text)

    def write(self, folder, name):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(self.data)
        with open(os.path.join(folder, "expected.jsonl"), "w", encoding="utf-8") as f:
            for e in self.entries:
                f.write(json.dumps(e, ensure_ascii=True) + "\n")


class JsonlCorpus(Corpus):
    """JSONL with numeric ms times. Valid events of key u1 have increasing times, so no valid line
    is late or expired; bad lines use the newest time and key `ubad`, so if one were wrongly applied
    it could not make a later valid line late."""

    def __init__(self):
        super().__init__()
        self.t = MS0

    def tick(self):
        self.t += 1000
        return self.t

    def valid(self, case, user="u1", amount=1.25, extra=(), ts_text=None, ts_cell=None, id_=None,
              end=b"\n", prefix=b"", pairs=None, also_ok=()):
        id_ = self.next_id() if id_ is None else id_
        t = self.tick()
        ts_text = str(t) if ts_text is None else ts_text
        if pairs is None:
            fields = {"id": q(id_), "ts": ts_text, "user": None if user is None else q(user),
                      "amount": None if amount is None else json.dumps(amount), "qty": "3", "flag": "true"}
            fields.update(extra)  # overrides keep one key each; a duplicate must be asked for explicitly
            pairs = [(k, v) for k, v in fields.items() if v is not None]
        return self.put(obj(*pairs), "applied", case, end=end, prefix=prefix, also_ok=also_ok,
                        id=id_, ts=ts_cell or str(t), user=user, amount=amount)

    def sentinel(self):
        self.valid("sentinel: a valid line right after a bad one")

    def bad(self, case, body, expect, end=b"\n", also_ok=()):
        self.put(body, expect, case, end=end, also_ok=also_ok)
        self.sentinel()

    def ok_pairs(self, **over):
        """Pairs of an otherwise valid bad-key event at the newest time; `over` replaces values."""
        base = {"id": q(self.next_id()), "ts": str(self.t), "user": q("ubad"), "amount": "1.5",
                "qty": "1", "flag": "false"}
        base.update(over)
        return [(k, v) for k, v in base.items() if v is not None]

    def ev(self, **over):
        return obj(*self.ok_pairs(**over))


def build_jsonl_ms():
    c = JsonlCorpus()
    c.valid("valid line after a UTF-8 BOM at the file start", prefix=BOM)
    c.blank("empty line")
    c.valid("plain valid line")
    c.blank("CR-only line (empty once the CR is dropped)", b"\r\n")
    c.blank("two empty lines", b"\n\n")
    c.valid("valid line with CRLF ending", end=b"\r\n")
    add_valid_variants(c)
    add_broken_json(c)
    add_not_objects_and_time(c)
    add_wrong_types(c)
    add_bytes(c)
    add_nesting_and_numbers(c)
    add_admission(c)
    add_oversize(c)
    c.blank("empty line before the last")
    c.valid("last valid time (2199-12-31T23:59:59.999Z), own key (u1 would start afresh: TTL), no final newline",
            user="u_last", ts_text="7258118399999", ts_cell="7258118399999", end=b"")
    return c


def add_valid_variants(c):
    c.put(" \t{ " + ", ".join(f"{q(k)} : {v}" for k, v in [("id", q("e-ws")), ("ts", str(c.tick())),
                                                          ("user", q("u1")), ("amount", "2")]) + " }\t ",
          "applied", "whitespace around and inside the object", id="e-ws", ts=str(c.t), user="u1", amount=2)
    c.sentinel()
    c.valid("null values", amount=None, extra=[("amount", "null"), ("qty", "null"), ("flag", "null")])
    c.valid("null key (no key state touched)", user=None)
    c.valid("only id and time", user=None, amount=None, pairs=[("id", q("e-min")), ("ts", str(c.t + 1000))],
            id_="e-min")
    t = c.tick()
    c.put(obj(("ts", str(t)), ("user", q("u1"))), "applied", "no event id (empty id cell)", id="", ts=str(t),
          user="u1", amount=None)
    c.valid("undeclared fields of every JSON type are ignored",
            extra=[("note", q("x")), ("obj", '{"a":[1,2,{"b":null}],"c":{}}'), ("arr", "[]"), ("n", "-1.5e-3"),
                   ("t", "true"), ("z", "null"), ("nul", q("a\u0000b"))])
    c.valid("non-ASCII UTF-8 in the id", id_="e-\u00fc\u20ac\U0001F600\u4e2d")
    c.valid("escapes in the id: quote, backslash, comma, newline, \\u00e9", id_='e-"q"\\,\n\u00e9')
    c.valid("integer amount", amount=3)
    c.valid("exponent amount", amount=150.0, extra=[("amount", "1.5e2")])
    t = c.t + 1000
    c.valid("time with exponent (1.700000xxxe12)", ts_text=f"{t / 1e12!r}e12", ts_cell=str(t))
    c.valid("time with .0 fraction", ts_text=f"{c.t + 1000}.0")
    t = c.t + 1000
    c.valid("time with a half-ms fraction", ts_text=f"{t}.5", ts_cell=f"{t}.5")
    c.tick()  # keep the next times above t.5
    t = c.t + 1000
    c.valid("time with a 1 us fraction", ts_text=f"{t}.001", ts_cell=f"{t}.001")
    t = c.t + 1000
    c.valid("time with a sub-microsecond fraction (rounds to the ms)", ts_text=f"{t}.0001", ts_cell=str(t))
    c.valid("int64 extremes and bools", extra=[("qty", "-9223372036854775808"), ("flag", "false")])
    c.valid("int64 max", extra=[("qty", "9223372036854775807")])
    t = c.t
    c.put(obj(("id", q("e-eq")), ("ts", str(t)), ("user", q("u1")), ("amount", "1")), "applied",
          "same time as the key's newest (not late)", id="e-eq", ts=str(t), user="u1", amount=1)
    c.bad("JSON whitespace CR inside the line (record keeps it)",
          b'{"id":"e-cr",\r"ts":' + str(c.t).encode() + b',"amount":"x"}', "schema")
    c.bad("line ending CR CR LF: only one CR is dropped", c.ev(amount='"x"').encode() + b"\r", "schema",
          end=b"\r\n")
    c.bad("bad line with CRLF ending (record without the CR)", c.ev(qty="1.5"), "schema", end=b"\r\n")


def add_broken_json(c):
    ts = str(c.t)
    full = c.ev()
    cases = [
        ("truncated in a key", full[:3]),
        ("truncated in a string value", '{"id":"abc'),
        ("truncated after a colon", '{"id":"a","ts":'),
        ("missing closing brace", full[:-1]),
        ("only an opening brace", "{"),
        ("only a closing brace", "}"),
        ("trailing comma in the object", full[:-1] + ",}"),
        ("trailing comma in an undeclared array", c.ev(note="[1,2,]")),
        ("trailing comma in an undeclared object", c.ev(note='{"a":1,}')),
        ("single-quoted keys and strings", full.replace('"', "'")),
        ("single-quoted value", c.ev(user="'ubad'")),
        ("unquoted keys", "{id:" + q(c.next_id()) + ",ts:" + ts + "}"),
        ("NaN token", c.ev(amount="NaN")),
        ("Infinity token", c.ev(amount="Infinity")),
        ("-Infinity token", c.ev(amount="-Infinity")),
        ("nan lowercase", c.ev(amount="nan")),
        ("NaN as the event time", c.ev(ts="NaN")),
        ("NaN in an undeclared field", c.ev(note="NaN")),
        ("trailing garbage after the object", full + " x"),
        ("trailing comma after the object", full + ","),
        ("trailing bracket after the object", full + "]"),
        ("line comment after the object", full + " // note"),
        ("block comment before the object", "/* c */ " + full),
        ("two objects on a line", full + full),
        ("two objects separated by a space", full + " " + full),
        ("leading garbage", "x" + full),
        ("leading zero", c.ev(amount="01")),
        ("plus sign", c.ev(amount="+1")),
        ("bare fraction", c.ev(amount=".5")),
        ("trailing dot", c.ev(amount="1.")),
        ("hex number", c.ev(amount="0x10")),
        ("exponent without digits", c.ev(amount="1e")),
        ("double minus", c.ev(amount="--1")),
        ("digit separator", c.ev(amount="1_000")),
        ("misspelt literal tru", c.ev(flag="tru")),
        ("capitalised True", c.ev(flag="True")),
        ("NULL", c.ev(amount="NULL")),
        ("undefined", c.ev(amount="undefined")),
        ("invalid escape \\x", c.ev(user='"a\\x41"')),
        ("short unicode escape", c.ev(user='"a\\u12"')),
        ("invalid escape \\a", c.ev(user='"a\\a"')),
        ("unescaped quote ends the string early", '{"id":"x,"ts":' + ts + "}"),
        ("missing colon", '{"id" "x","ts":' + ts + "}"),
        ("missing comma", '{"id":"x" "ts":' + ts + "}"),
        ("double colon", '{"id"::"x","ts":' + ts + "}"),
        ("raw TAB inside a string", c.ev(user='"a\tb"')),
        ("raw U+0001 inside a string", c.ev(user='"a\x01b"')),
        ("raw U+001F inside a string", c.ev(user='"a\x1fb"')),
    ]
    for case, body in cases:
        c.bad(case, body, "parse_error")
    for case, body in [("whitespace-only line (spaces)", "   "), ("whitespace-only line (tab)", "\t"),
                       ("whitespace-only line (form feed, not JSON whitespace)", "\x0c"),
                       ("BOM-only line in the middle", BOM)]:
        c.bad(case, body, "parse_error")
    c.bad("JSON string, not an object", '"just a string"', "schema")


def add_not_objects_and_time(c):
    ts = str(c.t)
    for case, body in [("array", "[1,2]"), ("empty array", "[]"), ("number", "42"), ("null", "null"),
                       ("true", "true"), ("array holding an event", "[" + c.ev() + "]")]:
        c.bad(f"not an object: {case}", body, "schema")
    for case, body in [("empty object", "{}"), ("no event time", c.ev(ts=None)),
                       ("null event time", c.ev(ts="null")),
                       ("event time under another case", obj(("id", q("x")), ("TS", ts))),
                       ("event-time key with a trailing space", obj(("id", q("x")), ("ts ", ts))),
                       ("null time and a wrong type: schema either way", c.ev(ts="null", amount='"x"'))]:
        c.bad(f"missing time: {case}", body, "schema")
    bad_times = [
        ("negative", "-1"), ("negative ms epoch", "-1700000000000"), ("1e30", "1e30"), ("-1e30", "-1e30"),
        ("1e308", "1e308"),
        ("exactly 2200-01-01 (excluded)", "7258118400000"), ("string for a numeric unit", '"1700000000000"'),
        ("empty string", '""'), ("ISO string in an ms spec", '"2023-11-14T22:13:20Z"'), ("true", "true"),
        ("false", "false"), ("object", "{}"), ("array", "[]"), ("array of a number", "[1700000000000]"),
        ("wrong-typed field too: bad_time comes first", None),
    ]
    for case, ts_v in bad_times:
        body = c.ev(ts=ts_v) if ts_v is not None else c.ev(ts="-5", amount='"x"', qty="1.5")
        c.bad(f"bad time: {case}", body, "bad_time")
    # docs/semantics.md "Decoding": an integer literal outside int64/uint64 is a parse_error wherever it is.
    c.bad("integer literal beyond uint64 as the event time", c.ev(ts="99999999999999999999"), "parse_error")


def add_wrong_types(c):
    cases = [
        ("string for double", dict(amount='"1.5"')), ("bool for double", dict(amount="true")),
        ("object for double", dict(amount='{"v":1}')), ("array for double", dict(amount="[1.5]")),
        ("float for int", dict(qty="2.5")), ("2.0 for int", dict(qty="2.0")), ("1e2 for int", dict(qty="1e2")),
        ("string for int", dict(qty='"2"')), ("int above int64", dict(qty="9223372036854775808")),
        ("uint64 max for int", dict(qty="18446744073709551615")),
        ("bool for int", dict(qty="true")),
        ("number for string", dict(user="123")), ("float for string", dict(user="1.5")),
        ("object for string", dict(user='{"a":"b"}')), ("array for string", dict(user='["u1"]')),
        ("bool for string", dict(user="true")), ("number for the event id", dict(id="7")),
        ("bool as a string", dict(flag='"true"')), ("bool as 1", dict(flag="1")), ("bool as 0", dict(flag="0")),
    ]
    for case, over in cases:
        c.bad(f"wrong type: {case}", c.ev(**over), "schema")
    c.bad("integer literal below int64 (docs: parse_error)", c.ev(qty="-9223372036854775809"), "parse_error")
    ts = str(c.t)
    dups = [
        ("amount twice", [("amount", "1"), ("amount", "2")]),
        ("user twice, same value", [("user", q("ubad")), ("user", q("ubad"))]),
        ("event time twice", [("ts", ts)]),
        ("id twice", [("id", q("dup"))]),
        ("flag twice, different values", [("flag", "true"), ("flag", "false")]),
    ]
    for case, extra in dups:
        pairs = c.ok_pairs()
        keys = {k for k, _ in extra}
        pairs = [p for p in pairs if p[0] not in keys or p[0] in ("ts", "id")] + extra
        c.bad(f"duplicate field: {case}", obj(*pairs), "schema")


def add_bytes(c):
    rng = random.Random(20240611)
    ev = c.ev().encode()
    ts = str(c.t).encode()
    for i in range(3):
        junk = bytes(rng.choice([b for b in range(256) if b != 0x0A]) for _ in range(40 + 30 * i))
        c.bad(f"binary junk #{i + 1}", junk, "parse_error")
    c.bad("NUL bytes only", b"\x00\x00\x00", "parse_error")
    c.bad("NUL byte after the object", ev + b"\x00", "parse_error")
    c.bad("NUL byte inside a string", b'{"id":"a\x00b","ts":' + ts + b"}", "parse_error")
    c.bad("NUL byte between members", b'{"id":"a",\x00"ts":' + ts + b"}", "parse_error")
    invalid = [
        ("0xFF in a declared string", b'{"id":"a\xffb","ts":' + ts + b"}"),
        ("0xFF in an undeclared string", b'{"note":"\xff","ts":' + ts + b"}"),
        ("invalid UTF-8 in a key", b'{"\xfe":1,"ts":' + ts + b"}"),
        ("overlong encoding of /", b'{"user":"\xc0\xaf","ts":' + ts + b"}"),
        ("UTF-8-encoded surrogate", b'{"user":"\xed\xa0\x80","ts":' + ts + b"}"),
        ("truncated 3-byte sequence", b'{"user":"\xe2\x82","ts":' + ts + b"}"),
        ("code point above U+10FFFF", b'{"user":"\xf5\x80\x80\x80","ts":' + ts + b"}"),
        ("lone continuation byte", b'{"user":"\x80","ts":' + ts + b"}"),
        ("invalid UTF-8 after the object", ev + b" \xff"),
        ("invalid UTF-8 and no event time: parse_error first", b'{"user":"\xff"}'),
        ("truncated sequence at the end of the line", ev[:-1] + b"\xe2"),
    ]
    for case, body in invalid:
        c.bad(f"invalid UTF-8: {case}", body, "parse_error")
    c.bad("UTF-8 BOM in the middle of the file", BOM + ev, "parse_error")
    c.bad("lone surrogate escape in a declared string (not representable as UTF-8)",
          c.ev(user='"a\\ud800b"'), "parse_error", also_ok=("schema",))


def add_nesting_and_numbers(c):
    deep = lambda n: "[" * n + "]" * n  # noqa: E731
    c.valid("64-deep nesting in an undeclared field", extra=[("note", deep(64))])
    c.valid("5000-deep nesting in an undeclared field (valid JSON; parsers may cap depth, RFC 8259 s9)",
            extra=[("note", deep(5000))], also_ok=("parse_error",))
    c.bad("100000 unclosed brackets in an undeclared field", c.ev(note="[" * 100000), "parse_error")
    c.bad("100000-deep nesting as a declared double", c.ev(amount=deep(100000)), "schema",
          also_ok=("parse_error",))
    c.bad("deep objects as the event time", c.ev(ts='{"a":' * 3000 + "1" + "}" * 3000), "bad_time",
          also_ok=("parse_error",))
    def overflow(case, text):
        # Valid JSON, not a finite double: semantics.md does not say. If applied, its key's sum is
        # not checked (amount "*"), and its own key keeps the other keys' sums checkable.
        id_ = c.next_id()
        c.put(obj(("id", q(id_)), ("ts", str(c.t)), ("user", q("ovf" + id_)), ("amount", text)), "schema", case,
              also_ok=("parse_error", "applied"), id=id_, ts=str(c.t), user="ovf" + id_, amount="*")
        c.sentinel()

    # Extreme but valid doubles each on their own key, so each key's sum is the value itself.
    extremes = [("1e308", 1e308), ("-1e308", -1e308), ("5e-324", 5e-324), ("-0", -0.0), ("1E-400", 0.0),
                ("0." + "0" * 300 + "1", 1e-301), ("1" + "0" * 400, None)]
    for i, (text, value) in enumerate(extremes):
        case = f"extreme double {text[:40]}"
        if value is None:  # 1e400 as digits: a valid JSON number that is not a finite double.
            overflow(case + " (overflows a double)", text)
            continue
        id_ = c.next_id()
        t = c.tick()
        c.put(obj(("id", q(id_)), ("ts", str(t)), ("user", q(f"x{i}")), ("amount", text)), "applied", case,
              id=id_, ts=str(t), user=f"x{i}", amount=value)
    overflow("1e309 overflows a double", "1e309")
    c.bad("30-digit integer literal in a double field (docs: parse_error)",
          c.ev(amount="123456789012345678901234567890"), "parse_error")
    c.valid("huge number in an undeclared field", extra=[("note", "1e999999")], also_ok=("parse_error",))


def add_admission(c):
    def admit(case, expect, user, ts):
        # Well-formed events: if one is wrongly applied the checker still knows its row and key.
        id_ = c.next_id()
        c.put(obj(("id", q(id_)), ("ts", str(ts)), ("user", "null" if user is None else q(user)), ("amount", "1")),
              expect, case, id=id_, ts=str(ts), user=user, amount=1)
        c.sentinel()

    c.sentinel()  # u1's newest is now certainly c.t, whatever the line before did
    admit("late: 1 ms older than u1's newest", "late", "u1", c.t - 1)
    admit("expired: 91 days older (checked before late)", "expired", "u1", c.t - 91 * DAY_MS)
    admit("expired: null key, 91 days older", "expired", None, c.t - 91 * DAY_MS)
    admit("expired: time 0 is valid but older than the stream time - state_ttl", "expired", "ubad", 0)
    t = c.t - 1
    id_ = c.next_id()
    c.put(obj(("id", q(id_)), ("ts", str(t)), ("amount", "4")), "applied",
          "1 ms older but without a key: not late", id=id_, ts=str(t), user=None, amount=4)
    c.valid("second key", user="u2")
    admit("late for key u2", "late", "u2", c.t - 1)


def add_oversize(c):
    # Default source.max_record_bytes: 1 MiB. "longer than" -> exactly 1 MiB is allowed.
    def padded(total, id_, t, user="u1", pad_key="note"):
        head = obj(("id", q(id_)), ("ts", str(t)), ("user", q(user)), ("amount", "1"), (pad_key, q("")))
        fill = total - len(head.encode())
        return head[:-2] + "x" * fill + head[-2:]
    id_ = c.next_id()
    t = c.tick()
    c.put(padded(MIB, id_, t), "applied", "exactly max_record_bytes (1 MiB) long", id=id_, ts=str(t), user="u1",
          amount=1)
    id_ = c.next_id()
    t = c.tick()
    c.put(padded(MIB, id_, t), "applied", "exactly 1 MiB plus the CR of a CRLF ending", end=b"\r\n", id=id_,
          ts=str(t), user="u1", amount=1)
    c.bad("1 MiB + 1 byte", padded(MIB + 1, "big", c.t, user="ubad"), "oversize")
    c.bad("1 MiB string in the declared id", obj(("id", q("y" * MIB)), ("ts", str(c.t))), "oversize")
    c.bad("oversize and not JSON: oversize first", "{" * (MIB + 10), "oversize")
    c.bad("oversize and invalid UTF-8 (record_base64)", b"\xff" * (MIB + 3), "oversize")
    c.bad("a 5 MiB line", padded(5 * MIB, "huge", c.t, user="ubad"), "oversize")


def build_jsonl_iso():
    c = JsonlCorpus()
    base = 1_700_000_000  # seconds; 2023-11-14T22:13:20Z
    import datetime as dt
    utc = dt.timezone.utc

    def iso(sec):
        return dt.datetime.fromtimestamp(sec, utc).strftime("%Y-%m-%dT%H:%M:%S")

    step = [0]

    def valid(case, fmt, end=b"\n"):
        step[0] += 60
        text, cell = fmt(base + step[0])
        id_ = c.next_id()
        return c.put(obj(("id", q(id_)), ("ts", q(text)), ("user", q("u1")), ("amount", "1")), "applied", case,
                     end=end, id=id_, ts=cell, user="u1", amount=1)

    def sentinel():
        valid("sentinel", lambda s: (iso(s) + "Z", iso(s) + "Z"))

    def bad(case, ts_raw, expect="bad_time", **over):
        c.put(obj(("id", q(c.next_id())), ("ts", ts_raw), ("user", q("ubad")), *over.items()), expect, case)
        sentinel()

    valid("Z zone", lambda s: (iso(s) + "Z", iso(s) + "Z"))
    valid("space instead of T", lambda s: (iso(s).replace("T", " ") + "Z", iso(s) + "Z"))
    valid("no zone means UTC", lambda s: (iso(s), iso(s) + "Z"))
    valid("+02:00 offset", lambda s: (iso(s + 7200) + "+02:00", iso(s) + "Z"))
    valid("-05:30 offset", lambda s: (iso(s - 19800) + "-05:30", iso(s) + "Z"))
    valid("fraction .5", lambda s: (iso(s) + ".5Z", iso(s) + ".5Z"))
    valid("fraction of 6 digits", lambda s: (iso(s) + ".123456Z", iso(s) + ".123456Z"))
    valid("fraction of 9 digits (rounded or truncated to the microsecond)",
          lambda s: (iso(s) + ".123456789Z", [iso(s) + ".123457Z", iso(s) + ".123456Z"]))
    valid("fraction .000000 prints without a fraction", lambda s: (iso(s) + ".000000Z", iso(s) + "Z"))
    valid("CRLF ending", lambda s: (iso(s) + "Z", iso(s) + "Z"), end=b"\r\n")
    now = iso(base + step[0])
    for case, raw in [
        ("year 3000", q("3000-01-01T00:00:00Z")), ("2200-01-01 (excluded)", q("2200-01-01T00:00:00Z")),
        ("1969-12-31T23:59:59Z (before the epoch)", q("1969-12-31T23:59:59Z")),
        ("the epoch minus a minute via +00:01", q("1970-01-01T00:00:00+00:01")),
        ("February 30", q("2023-02-30T00:00:00Z")), ("month 13", q("2023-13-01T00:00:00Z")),
        ("hour 25", q("2023-11-14T25:00:00Z")), ("minute 60", q("2023-11-14T22:60:00Z")),
        ("date only", q("2023-11-14")), ("time only", q("22:13:20")), ("empty fraction", q(now + ".Z")),
        ("10 fraction digits", q(now + ".1234567890Z")), ("offset without a colon", q(now + "+0200")),
        ("trailing garbage", q(now + "ZZ")), ("not padded", q("2023-1-4T2:3:4Z")), ("a word", q("yesterday")),
        ("empty string", q("")), ("year 0000", q("0000-01-01T00:00:00Z")),
        ("negative year", q("-2023-11-14T00:00:00Z")),
        ("epoch seconds as a number", "1700000000"), ("number with exponent", "1.7e9"), ("bool", "true"),
        ("object", "{}"), ("year 3000 with a wrong-typed amount: bad_time first", q("3000-01-01T00:00:00Z")),
    ]:
        over = {"amount": '"x"'} if "wrong-typed" in case else {}
        bad(f"bad time: {case}", raw, **over)
    bad("null time", "null", expect="schema")
    c.put(obj(("id", q("noiso")), ("user", q("ubad"))), "schema", "no time field")
    sentinel()
    c.put(obj(("id", q(c.next_id())), ("ts", q("1970-01-01T00:00:00Z")), ("user", q("u1"))), "expired",
          "the epoch: valid but expired")
    sentinel()
    c.put(obj(("id", q(c.next_id())), ("ts", q(iso(base + step[0] - 1) + "Z")), ("user", q("u1"))), "late",
          "one second older than u1's newest")
    sentinel()
    id_ = c.next_id()
    c.put(obj(("id", q(id_)), ("ts", q("2199-12-31T23:59:59.999999Z")), ("user", q("u_last"))), "applied",
          "the last valid microsecond (own key: u1 would start afresh after state_ttl)", end=b"", id=id_,
          ts="2199-12-31T23:59:59.999999Z", user="u_last", amount=None)
    return c


class CsvCorpus(Corpus):
    HEADER = "id,ts,user,amount,qty,flag,note"

    def __init__(self):
        super().__init__()
        self.t = MS0

    def row(self, id_="", ts="", user="ubad", amount="1.5", qty="1", flag="true", note="n"):
        return ",".join([id_, ts, user, amount, qty, flag, note])

    def valid(self, case, user="u1", amount="1.25", amount_value=1.25, id_=None, id_cell=None, ts_text=None,
              ts_cell=None, end=b"\n", body=None, **cells):
        id_ = self.next_id() if id_ is None else id_
        self.t += 1000
        ts_text = str(self.t) if ts_text is None else ts_text
        if body is None:
            body = self.row(id_=id_, ts=ts_text, user=user, amount=amount, **cells)
        return self.put(body, "applied", case, end=end, id=id_ if id_cell is None else id_cell,
                        ts=ts_cell or str(self.t), user=user or None, amount=amount_value)

    def sentinel(self):
        self.valid("sentinel: a valid row right after a bad one")

    def bad(self, case, body, expect, end=b"\n", also_ok=()):
        self.put(body, expect, case, end=end, also_ok=also_ok)
        self.sentinel()

    def ev(self, **over):
        cells = dict(id_=self.next_id(), ts=str(self.t))
        cells.update(over)
        return self.row(**cells)


def build_csv_ms():
    c = CsvCorpus()
    c.data += BOM + CsvCorpus.HEADER.encode() + b"\n"  # the header is not a record
    c.line = 2
    c.valid("plain row")
    c.blank("empty line")
    c.valid("CRLF row", end=b"\r\n")
    c.blank("CR-only line", b"\r\n")
    id_ = c.next_id()
    c.t += 1000
    c.put(",".join(f'"{v}"' for v in [id_, c.t, "u1", "2.5", "3", "false", "x"]), "applied", "every cell quoted",
          id=id_, ts=str(c.t), user="u1", amount=2.5)
    c.valid("quoted comma in an undeclared cell", note='"a,b"')
    c.valid("doubled quotes in a quoted cell", note='"say ""hi"""')
    c.valid("quoted newline in an undeclared cell (record spans 2 lines)", note='"line1\nline2"')
    c.valid("quoted CRLF in an undeclared cell", note='"a\r\nb"')
    id_ = c.next_id()
    c.valid("quoted newline and quote in the id", id_=f'"{id_}\nsecond ""line"""', id_cell=f'{id_}\nsecond "line"')
    c.valid("empty amount is null", amount="", amount_value=None)
    c.valid("empty user is a null key", user="")
    c.valid("empty qty, flag and note", qty="", flag="", note="")
    c.valid("empty id", id_="", id_cell="")
    t = c.t + 1000
    c.valid("time with a .5 fraction", ts_text=f"{t}.5", ts_cell=f"{t}.5")
    c.t += 1000
    c.valid("exponent amount", amount="1e3", amount_value=1000.0)
    c.valid("negative zero amount", amount="-0", amount_value=0.0)
    c.valid("non-ASCII UTF-8 in the user key", user="\u00fc\u20ac\U0001F600")
    c.valid("BOM in the middle is part of the id cell", id_="\ufeffmid", id_cell="\ufeffmid")
    for case, amount in [("nan", "nan"), ("NaN", "NaN"), ("inf", "inf"), ("-inf", "-inf"), ("Infinity", "Infinity")]:
        c.bad(f"{case} cell for a double (nan/inf are rejected)", c.ev(amount=amount), "schema")
    for case, ts in [("nan", "nan"), ("inf", "inf"), ("a word", "abc"), ("negative", "-1"), ("1e30", "1e30"),
                     ("ISO in an ms spec", "2023-11-14T22:13:20Z"), ("2200-01-01 exactly", "7258118400000")]:
        c.bad(f"bad time: {case}", c.ev(ts=ts), "bad_time")
    c.bad("empty time cell is a missing time", c.ev(ts=""), "schema")
    c.bad("bad time and a wrong-typed amount: bad_time first", c.ev(ts="-1", amount="abc"), "bad_time")
    for case, over in [("word for double", dict(amount="abc")), ("float for int", dict(qty="2.5")),
                       ("word for int", dict(qty="x")), ("int above int64", dict(qty="99999999999999999999")),
                       ("yes for bool", dict(flag="yes"))]:
        c.bad(f"wrong type: {case}", c.ev(**over), "schema")
    for case, body in [("too few columns", ",".join(c.ev().split(",")[:3])), ("too many columns", c.ev() + ",extra"),
                       ("one column", "hello"), ("whitespace-only line", "   "),
                       ("text after a closing quote", c.ev(note='"abc"def')),
                       ("stray quotes inside an unquoted cell", c.ev(user='ub"a"d')),
                       ("space after a closing quote", c.ev(note='"abc" ')),
                       ("quoted newline in a row with too few columns (spans 2 lines)", f'{c.next_id()},"a\nb"'),
                       ]:
        c.bad(f"malformed CSV: {case}", body, "parse_error")
    c.bad("invalid UTF-8 in an undeclared cell", c.ev().encode()[:-1] + b"\xff", "parse_error")
    c.bad("invalid UTF-8 in the user key", c.ev(user="u\xc3").encode("latin-1"), "parse_error")
    c.bad("invalid UTF-8 in the time cell: parse_error before bad_time",
          c.ev(ts="17\xff" + str(c.t)[2:]).encode("latin-1"), "parse_error")
    c.bad("invalid UTF-8 in a double cell: parse_error before schema", c.ev(amount="1\xff").encode("latin-1"),
          "parse_error")
    c.put(c.ev(user="u1", ts=str(c.t - 1)), "late", "late: 1 ms older than u1's newest")
    c.sentinel()
    c.bad("longer than max_record_bytes (4096)", c.ev(note="z" * 5000), "oversize")
    c.bad("oversize quoted cell spanning lines", c.ev(note='"' + ("q" * 100 + "\n") * 50 + '"'), "oversize")
    c.put(c.ev(note='"never closed') + "\n" + c.ev() + "\n" + c.ev(), "parse_error",
          "unterminated quote: the record runs to the end of the file", end=b"")
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="folder to write the corpora into")
    args = ap.parse_args()
    for name, build, ext in [("jsonl_ms", build_jsonl_ms, "jsonl"), ("jsonl_iso", build_jsonl_iso, "jsonl"),
                             ("csv_ms", build_csv_ms, "csv")]:
        c = build()
        c.write(os.path.join(args.out, name), f"events.{ext}")
        counts = {}
        for e in c.entries:
            counts[e["expect"]] = counts.get(e["expect"], 0) + 1
        print(f"{name}: {len(c.data)} bytes, {c.line} lines, " +
              ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
