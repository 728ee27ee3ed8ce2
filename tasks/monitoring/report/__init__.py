"""The model page (`leadops report`): is the model working? One self-contained HTML file."""
