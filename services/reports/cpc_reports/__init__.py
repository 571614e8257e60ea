"""Reports: owns report requests, their due times, and what agencies submit."""
