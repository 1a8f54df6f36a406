#!/bin/bash
# Flake check (issue: flake-free in parallel): the whole scenario suite, N times in a
# row with 8 test threads, while two busy loops keep both cores loaded.
# usage (as root, from the repository root): bash bench/flake.sh [N]
set -u
n=${1:-20}
cargo build --workspace --tests -q || exit 1
bin=$(cargo test --test scenarios --no-run --message-format=json 2>/dev/null |
	sed -n 's/.*"executable":"\([^"]*scenarios[^"]*\)".*/\1/p' | tail -1)
for _ in 1 2; do timeout 3600 sh -c 'while :; do :; done' & done
trap 'kill $(jobs -p) 2>/dev/null' EXIT
fail=0
for i in $(seq 1 "$n"); do
	if out=$(CI=true "$bin" --test-threads 8 2>&1); then
		echo "run $i: $(echo "$out" | grep 'test result')"
	else
		fail=$((fail + 1))
		echo "run $i: FAILED"
		echo "$out" | grep -E '^test .* FAILED|^  (expected|actual):' | sed 's/^/    /'
	fi
done
echo "flaky runs: $fail of $n"
