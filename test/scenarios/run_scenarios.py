#!/usr/bin/python3
"""Data-driven scenario tests for `sluice backfill` (see README.md in this folder).

Usage:
  run_scenarios.py --sluice BIN [--filter SUBSTR] [--keep DIR] [-v] [files...]
  run_scenarios.py --sluice BIN --self-check [files...]

Without files, every *.test file next to this script is run. Each scenario is run once as
written and once more with `--threads 3` (unless its `--- options` say `threads_check: no`);
the CSV of both runs must be byte-identical and the dead letters must be the same.
Standard library only.
"""
import argparse
import difflib
import glob
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Sections a scenario may have. Each starts with a line `--- NAME [FLAGS]`.
SECTIONS = {
    'spec',          # YAML, written verbatim to spec.yaml
    'events',        # raw lines, written to events.jsonl (flags: crlf, bom, no_final_newline;
                     # csv: the file is named events.csv, for specs with source.format: csv)
    'labels',        # raw lines, written to labels.jsonl and passed with --labels (same flags)
    'args',          # extra command-line arguments (shell words)
    'expect',        # CSV; numeric cells compared within 1e-9 relative; '#' lines are comments
    'expect_exact',  # CSV compared byte-for-byte ('#' lines are comments)
    'dead_letters',  # one "LINE REASON" or "labels:LINE REASON" per line; '#' lines are comments
    'expect_exit',   # the expected exit code (default 0)
    'expect_error',  # substrings that must all appear in the program's stderr+stdout
                     # (one per line; "A OR B" accepts either)
    'options',       # "key: value" lines: threads_check: yes|no, exact_columns: ts, id
}
RAW_FLAGS = {'crlf', 'bom', 'no_final_newline', 'csv'}
COMMENT_SECTIONS = {'expect', 'expect_exact', 'dead_letters', 'expect_error', 'options', 'args',
                    'expect_exit'}
REL_TOL = 1e-9
RUN_TIMEOUT = 120


class FormatError(Exception):
    pass


class Scenario:
    def __init__(self, path, text=None):
        self.path = path
        self.base = os.path.splitext(os.path.basename(path))[0]
        if text is None:
            with open(path, encoding='utf-8') as f:
                text = f.read()
        self.name = self.base
        self.why = []
        self.sections = {}   # name -> list of lines
        self.flags = {}      # name -> set of flags
        self._parse(text)

    def _parse(self, text):
        current = None
        lines = text.split('\n')
        if lines and lines[-1] == '':
            lines.pop()
        for n, line in enumerate(lines, 1):
            if line.startswith('--- '):
                words = line[4:].split()
                if not words or words[0] not in SECTIONS:
                    raise FormatError('%s:%d: unknown section %r (known: %s)'
                                      % (self.path, n, line, ', '.join(sorted(SECTIONS))))
                current = words[0]
                if current in self.sections:
                    raise FormatError('%s:%d: section %s given twice' % (self.path, n, current))
                flags = set(words[1:])
                if flags and (current not in ('events', 'labels') or not flags <= RAW_FLAGS):
                    raise FormatError('%s:%d: unknown flags %s for section %s'
                                      % (self.path, n, sorted(flags), current))
                self.sections[current] = []
                self.flags[current] = flags
                continue
            if current is None:
                if line.startswith('# name:'):
                    self.name = line[len('# name:'):].strip()
                elif line.startswith('#'):
                    self.why.append(line.lstrip('#').strip())
                elif line.strip():
                    raise FormatError('%s:%d: text before the first section: %r' % (self.path, n, line))
                continue
            self.sections[current].append(line)
        for name, body in self.sections.items():
            # Blank lines before the next section only separate sections.
            while body and body[-1].strip() == '':
                body.pop()
            if name in COMMENT_SECTIONS:
                self.sections[name] = [l for l in body if not l.lstrip().startswith('#')]
        if 'spec' not in self.sections:
            raise FormatError('%s: no --- spec section' % self.path)
        if 'expect' in self.sections and 'expect_exact' in self.sections:
            raise FormatError('%s: give --- expect or --- expect_exact, not both' % self.path)
        exit_code = self.expected_exit()
        if exit_code == 0 and 'expect' not in self.sections and 'expect_exact' not in self.sections:
            raise FormatError('%s: a scenario that succeeds needs --- expect or --- expect_exact'
                              % self.path)
        if exit_code != 0 and 'expect_error' not in self.sections:
            raise FormatError('%s: --- expect_exit without --- expect_error' % self.path)
        self.dead = self._parse_dead()
        self.options = {}
        for l in self.sections.get('options', []):
            if not l.strip():
                continue
            if ':' not in l:
                raise FormatError('%s: bad option line %r' % (self.path, l))
            k, v = l.split(':', 1)
            self.options[k.strip()] = v.strip()
        unknown = set(self.options) - {'threads_check', 'exact_columns'}
        if unknown:
            raise FormatError('%s: unknown options %s' % (self.path, sorted(unknown)))

    def id_and_time_columns(self):
        """The event-id and event-time field names, read from the spec text (flow or block
        style). Their columns have an exact format, so they are compared as text."""
        import re
        text = '\n'.join(self.sections['spec'])
        out = set()
        for pat in (r'^event_id:\s*["\']?([A-Za-z_][A-Za-z0-9_]*)',
                    r'^event_time:\s*\{[^}]*\bfield:\s*["\']?([A-Za-z_][A-Za-z0-9_]*)',
                    r'^event_time:\s*\n(?:[ \t]+.*\n)*?[ \t]+field:\s*["\']?([A-Za-z_][A-Za-z0-9_]*)'):
            m = re.search(pat, text + '\n', re.M)
            if m:
                out.add(m.group(1))
        return out

    def expected_exit(self):
        body = [l for l in self.sections.get('expect_exit', []) if l.strip()]
        if not body:
            return 0
        try:
            return int(body[0].strip())
        except ValueError:
            raise FormatError('%s: --- expect_exit needs an integer' % self.path)

    def _parse_dead(self):
        out = []
        for l in self.sections.get('dead_letters', []):
            if not l.strip():
                continue
            words = l.split()
            if len(words) != 2:
                raise FormatError('%s: dead letter line %r is not "LINE REASON"' % (self.path, l))
            where, reason = words
            f = 'events'
            if ':' in where:
                f, where = where.split(':', 1)
                if f not in ('events', 'labels'):
                    raise FormatError('%s: dead letter file must be events or labels: %r' % (self.path, l))
            try:
                line = int(where)
            except ValueError:
                raise FormatError('%s: dead letter line %r: bad line number' % (self.path, l))
            out.append((f, line, reason))
        return sorted(out)

    def file_name(self, name):
        return name + ('.csv' if 'csv' in self.flags.get(name, set()) else '.jsonl')

    def raw_file(self, name):
        """The bytes written for an events/labels section."""
        body = self.sections[name]
        flags = self.flags.get(name, set())
        nl = '\r\n' if 'crlf' in flags else '\n'
        text = nl.join(body)
        if body and 'no_final_newline' not in flags:
            text += nl
        data = text.encode('utf-8')
        if 'bom' in flags:
            data = b'\xef\xbb\xbf' + data
        return data


# ---------------------------------------------------------------------------------------------
# Comparison

def parse_num(s):
    try:
        v = float(s)
    except ValueError:
        return None
    if math.isnan(v) or math.isinf(v):
        return None
    return v


def cells_equal(actual, expected):
    if actual == expected:
        return True
    a, b = parse_num(actual), parse_num(expected)
    if a is None or b is None:
        return False
    return abs(a - b) <= REL_TOL * max(1.0, abs(b))


def split_csv_lines(text):
    import csv
    import io
    return [row for row in csv.reader(io.StringIO(text))]


def compare_csv(actual_text, expected_lines, exact, exact_columns=()):
    """Returns a list of problem strings (empty = match). Without `exact`, a cell matches when
    its text is equal or, unless its column is in `exact_columns`, both are numbers within
    1e-9 * max(1, |expected|)."""
    expected_text = '\n'.join(expected_lines) + ('\n' if expected_lines else '')
    if exact:
        if actual_text == expected_text:
            return []
        return ['CSV differs (byte-exact comparison):'] + unified(expected_text, actual_text)
    problems = []
    if not actual_text.endswith('\n') and actual_text:
        problems.append('CSV does not end with a newline')
    if '\r' in actual_text:
        problems.append('CSV contains a carriage return')
    act = split_csv_lines(actual_text)
    exp = split_csv_lines(expected_text)
    if not act:
        problems.append('CSV is empty (no header)')
    elif act[0] != exp[0]:
        problems.append('header: expected %s, got %s' % (','.join(exp[0]), ','.join(act[0])))
    else:
        header = exp[0]
        if len(act) != len(exp):
            problems.append('expected %d data rows, got %d' % (len(exp) - 1, len(act) - 1))
        for i in range(1, min(len(act), len(exp))):
            ra, re_ = act[i], exp[i]
            if len(ra) != len(re_):
                problems.append('row %d: expected %d cells, got %d' % (i, len(re_), len(ra)))
                continue
            for j, (ca, ce) in enumerate(zip(ra, re_)):
                if ca != ce and (header[j] in exact_columns or not cells_equal(ca, ce)):
                    problems.append('row %d (%s=%s) column %s: expected %s, got %s'
                                    % (i, header[0], re_[0], header[j],
                                       repr(ce) if ce else 'null (empty)',
                                       repr(ca) if ca else 'null (empty)'))
    if problems:
        problems.append('diff (expected -> actual):')
        problems.extend(unified(expected_text, actual_text))
    return problems


def unified(expected, actual):
    return ['  ' + l.rstrip('\n') for l in difflib.unified_diff(
        expected.splitlines(True), actual.splitlines(True), 'expected', 'actual', n=2)]


def read_dead_letters(path, raw_lines):
    """Returns (sorted list of (file, line, reason), problems)."""
    problems = []
    out = []
    if not os.path.exists(path):
        return out, problems
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except ValueError as e:
            problems.append('dead-letter line %d is not JSON (%s): %s' % (n, e, line))
            continue
        if not isinstance(d, dict):
            problems.append('dead-letter line %d is not an object: %s' % (n, line))
            continue
        for key in ('reason', 'detail', 'source', 'record'):
            if key not in d:
                problems.append('dead-letter line %d lacks %r: %s' % (n, key, line))
        src = str(d.get('source', ''))
        fname, _, ln = src.rpartition(':')
        base = os.path.basename(fname)
        kind = {'events.jsonl': 'events', 'labels.jsonl': 'labels',
                'events.csv': 'events', 'labels.csv': 'labels'}.get(base)
        if kind is None or not ln.isdigit():
            problems.append('dead-letter line %d: source %r is not events.jsonl:N or labels.jsonl:N'
                            ' (or .csv)'
                            % (n, src))
            continue
        out.append((kind, int(ln), str(d.get('reason'))))
        raw = raw_lines.get(kind)
        if raw is not None and 'record' in d:
            idx = int(ln) - 1
            want = raw[idx] if 0 <= idx < len(raw) else None
            if want is not None and d['record'] != want:
                problems.append('dead letter %s: record %r is not the raw line %r'
                                % (src, d['record'], want))
    return sorted(out), problems


def raw_lines_of(data):
    text = data.decode('utf-8', errors='replace')
    if text.startswith('\ufeff'):
        text = text[1:]
    return [l[:-1] if l.endswith('\r') else l for l in text.split('\n')]


def fmt_dead(items):
    return ['%s%d %s' % ('' if f == 'events' else 'labels:', ln, r) for f, ln, r in items]


# ---------------------------------------------------------------------------------------------
# Running

def with_threads(args, n):
    out = []
    skip = False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        if a == '--threads':
            skip = True
            continue
        if a.startswith('--threads='):
            continue
        out.append(a)
    return out + ['--threads', str(n)]


def run_once(sc, sluice, workdir, extra_args):
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, 'spec.yaml'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(sc.sections['spec']) + '\n')
    files = {}
    for kind in ('events', 'labels'):
        if kind in sc.sections:
            data = sc.raw_file(kind)
            files[kind] = data
            with open(os.path.join(workdir, sc.file_name(kind)), 'wb') as f:
                f.write(data)
    if 'events' not in files:
        open(os.path.join(workdir, 'events.jsonl'), 'wb').close()
    for name in ('out.csv', 'dead.jsonl'):
        p = os.path.join(workdir, name)
        if os.path.exists(p):
            os.remove(p)
    cmd = [sluice, 'backfill', 'spec.yaml', '--input', sc.file_name('events'), '--output', 'out.csv',
           '--dead-letter', 'dead.jsonl', '--quiet']
    if 'labels' in files:
        cmd += ['--labels', sc.file_name('labels')]
    cmd += extra_args
    try:
        p = subprocess.run(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {'cmd': cmd, 'rc': None, 'out': '', 'csv': None, 'dead_path': None, 'files': files}
    csv_path = os.path.join(workdir, 'out.csv')
    csv_bytes = None
    if os.path.exists(csv_path):
        with open(csv_path, 'rb') as f:
            csv_bytes = f.read()
    return {'cmd': cmd, 'rc': p.returncode,
            'out': p.stderr.decode('utf-8', 'replace') + p.stdout.decode('utf-8', 'replace'),
            'csv': csv_bytes, 'dead_path': os.path.join(workdir, 'dead.jsonl'), 'files': files}


def check_run(sc, r):
    problems = []
    want_rc = sc.expected_exit()
    shown = ' '.join(shlex.quote(c) for c in r['cmd'])
    if r['rc'] is None:
        return ['timed out after %ds: %s' % (RUN_TIMEOUT, shown)]
    if r['rc'] != want_rc:
        problems.append('exit code %d, expected %d (%s)' % (r['rc'], want_rc, shown))
        if r['out'].strip():
            problems.append('output: ' + r['out'].strip())
        return problems
    if want_rc != 0:
        for s in sc.sections.get('expect_error', []):
            alternatives = [a.strip() for a in s.split(' OR ') if a.strip()]
            if alternatives and not any(a in r['out'] for a in alternatives):
                problems.append('error message lacks %s; got: %s'
                                % (' or '.join(repr(a) for a in alternatives), r['out'].strip()))
        return problems
    if r['csv'] is None:
        return ['no CSV written (%s)' % shown]
    try:
        text = r['csv'].decode('utf-8')
    except UnicodeDecodeError:
        return ['CSV is not UTF-8']
    exact = 'expect_exact' in sc.sections
    exact_columns = {c.strip() for c in sc.options.get('exact_columns', '').split(',') if c.strip()}
    exact_columns |= sc.id_and_time_columns()
    problems += compare_csv(text, sc.sections['expect_exact' if exact else 'expect'], exact,
                            exact_columns)
    raw = {k: raw_lines_of(v) for k, v in r['files'].items()}
    dead, dp = read_dead_letters(r['dead_path'], raw)
    problems += dp
    if dead != sc.dead:
        problems.append('dead letters differ (expected -> actual):')
        problems += unified('\n'.join(fmt_dead(sc.dead)) + '\n', '\n'.join(fmt_dead(dead)) + '\n')
    return problems


def dead_set(r):
    if r.get('dead_path') and os.path.exists(r['dead_path']):
        d, _ = read_dead_letters(r['dead_path'], {})
        return d
    return []


def run_scenario(sc, sluice, workroot):
    """Returns a list of problems; empty means PASS."""
    base_args = []
    for l in sc.sections.get('args', []):
        base_args += shlex.split(l)
    problems = []
    r1 = run_once(sc, sluice, os.path.join(workroot, 'run1'), base_args)
    p1 = check_run(sc, r1)
    problems += p1
    if sc.options.get('threads_check', 'yes') not in ('no', 'off', 'false'):
        args3 = with_threads(base_args, 3)
        if args3 != base_args:
            r3 = run_once(sc, sluice, os.path.join(workroot, 'run3'), args3)
            if r3['rc'] != r1['rc']:
                problems.append('with --threads 3: exit code %s, first run %s' % (r3['rc'], r1['rc']))
            elif r1['rc'] == 0:
                if r3['csv'] != r1['csv']:
                    problems.append('with --threads 3 the CSV is not byte-identical:')
                    problems += unified((r1['csv'] or b'').decode('utf-8', 'replace'),
                                        (r3['csv'] or b'').decode('utf-8', 'replace'))
                if dead_set(r3) != dead_set(r1):
                    problems.append('with --threads 3 the dead letters differ:')
                    problems += unified('\n'.join(fmt_dead(dead_set(r1))) + '\n',
                                        '\n'.join(fmt_dead(dead_set(r3))) + '\n')
    return problems


def discover(files, filt):
    if not files:
        files = sorted(glob.glob(os.path.join(HERE, '*.test')))
    if filt:
        files = [f for f in files if filt in os.path.basename(f)]
    return files


def run_files(files, sluice, keep, verbose):
    failures = 0
    for path in files:
        try:
            sc = Scenario(path)
        except (FormatError, OSError, UnicodeDecodeError) as e:
            print('FAIL %s\n  bad scenario file: %s' % (os.path.basename(path), e))
            failures += 1
            continue
        workroot = tempfile.mkdtemp(prefix='sluice-scn-' + sc.base + '-', dir=keep)
        try:
            problems = run_scenario(sc, sluice, workroot)
        finally:
            if not keep:
                shutil.rmtree(workroot, ignore_errors=True)
        if problems:
            failures += 1
            print('FAIL %s  (%s)' % (os.path.basename(path), sc.name))
            for p in problems:
                print('  ' + p)
            if keep:
                print('  files kept in ' + workroot)
        else:
            print('PASS %s' % os.path.basename(path) + ('  (%s)' % sc.name if verbose else ''))
    print('%d scenario(s), %d passed, %d failed' % (len(files), len(files) - failures, failures))
    return failures


# ---------------------------------------------------------------------------------------------
# Self-check: the runner must be able to fail.

def mutate_number(lines):
    """Changes the first numeric data cell (not in the header) of a CSV; returns new lines."""
    import csv
    import io
    for i in range(1, len(lines)):
        row = next(csv.reader(io.StringIO(lines[i])), [])
        for j in range(len(row) - 1, 0, -1):
            v = parse_num(row[j])
            if v is not None:
                row[j] = repr(v + 1.0 + abs(v) * 1e-3)
                out = list(lines)
                buf = io.StringIO()
                csv.writer(buf, lineterminator='').writerow(row)
                out[i] = buf.getvalue()
                return out, 'row %d column %d: %s -> %s' % (i, j, lines[i], out[i])
    return None, None


def self_check(files, sluice):
    ok = True
    # 1. The comparator itself.
    checks = [
        (cells_equal('1', '1'), True), (cells_equal('3', '3.0'), True),
        (cells_equal('1.0000000000001', '1'), True), (cells_equal('1.000001', '1'), False),
        (cells_equal('', '0'), False), (cells_equal('0', ''), False),
        (cells_equal('1e12', '1000000000000.5'), True), (cells_equal('1e12', '1000000002000'), False),
        (cells_equal('a', 'b'), False),
        (compare_csv('a,b\n1,2\n', ['a,b', '1,2'], False) == [], True),
        (compare_csv('a,b\n1,2\n', ['a,b', '1,3'], False) != [], True),
        (compare_csv('a,b\n1,2\n', ['a,b', '1,2', '2,2'], False) != [], True),
        (compare_csv('a,b\n1,2.0\n', ['a,b', '1,2'], True) != [], True),
        (compare_csv('a,b\n1.0,2.0\n', ['a,b', '1,2'], False, {'a'}) != [], True),
        (compare_csv('a,b\n1,2.0\n', ['a,b', '1,2'], False, {'a'}) == [], True),
    ]
    for n, (got, want) in enumerate(checks):
        if got != want:
            print('SELF-CHECK FAIL: comparator check %d gave %r' % (n, got))
            ok = False
    # 2. Find a scenario that passes, mutate it in memory, and confirm the runner reports it.
    base = None
    for path in files:
        try:
            sc = Scenario(path)
        except FormatError:
            continue
        if 'expect' not in sc.sections or not sc.dead:
            continue
        if mutate_number(sc.sections['expect'])[0] is None:
            continue
        work = tempfile.mkdtemp(prefix='sluice-selfcheck-')
        try:
            if not run_scenario(sc, sluice, work):
                base = path
                break
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if base is None:
        print('SELF-CHECK FAIL: no passing scenario with a numeric expectation and a dead letter to mutate')
        return False
    print('self-check: mutating %s' % os.path.basename(base))
    mutations = []
    sc = Scenario(base)
    new, what = mutate_number(sc.sections['expect'])
    sc.sections['expect'] = new
    mutations.append(('expected value ' + what, sc))
    sc = Scenario(base)
    sc.sections['expect'] = sc.sections['expect'][:-1]
    mutations.append(('last expected row dropped', sc))
    sc = Scenario(base)
    f, ln, reason = sc.dead[0]
    sc.dead = sorted([(f, ln, reason + '_x')] + sc.dead[1:])
    mutations.append(('dead-letter reason %s -> %s_x' % (reason, reason), sc))
    sc = Scenario(base)
    sc.dead = sc.dead[1:]
    mutations.append(('first dead letter dropped', sc))
    sc = Scenario(base)
    sc.sections['expect_exit'] = ['2']
    sc.sections['expect_error'] = ['x']
    mutations.append(('expected exit code 2', sc))
    # A binary whose output changes with --threads must be caught by the thread comparison.
    wrapdir = tempfile.mkdtemp(prefix='sluice-selfcheck-bin-')
    wrapper = os.path.join(wrapdir, 'sluice-threads-differ')
    with open(wrapper, 'w') as f:
        f.write('#!%s\nimport subprocess, sys\n'
                'rc = subprocess.call([%r] + sys.argv[1:])\n'
                'if "3" in sys.argv and sys.argv[sys.argv.index("3") - 1] == "--threads":\n'
                '    open("out.csv", "a").write("\\n")\n'
                'sys.exit(rc)\n' % (sys.executable, sluice))
    os.chmod(wrapper, 0o755)
    mutations.append(('a binary whose --threads 3 CSV differs', (Scenario(base), wrapper)))
    for what, sc in mutations:
        binary = sluice
        if isinstance(sc, tuple):
            sc, binary = sc
        work = tempfile.mkdtemp(prefix='sluice-selfcheck-')
        try:
            problems = run_scenario(sc, binary, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if problems:
            print('self-check: reported as FAIL, as it must be: %s\n    first problem: %s'
                  % (what, problems[0]))
        else:
            print('SELF-CHECK FAIL: the runner did not notice: %s' % what)
            ok = False
    shutil.rmtree(wrapdir, ignore_errors=True)
    print('self-check ' + ('passed' if ok else 'FAILED'))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sluice', required=True, help='the sluice binary')
    ap.add_argument('--filter', help='run only files whose name contains this')
    ap.add_argument('--keep', help='keep the work files of every run under this folder')
    ap.add_argument('--self-check', action='store_true',
                    help='mutate expectations in memory and confirm the runner reports them')
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('files', nargs='*')
    a = ap.parse_args()
    sluice = os.path.abspath(a.sluice)
    if not os.access(sluice, os.X_OK):
        print('not an executable: %s' % sluice)
        return 2
    files = [os.path.abspath(f) for f in discover(a.files, a.filter)]
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
    if not files:
        print('no scenario files')
        return 2
    if a.self_check:
        return 0 if self_check(files, sluice) else 1
    return 1 if run_files(files, sluice, a.keep, a.verbose) else 0


if __name__ == '__main__':
    sys.exit(main())
