"""File formats, read and written: Referee's own JSON Lines, DPO, Label Studio, Argilla, the
release folder (manifest and checksums), and the rules and leakage checks every export obeys.

A domain package: plain rows in, plain rows and files out; it never imports :mod:`referee`."""
