"""Sound: audio values at the session's format, the layers' sounds, and rendering.

Clips and chimes are brought to the session's one format here; the renderer
walks a timeline and streams its PCM, mixing the layers under the voice.
"""
