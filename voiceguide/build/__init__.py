"""Building sessions: the library's front door.

A session goes routine -> lines -> speech -> timeline -> audio -> file here;
a batch builds many, sharing their speech and spreading the encodes over the cores.
"""
