"""xgen's benchmarks: `make bench` (python -m bench.run) measures xgen beside what researchers would use
instead, interleaved in one run, and writes outputs/bench/results.json. Not part of the package."""
