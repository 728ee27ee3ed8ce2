"""The stages: one folder per stage of the lifecycle, plus ``features`` shared by training and
scoring."""
