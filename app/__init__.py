"""The app shell on top of everything: the CLI, the scoring API, the demo, local servers,
contract set-up."""
