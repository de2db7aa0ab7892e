"""Development tools: test rigs (virtual microphone, Xvfb) and the screenshot script. Not shipped in the app."""
