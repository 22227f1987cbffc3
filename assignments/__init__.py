"""Runnable CS231n-style course scripts that train real models and draw plots."""
