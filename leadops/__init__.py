"""The core floor: settings, errors and the concepts every stage shares (imports only itself)."""
