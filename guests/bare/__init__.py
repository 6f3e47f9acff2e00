"""Bare-metal M-mode C programs (demo, bench) and their build (guests/bare/build.py)."""
