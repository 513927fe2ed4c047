"""The words of a session: routine files, their extras, the cue wording and its sandbox.

Everything here is text and plain values: reading and checking what people write
(routines in YAML, templates in Jinja), and composing the lines to be spoken.
Nothing here knows how long a line takes to say.
"""
