"""Reports that read the database and hand plain data to the pure maths in calibration/."""
