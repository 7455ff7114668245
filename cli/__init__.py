"""The command line's side: console rendering of cards and digests, `scan`, `eval`, the demo feed
and the labelled-data generator. A peer of `handlers` on top of the application layer."""
