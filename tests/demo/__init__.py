"""Tests of ``transom demo``: the httpbin-compatible API, the notes site, the command."""
