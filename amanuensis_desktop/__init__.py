"""Amanuensis Desktop: live dictation with Whisper on a verified backend (AMD NPU kernels, OpenVINO, CPU)."""

__version__ = "0.1.0"
