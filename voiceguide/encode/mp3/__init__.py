"""MP3-only shortcuts: encode a session's long silences once and splice them in.

The short render is encoded (split into pieces where that helps), its frames are
spliced with pre-encoded silence, and the Xing/LAME header is filled in for the
finished length.
"""
