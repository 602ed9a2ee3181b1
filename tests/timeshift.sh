#!/bin/sh
# The suite with the system clock at Saturday 2026-03-28 23:30 Europe/Berlin (TZ set too): the night the EU,
# where config/oncall.yaml's people live, moves its clocks forward, in the month the US already did. No test
# may care what day or hour it runs; this proves it. Needs libfaketime (Debian: apt-get install faketime).
# The clock starts there and runs on ('@'); monotonic time stays real so timers are unaffected. Only dynamically
# linked processes are shifted: the Temporal dev server (static Go) keeps the real clock, so a test that
# compares a workflow's clock with the test process's clock fails here.
# Usage: npm run test:timeshift [-- <jest args, e.g. tests/api tests/unit>]
set -e
command -v faketime >/dev/null || { echo 'test:timeshift needs faketime (apt-get install faketime)' >&2; exit 1; }
export TZ=Europe/Berlin DONT_FAKE_MONOTONIC=1
exec faketime -f '@2026-03-28 23:30:00' npx jest "$@"
