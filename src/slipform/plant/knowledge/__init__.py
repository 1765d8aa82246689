"""What the rewriters know about words: the hand tables (tables), kinds of things (kinds), the
shipped context and relation priors (context, relations), the input's slot model (plausibility,
vocabulary), word vectors (embed) and a language-model scorer (lmscore). Nothing here plants."""
