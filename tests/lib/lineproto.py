"""lineproto.py - a strict parser of InfluxDB line protocol, as strict as
Telegraf's influx parser and InfluxDB 1.x /write are.  parse(line) returns
(measurement, tags, fields, timestamp) or raises ValueError with the reason.
Run it to self-test: python3 tests/lib/lineproto.py
"""
import re
import sys

_INT = re.compile(r"^-?\d+i$")
_FLOAT = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_BOOL = {"t": True, "T": True, "true": True, "True": True, "TRUE": True,
         "f": False, "F": False, "false": False, "False": False, "FALSE": False}


def _split_unescaped(s, sep, escapable, allow_quotes=False):
    """Split s on sep where sep is not backslash-escaped (and, for field
    sets, not inside a double-quoted string)."""
    parts, cur, i, in_q = [], [], 0, False
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and (s[i + 1] in escapable or (in_q and s[i + 1] in '"\\')):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if allow_quotes and c == '"':
            in_q = not in_q
        elif c == sep and not in_q:
            parts.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    if in_q:
        raise ValueError("unterminated string")
    parts.append("".join(cur))
    return parts


def _unescape(s, chars):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in chars:
            out.append(s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse(line):
    if "\r" in line or "\n" in line.rstrip("\n"):
        raise ValueError("CR or LF inside the line")
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        raise ValueError("empty line")
    sections = _split_unescaped(line, " ", ", =", allow_quotes=True)
    if len(sections) != 3:
        raise ValueError(f"expected 3 space-separated sections (series, fields, timestamp), got {len(sections)}")
    series, fieldset, ts = sections
    if not re.fullmatch(r"-?\d+", ts):
        raise ValueError(f"bad timestamp {ts!r}")
    series_parts = _split_unescaped(series, ",", ", =")
    measurement = _unescape(series_parts[0], ", ")
    if not measurement:
        raise ValueError("empty measurement")
    tags = {}
    for t in series_parts[1:]:
        kv = _split_unescaped(t, "=", ", =")
        if len(kv) != 2 or not kv[0] or not kv[1]:
            raise ValueError(f"bad tag {t!r} (empty key or value, or unescaped '=')")
        if kv[1].endswith("\\") and not kv[1].endswith("\\\\"):
            raise ValueError(f"tag value ends in a lone backslash: {t!r}")
        tags[_unescape(kv[0], ", =")] = _unescape(kv[1], ", =")
    fields = {}
    for f in _split_unescaped(fieldset, ",", ", =", allow_quotes=True):
        if "=" not in f:
            raise ValueError(f"bad field {f!r}")
        k, v = f.split("=", 1)
        if not k:
            raise ValueError("empty field key")
        k = _unescape(k, ", =")
        if v.startswith('"'):
            if len(v) < 2 or not v.endswith('"'):
                raise ValueError(f"bad string field {f!r}")
            body = v[1:-1]
            if re.search(r'(?<!\\)"', body.replace("\\\\", "")):
                raise ValueError(f"unescaped quote in {f!r}")
            fields[k] = _unescape(body, '"\\')
        elif _INT.match(v):
            fields[k] = int(v[:-1])
        elif v in _BOOL:
            fields[k] = _BOOL[v]
        elif _FLOAT.match(v):
            fields[k] = float(v)
        else:
            raise ValueError(f"bad field value {f!r} (NaN/inf or garbage)")
    if not fields:
        raise ValueError("no fields")
    return measurement, tags, fields, int(ts)


def _selftest():
    n = failed = 0
    good = [
        ('m,a=b x=1i 5', ("m", {"a": "b"}, {"x": 1}, 5)),
        ('m,a=b\\ c,d=e\\,f x=1.5,s="q\\"x\\\\" 7', ("m", {"a": "b c", "d": "e,f"}, {"x": 1.5, "s": 'q"x\\'}, 7)),
        ('m x="a b, c=d" 1', ("m", {}, {"x": "a b, c=d"}, 1)),
    ]
    bad = ['m,a= x=1i 1', 'm x=1i', 'm a b x=1i 1', 'm x=nan 1', 'm x="abc 1', 'm x=1i 1\r',
           'm,a=b\\ x=1i 1']
    for line, want in good:
        n += 1
        try:
            ok = parse(line) == want
        except ValueError as e:
            ok = False
        print(("ok" if ok else "not ok"), n, "- parses", line)
        failed += not ok
    for line in bad:
        n += 1
        try:
            parse(line)
            ok = False
        except ValueError:
            ok = True
        print(("ok" if ok else "not ok"), n, "- rejects", repr(line))
        failed += not ok
    print(f"{n - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_selftest())
