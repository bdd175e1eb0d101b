"""Tests of focal.storage; a package so that its conftest and test_local don't clash with others."""
