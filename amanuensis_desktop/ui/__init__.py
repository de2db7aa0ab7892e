"""The PySide6 desktop window: dictation, file jobs, tray. Every inference runs off the GUI thread."""
