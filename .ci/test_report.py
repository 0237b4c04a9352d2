#!/usr/bin/env python3
# Summarises one CI stage's CTest JUnit file: tests passed/failed/skipped, and every skipped
# test executable or test case, and fails (exit 1) when something skipped that is not allowed
# by .ci/allowed-skips (or by an --allow pattern .ci/run adds, e.g. when ../shared is absent).
# Skipped cases inside executables that otherwise passed are found in the test output:
#   GoogleTest  "[  SKIPPED ] Suite.Name (N ms)"    Qt Test  "SKIP   : Class::function() reason"
#   shell tests "SKIP: reason"
# SPDX-License-Identifier: GPL-3.0-or-later
import argparse
import re
import sys
import xml.etree.ElementTree as ET

GTEST_SKIP = re.compile(r"^\[  SKIPPED \] (\S+) \(\d+ ms\)$")
QTEST_SKIP = re.compile(r"^SKIP   : (.*)$")
SHELL_SKIP = re.compile(r"^SKIP: (.*)$")


def load_allowed(path, extra):
    patterns = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                patterns.append(re.compile(line))
    return patterns + [re.compile(p) for p in extra]


def skipped_cases(output):
    for line in output.splitlines():
        for pattern in (GTEST_SKIP, QTEST_SKIP, SHELL_SKIP):
            m = pattern.match(line.rstrip())
            if m:
                yield m.group(1).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("junit")
    ap.add_argument("--stage", required=True)
    ap.add_argument("--allowed", default=".ci/allowed-skips")
    ap.add_argument("--allow", action="append", default=[], help="one more allowed pattern")
    args = ap.parse_args()

    allowed = load_allowed(args.allowed, args.allow)
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    skips = []  # "<test>" for a skipped executable, "<test>: <case>" for a skipped case
    for case in ET.parse(args.junit).getroot().iter("testcase"):
        name = case.get("name")
        output = case.findtext("system-out") or ""
        if case.find("skipped") is not None:
            counts["skipped"] += 1
            skips.append(name)
        elif case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
        else:
            counts["passed"] += 1
        skips += [f"{name}: {c}" for c in skipped_cases(output)]

    not_allowed = [s for s in skips if not any(p.fullmatch(s) for p in allowed)]
    cases = sum(1 for s in skips if ": " in s)
    print(f"== {args.stage}: {counts['passed']} tests passed, {counts['failed']} failed, "
          f"{counts['skipped']} skipped; {cases} skipped test cases")
    for s in skips:
        print(f"   skipped{' (NOT ALLOWED in CI)' if s in not_allowed else ''}: {s}")
    if not_allowed:
        print(f"error: {len(not_allowed)} skip(s) not allowed in CI (see .ci/allowed-skips)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
