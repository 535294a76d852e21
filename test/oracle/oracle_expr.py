"""The `expr` language of docs/semantics.md: a tokenizer, a recursive-descent parser
and a tree-walking evaluator with null (None) propagation.

Every node's result that is not a finite double becomes null ("(Sluice) any non-finite
result is null"), which is applied per operation, so `is_null(exp(1000))` is 1.
"""
import math
import re

from oracle_spec import SpecError

TOKEN_RE = re.compile(r"""
    \s*(?:
      (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>\|\||&&|==|!=|<=|>=|[<>+\-*/%!(),])
    )""", re.VERBOSE)

# Binary operators by precedence level, lowest first.
LEVELS = [["||"], ["&&"], ["==", "!="], ["<", "<=", ">", ">="], ["+", "-"], ["*", "/", "%"]]

EARTH_RADIUS_KM = 6371.0088

# name -> (min args, max args or None for variadic)
ARITY = {"if": (3, 3), "coalesce": (1, None), "is_null": (1, 1), "abs": (1, 1),
         "log": (1, 1), "log1p": (1, 1), "exp": (1, 1), "sqrt": (1, 1), "pow": (2, 2),
         "min": (1, None), "max": (1, None), "clamp": (3, 3), "hour": (1, 1),
         "dayofweek": (1, 1), "haversine": (4, 4)}


def tokenize(text):
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise SpecError(f"expression {text!r}: bad character at {pos}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class Parser:
    """Grammar: expr := level0; level_i := level_{i+1} (op_i level_{i+1})*;
    unary := ('-' | '!') unary | primary;
    primary := num | ident | ident '(' args ')' | '(' expr ')'.
    """

    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def parse(self):
        node = self.binary(0)
        if self.i != len(self.tokens):
            raise SpecError(f"expression {self.text!r}: trailing {self.tokens[self.i][1]!r}")
        return node

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            raise SpecError(f"expression {self.text!r}: expected {value or 'more'}")
        self.i += 1
        return tok

    def binary(self, level):
        if level == len(LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in LEVELS[level]:
            op = self.take()[1]
            node = ("bin", op, node, self.binary(level + 1))
        return node

    def unary(self):
        if self.peek() in (("op", "-"), ("op", "!")):
            op = self.take()[1]
            return ("un", op, self.unary())
        return self.primary()

    def primary(self):
        kind, value = self.take()
        if kind == "num":
            return ("num", float(value))
        if kind == "op" and value == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if kind != "ident":
            raise SpecError(f"expression {self.text!r}: unexpected {value!r}")
        if self.peek() != ("op", "("):
            return ("var", value)
        return self.call(value)

    def call(self, name):
        self.take("(")
        args = []
        if self.peek() != ("op", ")"):
            args.append(self.binary(0))
            while self.peek() == ("op", ","):
                self.take(",")
                args.append(self.binary(0))
        self.take(")")
        lo, hi = ARITY.get(name, (None, None))
        if lo is None or len(args) < lo or (hi is not None and len(args) > hi):
            raise SpecError(f"expression {self.text!r}: bad call {name}/{len(args)}")
        return ("call", name, args)


def parse_expr(text):
    return Parser(str(text)).parse()


def variables(node):
    """Names an expression reads (fields and features)."""
    if node[0] == "var":
        return {node[1]}
    if node[0] == "un":
        return variables(node[2])
    if node[0] == "bin":
        return variables(node[2]) | variables(node[3])
    if node[0] == "call":
        return set().union(*(variables(a) for a in node[2]))
    return set()


def finite_or_null(x):
    if x is None:
        return None
    return x if math.isfinite(x) else None


def truth(x):
    return 1.0 if x else 0.0


class Evaluator:
    """Evaluates parsed expressions. `lookup(name)` gives a float or None;
    `unit_us` is how many microseconds one event-time unit is (for hour/dayofweek)."""

    def __init__(self, lookup, unit_us):
        self.lookup = lookup
        self.unit_us = unit_us

    def eval(self, node):
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "var":
            return finite_or_null(self.lookup(node[1]))
        if kind == "un":
            return finite_or_null(self.unary(node[1], self.eval(node[2])))
        if kind == "bin":
            a, b = self.eval(node[2]), self.eval(node[3])
            if a is None or b is None:
                return None
            return finite_or_null(binary_op(node[1], a, b))
        return finite_or_null(self.call(node[1], node[2]))

    @staticmethod
    def unary(op, x):
        if x is None:
            return None
        return -x if op == "-" else truth(x == 0)

    def call(self, name, args):
        # The three functions that do not simply propagate null.
        if name == "if":
            cond = self.eval(args[0])
            if cond is None:
                return None
            return self.eval(args[1] if cond != 0 else args[2])
        if name == "coalesce":
            for arg in args:
                value = self.eval(arg)
                if value is not None:
                    return value
            return None
        if name == "is_null":
            return truth(self.eval(args[0]) is None)
        values = [self.eval(a) for a in args]
        if any(v is None for v in values):
            return None
        return self.math_function(name, values)

    def math_function(self, name, v):
        try:
            if name in ("abs", "log", "log1p", "exp", "sqrt"):
                return {"abs": abs, "log": math.log, "log1p": math.log1p,
                        "exp": math.exp, "sqrt": math.sqrt}[name](v[0])
            if name == "pow":
                return math.pow(v[0], v[1])
            if name == "min":
                return min(v)
            if name == "max":
                return max(v)
            if name == "clamp":
                return min(max(v[0], v[1]), v[2])
            if name == "hour":
                return float(self.seconds_of_day(v[0]) // 3600)
            if name == "dayofweek":
                days = math.floor(self.to_seconds(v[0]) / 86400)
                return float((days + 3) % 7)   # 1970-01-01 was a Thursday (= 3)
            if name == "haversine":
                return haversine(*v)
        except (ValueError, OverflowError, ZeroDivisionError):
            return None   # log(0), sqrt(-1), exp(1000), pow overflow: non-finite -> null
        raise SpecError(f"unknown function {name}")

    def to_seconds(self, t):
        # Divide by an exact power of ten so whole-unit times convert without rounding.
        return t / (1e6 / self.unit_us) if self.unit_us < 1e6 else t

    def seconds_of_day(self, t):
        return math.floor(self.to_seconds(t)) % 86400


def binary_op(op, a, b):
    if op in ("/", "%") and b == 0:
        return None
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    if op == "%":
        return math.fmod(a, b)   # C fmod: sign of the dividend
    if op == "&&":
        return truth(a != 0 and b != 0)
    if op == "||":
        return truth(a != 0 or b != 0)
    return truth({"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
                  ">": a > b, ">=": a >= b}[op])


def haversine(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
