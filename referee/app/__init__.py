"""Application functions: one per command, called by the CLI and the HTTP API, which only parse
their input and print what comes back (see ``docs/architecture.md``)."""
