"""The statistics behind every automated decision: paired tests, PSI, metrics, gates' evidence."""
