"""Getting labels out: final-label rows, training-export rules, format writers and readers."""
