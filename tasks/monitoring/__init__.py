"""The monitor stage: PSI and Evidently drift, conversion and calibration checks, the retrain
request."""
