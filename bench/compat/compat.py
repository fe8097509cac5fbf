"""Runs each case of cases.yaml through Chaos Toolkit and chaosdeck against the same loopback
target, then compares the journals (see compat.sh). Exit 1 on any difference not allowlisted.

Compared: exit code (chaosdeck with --ctk-exit-code), top-level `status` and `deviated`;
steady_states.before/after (`steady_state_met` and each probe entry); steady_states.during as
"how many iterations > 0" and "every iteration met" (its iteration count depends on timing); each
`run` and `rollbacks` entry: activity name, `status`, `tolerance_met`, `output`.
Normalised, nothing else: the HTTP `Date` response header in outputs. Timestamps, durations,
`chaoslib-version`, `platform`, `node`, `exception` texts and the `chaosdeck` key are not compared.
"""
import fnmatch
import json
import os
import subprocess
import sys
import time
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ABSENT = "<absent>"


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def norm_output(value):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "headers" and isinstance(v, dict):
                v = {h: ("<date>" if h.lower() == "date" else x) for h, x in v.items()}
            out[k] = norm_output(v) if k != "headers" else v
        return out
    if isinstance(value, list):
        return [norm_output(v) for v in value]
    return value


def entry_fields(prefix, entry):
    act = entry.get("activity") or {}
    yield f"{prefix}.name", act.get("name", act.get("ref", ABSENT))
    yield f"{prefix}.status", entry.get("status", ABSENT)
    yield f"{prefix}.tolerance_met", entry.get("tolerance_met", ABSENT)
    yield f"{prefix}.output", norm_output(entry.get("output", ABSENT))


def entries(prefix, items):
    items = items or []
    yield f"{prefix}.length", len(items)
    for i, e in enumerate(items):
        yield from entry_fields(f"{prefix}[{i}]", e)


def flatten(journal, exit_code):
    """The compared facts of one run, as (field, value) pairs."""
    yield "exit_code", exit_code
    if not journal:
        yield "journal", "<none written>" if journal is None else "<written>"
        return
    yield "status", journal.get("status")
    yield "deviated", journal.get("deviated")
    ss = journal.get("steady_states") or {}
    for phase in ("before", "after"):
        state = ss.get(phase)
        if state is None:
            yield f"steady_states.{phase}", None
            continue
        yield f"steady_states.{phase}.steady_state_met", state.get("steady_state_met")
        yield from entries(f"steady_states.{phase}.probes", state.get("probes"))
    during = ss.get("during") or []
    yield "steady_states.during.iterations>0", len(during) > 0
    yield "steady_states.during.all_met", all(s.get("steady_state_met") for s in during)
    yield from entries("run", journal.get("run"))
    yield from entries("rollbacks", journal.get("rollbacks"))


def compare(a, b):
    da, db = dict(a), dict(b)
    keys = list(da) + [k for k in db if k not in da]
    for k in keys:
        va, vb = da.get(k, ABSENT), db.get(k, ABSENT)
        if va != vb:
            yield k, va, vb


def reset(base):
    urllib.request.urlopen(base + "/reset", timeout=5).read()


def run(cmd, env, timeout=120):
    t = time.monotonic()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, time.monotonic() - t, p.stderr.decode("utf-8", "replace")


def read_journal(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def short(v, n=160):
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= n else s[: n - 1] + "…"


def main():
    chaos, chaosdeck, work, base = sys.argv[1:5]
    only = set(sys.argv[5:])
    readme = open(os.path.join(HERE, "..", "..", "README.md")).read()
    allowed = load_yaml(os.path.join(HERE, "allowed.yaml")) or []
    bad_allow = [a for a in allowed if a["readme_row"] not in readme or a["test"].split(",")[0].strip() not in readme]
    for a in bad_allow:
        print(f"allowed.yaml entry names a README row or test the README does not have: {a}")
    env = dict(os.environ)
    env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
    env["XDG_DATA_HOME"] = os.path.join(work, "data")
    cases = load_yaml(os.path.join(HERE, "cases.yaml"))
    unlisted = listed = 0
    for case in cases:
        name = case["name"]
        if only and name not in only:
            continue
        exp = os.path.join(HERE, "experiments", case["file"])
        args = [str(a) for a in case.get("args", [])]
        names_strategy = "--rollback-strategy" in args or "runtime" in (load_yaml(exp) or {})
        cj, dj = os.path.join(work, f"ctk-{name}.json"), os.path.join(work, f"chaosdeck-{name}.json")
        reset(base)
        ccode, ct, cerr = run([chaos, "--no-version-check", "--no-log-file", "--settings",
                               os.path.join(work, "no-settings.yaml"), "run", "--journal-path", cj,
                               *args, exp], env)
        reset(base)
        dargs = ["--ctk-exit-code"] + ([] if names_strategy else ["--rollback-strategy", "default"])
        dcode, dt, derr = run([chaosdeck, "run", "--journal-path", dj, *dargs, *args, exp], env)
        with open(os.path.join(work, f"ctk-{name}.log"), "w") as f:
            f.write(cerr)
        with open(os.path.join(work, f"chaosdeck-{name}.log"), "w") as f:
            f.write(derr)
        cjo, djo = read_journal(cj), read_journal(dj)
        if (cjo is None) != (djo is None):  # one tool wrote no journal: that is the difference
            cjo = cjo and {}
            djo = djo and {}
        diffs = list(compare(flatten(cjo, ccode), flatten(djo, dcode)))
        print(f"{'ok  ' if not diffs else 'DIFF'} {name:40} ctk {ct:5.2f}s exit {ccode}  chaosdeck {dt:5.2f}s exit {dcode}")
        for field, cv, dv in diffs:
            rule = next((a for a in allowed if fnmatch.fnmatch(name, a["case"]) and fnmatch.fnmatch(field, a["field"])), None)
            if rule:
                listed += 1
                tag = f"listed (README: {rule['readme_row']}; test {rule['test']})"
            else:
                unlisted += 1
                tag = "UNLISTED"
            print(f"     {field}: chaos {short(cv)} | chaosdeck {short(dv)}  [{tag}]")
    print(f"\n{len(cases) if not only else len(only)} cases; {listed} listed difference(s), {unlisted} unlisted difference(s)")
    print(f"journals and stderr logs in {work}")
    sys.exit(1 if unlisted or bad_allow else 0)


if __name__ == "__main__":
    main()
