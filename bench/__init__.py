"""The performance and resilience benchmark: `make bench`, `make bench-smoke`.

Speed is reported as ratios measured side by side in one run, because absolute
numbers on a shared 2-core machine are noise.
"""
