"""Classic computer vision: filters, edges, corners, SIFT, Hough, RANSAC, seam carving."""
