"""Database backends of cartflow's own."""
