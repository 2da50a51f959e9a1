#!/bin/sh
# Runs bench/http-pool/PoolBench.java (JDK only, no build) and keeps its output in RESULTS.txt.
#   bench/http-pool/run.sh [seconds-per-run] [rounds]     (defaults: 5 s, 2 rounds ABBA: ~1 minute)
set -eu
here=$(dirname "$0")
java "$here/PoolBench.java" "${1:-5}" "${2:-2}" | tee "$here/RESULTS.txt"
