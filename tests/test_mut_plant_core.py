"""Plant core behaviour pinned for mutation testing (issue 31): record, verify, anchor, edit, planter."""
