"""referee package."""
