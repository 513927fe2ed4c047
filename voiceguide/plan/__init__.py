"""The plan of a session: where every cue, chime and pause sits, to the sample.

Pure and exact: from the composed lines and the length of each clip, the planner
gives a timeline; the layers, chapters and transcript are read off it. No audio
is made here.
"""
