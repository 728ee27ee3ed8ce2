"""The app shell: CLI, demo, serve and servers, remote runs, synthetic data, timeline plot."""
