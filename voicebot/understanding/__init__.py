"""Understanding Mandarin as ASR writes it: normalisation, numbers, dates and meanings."""
