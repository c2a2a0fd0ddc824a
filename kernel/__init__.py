"""The shared kernel: the little every layer may import, and which imports nothing of ours.

Only the root of the exception tree lives here (:mod:`kernel.errors`), so that the domain
packages (``judge``, ``routing``, ``calibration``, ``workers``) can root their errors in it
without importing ``referee``.
"""
