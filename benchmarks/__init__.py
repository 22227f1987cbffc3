"""Side-by-side timings against PyTorch, scikit-image and OpenCV, printed as ratios."""
