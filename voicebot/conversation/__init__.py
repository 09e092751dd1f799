"""The conversation engine: state + what the borrower said -> what to say + the new state."""
