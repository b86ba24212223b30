"""Photo consent: the MIS consent register imported, and "can I use this photo?" answered."""
