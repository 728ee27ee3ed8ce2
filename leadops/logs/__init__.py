"""The lake's logs: every prediction, every online request, every quarantined row."""
