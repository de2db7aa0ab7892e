"""Terminal emulators, which paste with Ctrl+Shift+V (Ctrl+V is a control character there)."""

from __future__ import annotations

#: lower-case WM_CLASS / app-id fragments of terminal emulators
TERMINALS = (
    "xterm",
    "uxterm",
    "rxvt",
    "urxvt",
    "gnome-terminal",
    "konsole",
    "xfce4-terminal",
    "mate-terminal",
    "lxterminal",
    "terminator",
    "tilix",
    "alacritty",
    "kitty",
    "foot",
    "wezterm",
    "st-256color",
    "terminology",
    "qterminal",
    "sakura",
    "guake",
    "yakuake",
    "tilda",
    "ghostty",
    "ptyxis",
    "kgx",
    "console",
    "terminal",
    "blackbox",
    "contour",
    "cool-retro-term",
    "deepin-terminal",
    "eterm",
)


def is_terminal_class(*names: str) -> bool:
    """True when any of ``names`` (WM_CLASS instance and class, or a Wayland app id) is a terminal."""
    for name in names:
        low = (name or "").lower()
        if low in ("st", "xterm") or any(t in low for t in TERMINALS):
            return True
    return False
