"""One module per business process, plus operations flows."""
