"""What the test layers share (no tests here): data builders, the tiny model, the register
helper, local servers. Fixtures reach tests through tests/conftest.py (``pytest_plugins``)."""
