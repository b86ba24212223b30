"""Documents a school hands over, made from what the bot holds: the privacy notice's software
list, a ROPA starter, and letters as Word documents."""
