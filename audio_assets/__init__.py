"""Chime sounds, installed as the package ``voiceguide.audio_assets``.

Regenerate them with ``python scripts/make_chimes.py``.
"""
