"""What is made of planted records: a page to look at them (gallery) and NegCLIP's TSV (export)."""
