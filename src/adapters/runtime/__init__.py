"""The process's own resources that ports abstract: the real clock and the id factory."""
