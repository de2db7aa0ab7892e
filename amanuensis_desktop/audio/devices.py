"""Input devices through PortAudio (sounddevice): list them and choose one by name (exact, then
case-insensitive substring) or index; every failure is one sentence (:class:`UserError`)."""

from __future__ import annotations

from typing import Any

from ..errors import UserError

LIST_HINT = "run 'amanuensis dictate --list-devices' to see them"


def sounddevice_module() -> Any:
    """The sounddevice module, or :class:`UserError` when PortAudio is missing."""
    try:
        import sounddevice as sd
    except OSError as exc:  # the PortAudio shared library is missing
        raise UserError(
            f"Audio capture is unavailable because the PortAudio library is missing (install libportaudio2): {exc}."
        ) from exc
    return sd


def _default_input_index(sd: Any) -> int:
    try:
        dev = sd.default.device
        idx = dev[0] if isinstance(dev, (list, tuple)) or hasattr(dev, "__getitem__") else dev
        idx = int(idx) if idx is not None else -1
    except Exception:
        idx = -1
    if idx < 0:
        try:
            idx = int(sd.query_devices(kind="input")["index"])
        except Exception:
            idx = -1
    return idx


def list_input_devices() -> list[dict[str, Any]]:
    """Every device with input channels: ``{index, name, channels, default_samplerate, is_default}``."""
    sd = sounddevice_module()
    try:
        devices = sd.query_devices()
    except Exception as exc:
        raise UserError(f"The audio devices could not be listed ({exc}).") from exc
    default = _default_input_index(sd)
    out = []
    for d in devices:
        if int(d["max_input_channels"]) <= 0:
            continue
        out.append(
            {
                "index": int(d["index"]),
                "name": str(d["name"]),
                "channels": int(d["max_input_channels"]),
                "default_samplerate": float(d["default_samplerate"]),
                "is_default": int(d["index"]) == default,
            }
        )
    return out


def resolve_input_device(spec: str | int | None = None, devices: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The input device for ``spec``: None (the default), an index (int or digits) or a name."""
    devices = list_input_devices() if devices is None else devices
    if not devices:
        raise UserError("No microphone was found (the audio system lists no input device).")
    if spec is None or (
        isinstance(spec, str) and spec.strip() in ("", "default") and not any(d["name"] == "default" for d in devices)
    ):
        for d in devices:
            if d["is_default"]:
                return d
        return devices[0]
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        idx = int(spec)
        for d in devices:
            if d["index"] == idx:
                return d
        raise UserError(f"There is no input device number {idx}; {LIST_HINT}.")
    name = str(spec).strip()
    for d in devices:
        if d["name"] == name:
            return d
    matches = [d for d in devices if name.lower() in d["name"].lower()]
    if matches:
        return matches[0]
    raise UserError(f"No input device matches '{name}'; {LIST_HINT}.")
