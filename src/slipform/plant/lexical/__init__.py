"""The lexical rewriter (the default backend, ``lexical``): one word of the caption replaced by a
word of its kind, family or contrast, within the guards of the parse (guards)."""
