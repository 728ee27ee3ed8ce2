"""The ``leadops`` command line: its commands and the lines they print."""
