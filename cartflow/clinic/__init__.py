"""The clinic: the Django app that stores the journey and runs the services around it."""
