"""Slow, obviously-correct loop versions of the layer kernels, one module per family.

Tests hold every fast kernel in ``layers._kernels`` equal to its twin here.
"""
