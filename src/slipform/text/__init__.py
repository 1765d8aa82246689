"""The text layer shared by planting, training, evaluation and the world.

- :mod:`slipform.text.io`: reading captions from the formats users have (txt, COCO, Karpathy,
  CSV/TSV, JSONL), with bad lines reported by file and line;
- :mod:`slipform.text.nlp`: the spaCy pipeline, loaded lazily once per process;
- :mod:`slipform.text.inflect`: plurals, verb forms, articles and capitalisation.

It imports nothing else of slipform, so every layer above may use it.
"""
