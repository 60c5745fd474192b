"""Fictional route reports for the demo (`njia demo`), the benchmarks and the tests: the data generator,
shipped beside the platform but not part of it (docs/decisions.md §17)."""
