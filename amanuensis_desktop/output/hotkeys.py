"""Hotkey names ("ctrl+alt+d", "super+F9", "Pause") and what a hotkey does; no X or D-Bus here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, Flag, auto

from .errors import OutputError


class Mod(Flag):
    NONE = 0
    SHIFT = auto()
    CTRL = auto()
    ALT = auto()
    SUPER = auto()


class HotkeyAction(Enum):
    TOGGLE = "toggle"  # press: start or stop dictating
    PUSH_TO_TALK = "ptt"  # dictate while held


_MOD_NAMES = {
    "shift": Mod.SHIFT,
    "ctrl": Mod.CTRL,
    "control": Mod.CTRL,
    "alt": Mod.ALT,
    "super": Mod.SUPER,
    "meta": Mod.SUPER,
    "win": Mod.SUPER,
    "logo": Mod.SUPER,
}


@dataclass(frozen=True)
class Hotkey:
    """A key name as X names keysyms ("d", "F9", "space", "Pause") and the modifiers held with it."""

    key: str
    mods: Mod = Mod.NONE

    @classmethod
    def parse(cls, text: str) -> Hotkey:
        parts = [p.strip() for p in text.replace("-", "+").split("+")]
        if not text.strip() or any(not p for p in parts):
            raise OutputError(f"'{text}' is not a hotkey; write it like ctrl+alt+d or F9.")
        mods = Mod.NONE
        for name in parts[:-1]:
            if name.lower() not in _MOD_NAMES:
                raise OutputError(f"'{name}' in '{text}' is not a modifier (use ctrl, alt, shift or super).")
            mods |= _MOD_NAMES[name.lower()]
        key = parts[-1]
        return cls(key.lower() if len(key) == 1 else key, mods)

    def __str__(self) -> str:
        names = [m.name.lower() for m in (Mod.CTRL, Mod.ALT, Mod.SHIFT, Mod.SUPER) if m in self.mods and m.name]
        return "+".join([*names, self.key])

    def portal_trigger(self) -> str:
        """The XDG shortcuts notation the GlobalShortcuts portal suggests to the user ("CTRL+ALT+d")."""
        names = [m.name for m in (Mod.CTRL, Mod.ALT, Mod.SHIFT) if m in self.mods and m.name]
        if Mod.SUPER in self.mods:
            names.append("LOGO")
        return "+".join([*names, self.key])


@dataclass(frozen=True)
class HotkeyEvent:
    action: HotkeyAction
    pressed: bool  # False: released (push-to-talk)
