"""Benchmarks behind ``amanuensis bench``: files (every backend + faster-whisper), live, NPU (emulated)."""
