"""The planting engine: read captions (source), plan shards, plant chunks in a pool of processes
or Ray actors, account skips (stream, summary) and write the records in input order (sink).
Shard files (webdataset tars, Parquet) are planted one input file per shard (files).
The engine drives a :class:`~slipform.plant.core.planter.ConcretePlant`; it knows no backend."""
