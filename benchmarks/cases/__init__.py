"""Benchmark case modules: layers_*.py feed the layers suite, cv_*.py the classic_cv suite."""
