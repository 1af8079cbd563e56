"""The benchmark suite: synthetic postings (`benchmarks.generate`) and the measured steps
(`benchmarks.run`); ``python -m benchmarks --help``."""
