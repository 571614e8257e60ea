"""What each person is told, in pure Python."""
