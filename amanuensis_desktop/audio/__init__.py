"""Audio in: files decoded to 16 kHz mono float32 (files.py) and, for live dictation, the sources behind one
protocol (sources.py: microphone, file in real time), input devices (devices.py) and resampling (convert.py)."""
