"""Encoding: from rendered PCM to the finished file.

ffmpeg encodes the formats with their tags and chapters; the session is measured
and levelled as a whole (the meter and the levelling), its true peak checked, and
finished files described (info). MP3's own shortcuts live in :mod:`voiceguide.encode.mp3`.
"""
