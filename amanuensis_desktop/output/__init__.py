"""Dictate anywhere: final text typed, pasted or copied into the app the user is working in.

Pure parts: joiner.py (spaces and capitals between finals), spoken.py ("new line", "scratch that"),
keysyms.py, hotkeys.py (hotkey names), terminals.py. Routes to other apps (routes.py picks the first that
works): x11.py (XTEST), wayland.py (wtype, kwtype, ydotool), portal_remote.py (RemoteDesktop portal, over
portal.py). clipboard.py (Qt or wl-clipboard; the paster), sink.py (a final → the target), factory.py (the
sink for a mode). Control: x11_hotkeys.py, portal_shortcuts.py (GlobalShortcuts portal), control.py (one
running instance; `amanuensis toggle`). service.py runs `dictate --output ...`; command.py holds the CLI parts.
The window's side is ui/anywhere.py and ui/listening_indicator.py.
"""
