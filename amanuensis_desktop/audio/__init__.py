"""Audio in: files (decoding to 16 kHz mono float32) and, for live dictation, the microphone."""
