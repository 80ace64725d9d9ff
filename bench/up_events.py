#!/usr/bin/env python3
"""bench/up_events.py — reads `devgpu up --json`'s progress (JSON Lines on stderr) for the benches.

  up_events.py stamp       stdin → stdout: each line prefixed with the milliseconds since this started, as it arrives
  up_events.py build FILE  a stamped file → "BUILD_MS DEPS" where BUILD_MS is the time from the build's first progress
                           event to the first event of the step after it, and DEPS is `cached` or `rebuilt`: whether
                           the dependency install step (`… install -r /tmp/devgpu-deps/…`) came from the build cache,
                           read from either builder's output (BuildKit: `CACHED [n/m] RUN …`; the classic builder:
                           ` ---> Using cache` after its `Step n/m : RUN …`), or `none` when no such step ran.
"""
import json
import sys
import time

DEPS = "install -r /tmp/devgpu-deps/"


def stamp():
    t0 = time.monotonic()
    for line in sys.stdin:
        sys.stdout.write("%d %s" % ((time.monotonic() - t0) * 1000, line))
        sys.stdout.flush()


def events(path):
    with open(path) as f:
        for raw in f:
            ms, _, rest = raw.partition(" ")
            try:
                yield int(ms), json.loads(rest)
            except ValueError:
                continue


def build(path):
    start = end = None
    deps = "none"
    in_deps_step = False
    for ms, event in events(path):
        kind, e = event.get("type"), event.get("data", {})
        if kind == "progress":
            step, message = e.get("step"), e.get("message", "")
            if step == "build":
                start = ms if start is None else start
                if DEPS in message and deps == "none":
                    deps = "rebuilt"
                # The classic builder: a new step line ends the dependency step.
                in_deps_step = DEPS in message and message.startswith("Step ")
            elif start is not None and end is None and step not in ("context",):
                end = ms
        elif kind == "log" and e.get("source") == "build":
            line = e.get("line", "")
            if line.startswith("CACHED ") and DEPS in line:
                deps = "cached"
            elif in_deps_step and line.strip() == "---> Using cache":
                deps = "cached"
    if start is None or end is None:
        sys.exit("up_events.py: no build phase in %s" % path)
    print(end - start, deps)


if __name__ == "__main__":
    if sys.argv[1:2] == ["stamp"]:
        stamp()
    elif sys.argv[1:2] == ["build"] and len(sys.argv) == 3:
        build(sys.argv[2])
    else:
        sys.exit(__doc__)
