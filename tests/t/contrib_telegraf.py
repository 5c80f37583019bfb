#!/usr/bin/env python3
# needs: mailstack
"""contrib/telegraf.d/mail-e2e.conf works as it is: it parses as TOML, has
only settings Telegraf's inputs.execd knows, a signal and a data format the
program supports, an interval longer than a route's default timeout, and a
command whose flags the program accepts.  Telegraf is not packaged for
Debian 12, so its command runs under tests/lib/telegraf_execd.py (execd's
contract: no shell, the signal each interval, strict line-protocol
parsing, stderr levels, stop by closing stdin) against the private Postfix
+ Dovecot, with the drop-in's signal and data format.  Every TOML block of
README.md parses, and any JSON variant there keeps probe, result and error
(Telegraf's JSON parser drops strings unless named)."""
import os
import re
import sys
import tomllib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, ROOT, stack, stack_route, config_text, write_config, run, binary, fatal  # noqa: E402
from telegraf_execd import Execd  # noqa: E402

path = os.path.join(ROOT, "contrib", "telegraf.d", "mail-e2e.conf")
try:
    conf = tomllib.load(open(path, "rb"))
except (OSError, tomllib.TOMLDecodeError) as e:
    fatal(f"contrib/telegraf.d/mail-e2e.conf does not parse as TOML: {e}")
execd = conf.get("inputs", {}).get("execd", [])
T.ok(list(conf) == ["inputs"] and list(conf["inputs"]) == ["execd"] and len(execd) == 1,
     "the drop-in holds one [[inputs.execd]] and nothing else", conf)
e = execd[0] if execd else {}
# inputs.execd's own settings, and those every Telegraf input has.
KNOWN = {"command", "environment", "signal", "restart_delay", "buffer_size", "stop_on_error", "data_format",
         "interval", "precision", "collection_jitter", "collection_offset", "name_override", "name_prefix",
         "name_suffix", "tags", "alias", "log_level", "namepass", "namedrop", "fieldinclude", "fieldexclude",
         "tagpass", "tagdrop", "taginclude", "tagexclude"}
T.eq(set(e) - KNOWN, set(), "every setting is one inputs.execd knows")


def secs(d):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", str(d))
    return int(m[1]) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m[2]] if m else None


T.ok(e.get("signal") in ("STDIN", "SIGHUP", "SIGUSR1", "SIGUSR2", "none"),
     f"signal {e.get('signal')!r} is one the program serves (SPEC §3)")
T.eq(e.get("data_format"), "influx", "data_format = influx, the program's default format")
T.ok((secs(e.get("interval")) or 0) > 60, f"interval {e.get('interval')} is longer than a route's default timeout (60s)")
T.ok(secs(e.get("restart_delay", "10s")) is not None, "restart_delay is a Telegraf duration")
cmd = e.get("command", [])
T.ok(isinstance(cmd, list) and cmd and all(isinstance(c, str) for c in cmd) and cmd[0].startswith("/")
     and os.path.basename(cmd[0]) == "mail-e2e", "command is a list: the program's absolute path, then its flags", cmd)
conf_arg = [cmd[i + 1] for i, c in enumerate(cmd[:-1]) if c in ("-c", "--config", "-config")]
T.ok(len(conf_arg) == 1 and conf_arg[0].startswith("/") and "telegraf.d" not in conf_arg[0],
     "the probe's configuration (it holds passwords) is outside telegraf.d", cmd)

# The drop-in's command, with this build and a real configuration in place
# of the installed paths.
env = stack()
cfg = write_config(config_text(stack_route(env, "dropin-a", user="carol"),
                               stack_route(env, "dropin-b", smtp="smtps", imap="tls", user="carol")))
args = [binary()] + [cfg if c in conf_arg else c for c in cmd[1:]]
r = run(args[1:] + ["--check-config"], what="the drop-in's flags with --check-config")
T.ok(r.rc == 0, "the program accepts the drop-in's flags", r)
rep = Execd(args, e.get("signal", "STDIN"), 2.0).run(3)
T.eq(len(rep.metrics), 6, "under the execd stand-in with the drop-in's signal: one metric per route per interval")
T.eq(rep.parse_errors, [], "zero line-protocol parse errors (data_format = influx)")
T.eq(rep.unprefixed, [], "zero unprefixed stderr lines")
T.ok(not rep.needed_sigterm and rep.exit_code == 0, "exits 0 when stdin closes, no SIGTERM",
     (rep.exit_code, rep.needed_sigterm))
T.ok(all(m[1].get("result") == "success" and m[0] == "mail_e2e" for m in rep.metrics),
     "measurement mail_e2e, every probe succeeded", [m[1] for m in rep.metrics])

# --- README's Telegraf snippets ------------------------------------------------------
readme = open(os.path.join(ROOT, "README.md")).read()
blocks = re.findall(r"```toml\n(.*?)```", readme, re.S)
T.ok(blocks, f"README.md has {len(blocks)} TOML blocks")
for i, b in enumerate(blocks, 1):
    try:
        t = tomllib.loads(b)
    except tomllib.TOMLDecodeError as err:
        T.ok(False, f"README TOML block {i} parses", f"{err}\n{b}")
        continue
    T.ok(True, f"README TOML block {i} parses")
    for x in t.get("inputs", {}).get("execd", []):
        T.ok(x.get("signal") in ("STDIN", "SIGHUP", "SIGUSR1", "SIGUSR2", "none"), f"README block {i}: a valid signal")
        if x.get("data_format") == "json":
            T.ok({"probe", "result"} <= set(x.get("tag_keys", [])) and "error" in x.get("json_string_fields", []),
                 f"README block {i}: JSON keeps probe and result (tag_keys) and error (json_string_fields)", x)
        else:
            T.eq(x.get("data_format"), "influx", f"README block {i}: data_format = influx")
T.done()
