"""Chat adapters and the command line: render the neutral UI model, turn platform events into actions."""
