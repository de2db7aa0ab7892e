"""Names shared by the model tests."""

REPO = "acme/whisper-synth"
MODEL_BIN_SIZE = 3 * 1024 * 1024 + 12345
