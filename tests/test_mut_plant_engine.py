"""Plant engine behaviour pinned for mutation testing (issue 31): runner, sink, source, stream, summary."""
