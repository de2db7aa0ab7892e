"""Fixtures shared by the backend tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """Every full read of a model file's tensors (the real reader is called; the list records it)."""
    from amanuensis_desktop.whisper import lazy_weights

    calls: list[str] = []
    real = lazy_weights.load_weights

    def counting(folder):
        calls.append(str(folder))
        return real(folder)

    monkeypatch.setattr(lazy_weights, "load_weights", counting)
    return calls
