"""Chat adapters and the command line.

They render the neutral UI model and turn platform events into actions; no business rules.
"""
