#!/usr/bin/env python3
"""Judges one Autobahn|Testsuite fuzzing-client run from its index.json.

wstest exits 0 whatever happened, so this is the verdict of scripts/autobahn:
- every expected case (the suite's own case list for the spec, one id a line) must be in
  index.json for the agent, and no other;
- behavior must be OK; NON-STRICT or INFORMATIONAL pass only for a case listed in the accepted
  file with that same behavior and a reason;
- behaviorClose must be OK; for an accepted case it may also be INFORMATIONAL or NON-STRICT.
  FAILED, UNCLEAN, WRONG CODE and FAILED BY CLIENT always fail. An INFORMATIONAL case hides its
  close verdict, so its report's resultClose must still read "Connection was properly closed".
For each failing case it prints what the per-case report says (expected vs received, the close
codes, the suite's result text). It writes the verdicts, one case a line, for run-to-run
comparison, and prints one summary line starting with "autobahn:".
Exit status: 0 pass, 1 fail, 2 unusable input.
"""

import argparse
import json
import os
import sys

ACCEPTABLE = ("NON-STRICT", "INFORMATIONAL")
# Fields of the per-case report worth showing for a failing case.
DETAIL_FIELDS = (
    "description",
    "expectation",
    "result",
    "resultClose",
    "expected",
    "received",
    "expectedClose",
    "closedByMe",
    "failedByMe",
    "droppedByMe",
    "wasClean",
    "wasNotCleanReason",
    "wasServerConnectionDropTimeout",
    "wasOpenHandshakeTimeout",
    "wasCloseHandshakeTimeout",
    "localCloseCode",
    "localCloseReason",
    "remoteCloseCode",
    "remoteCloseReason",
)
LIMIT = 600  # characters shown of one field
DETAILED = 20  # failing cases shown with their report's details
CLEAN_CLOSE = "Connection was properly closed"  # the suite's resultClose when behaviorClose is OK


def case_key(case_id):
    return tuple(int(p) for p in case_id.split("."))


def read_accepted(path, expected):
    """Returns {case id: behavior}; a malformed line is an error, not a silent skip."""
    accepted = {}
    errors = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            where = "%s:%d" % (path, n)
            if len(parts) < 3 or not parts[2].strip():
                errors.append("%s: want '<case id> <NON-STRICT|INFORMATIONAL> <reason>'" % where)
            elif parts[1] not in ACCEPTABLE:
                errors.append("%s: behavior %r is not one of %s" % (where, parts[1], ", ".join(ACCEPTABLE)))
            elif parts[0] not in expected:
                errors.append("%s: case %s is not one of the cases run" % (where, parts[0]))
            elif parts[0] in accepted:
                errors.append("%s: case %s listed twice" % (where, parts[0]))
            else:
                accepted[parts[0]] = parts[1]
    return accepted, errors


def short(value):
    s = json.dumps(value, sort_keys=True)  # one line: newlines in the suite's text are escaped
    return s if len(s) <= LIMIT else s[: LIMIT - 4] + " ..."


def report_path(reports_dir, entry):
    return os.path.join(reports_dir, entry.get("reportfile", ""))


def read_report(reports_dir, entry):
    """A case's own JSON report; {} where it cannot be read (describe() says why)."""
    try:
        with open(report_path(reports_dir, entry), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def describe(reports_dir, entry):
    """The interesting fields of a case's own JSON report, one a line."""
    path = report_path(reports_dir, entry)
    report = read_report(reports_dir, entry)
    if not report:
        return ["    (no readable per-case report at %s)" % path]
    lines = ["    report: %s (and .html)" % path]
    for k in DETAIL_FIELDS:
        if k in report and report[k] not in (None, "", [], {}):
            lines.append("    %s: %s" % (k, short(report[k])))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, help="the run's index.json")
    ap.add_argument("--expected", required=True, help="file with the expected case ids, one a line")
    ap.add_argument("--accepted", required=True, help="accepted NON-STRICT/INFORMATIONAL cases")
    ap.add_argument("--agent", required=True, help="agent name used in the spec")
    ap.add_argument("--verdicts", help="write '<case> <behavior> <behaviorClose>' lines here")
    args = ap.parse_args()

    with open(args.expected, encoding="utf-8") as f:
        expected = [line.strip() for line in f if line.strip()]
    if not expected:
        print("autobahn: the expected case list %s is empty" % args.expected)
        return 2
    expected_set = set(expected)
    accepted, errors = read_accepted(args.accepted, expected_set)
    for e in errors:
        print("accepted list: " + e)
    if errors:
        print("autobahn: the accepted list %s is malformed" % args.accepted)
        return 2

    try:
        with open(args.index, encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        print("autobahn: no usable index.json (%s): the suite did not finish" % e)
        return 1
    results = index.get(args.agent)
    if not isinstance(results, dict):
        print("autobahn: index.json has no results for agent %r (agents: %s)" % (args.agent, ", ".join(index) or "none"))
        return 1
    reports_dir = os.path.dirname(os.path.abspath(args.index))

    missing = [c for c in expected if c not in results]
    extra = sorted((c for c in results if c not in expected_set), key=case_key)
    counts = {}
    accepted_counts = {b: 0 for b in ACCEPTABLE}
    failures = []
    passed_ok = 0  # behavior and close both OK
    stale = []
    verdicts = []
    for case_id in expected:
        entry = results.get(case_id)
        if entry is None:
            continue
        behavior = entry.get("behavior")
        close = entry.get("behaviorClose")
        verdicts.append("%s %s %s" % (case_id, behavior, close))
        counts[behavior] = counts.get(behavior, 0) + 1
        listed = accepted.get(case_id)
        reasons = []
        if behavior == "OK":
            if listed:
                stale.append(case_id)
        elif behavior not in ACCEPTABLE:
            reasons.append("behavior %s" % behavior)
        elif listed is None:
            reasons.append("behavior %s, not in the accepted list" % behavior)
        elif listed != behavior:
            reasons.append("behavior %s, but the accepted list says %s" % (behavior, listed))
        if close != "OK" and not (close in ACCEPTABLE and listed):
            reasons.append("behaviorClose %s" % close)
        elif close == "INFORMATIONAL":
            # An INFORMATIONAL case overwrites behaviorClose, but its report keeps the
            # suite's own verdict on the close as text: hold it to the same rule.
            hidden = read_report(reports_dir, entry).get("resultClose")
            if hidden != CLEAN_CLOSE:
                reasons.append("close (hidden by INFORMATIONAL): %s" % hidden)
        if reasons:
            failures.append((case_id, entry, reasons))
        elif behavior == "OK":
            passed_ok += 1
        else:
            accepted_counts[behavior] += 1

    if args.verdicts:
        with open(args.verdicts, "w", encoding="utf-8") as f:
            f.write("".join(v + "\n" for v in verdicts))

    for n, (case_id, entry, reasons) in enumerate(failures):
        print("FAIL %s: %s (remoteCloseCode %s, %s ms)" % (
            case_id, "; ".join(reasons), entry.get("remoteCloseCode"), entry.get("duration")))
        if n < DETAILED:
            print("\n".join(describe(reports_dir, entry)))
    if len(failures) > DETAILED:
        print("(details above for the first %d failing cases; the rest are in %s)" % (DETAILED, reports_dir))
    if missing:
        print("MISSING %d of %d expected cases never ran (did the server die or hang?): %s" % (
            len(missing), len(expected), " ".join(missing[:40]) + (" ..." if len(missing) > 40 else "")))
    if extra:
        print("UNEXPECTED cases in index.json: %s" % " ".join(extra))
    for case_id in stale:
        print("note: %s is OK now; its line in %s can go" % (case_id, args.accepted))

    parts = ["autobahn: %d cases" % len(expected), "%d OK" % passed_ok]
    parts += ["%d %s accepted" % (accepted_counts[b], b) for b in ACCEPTABLE]
    parts.append("%d failed" % len(failures))
    if missing:
        parts.append("%d missing" % len(missing))
    others = {b: n for b, n in counts.items() if b != "OK"}
    if others:
        parts.append("suite behaviors: " + ", ".join("%s %d" % kv for kv in sorted(others.items())))
    print(", ".join(parts))
    return 1 if failures or missing or extra else 0


if __name__ == "__main__":
    sys.exit(main())
