"""Dictate anywhere: final text typed, pasted or copied into the app the user is working in.

``joiner`` (spacing and capitals between finals) and ``spoken`` (spoken commands such as "new line") are
pure; ``routes`` picks how text reaches other apps on this session (X11 XTest, wtype, kwtype, the
RemoteDesktop portal, ydotool, or the clipboard); ``sink`` puts the pieces together for the live pipeline.
"""
