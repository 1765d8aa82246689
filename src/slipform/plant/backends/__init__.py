"""The other planting backends: NegCLIP's swaps (swap) and language models, local or served (llm).
Each registers itself by name in :mod:`slipform.plant.core.backend`; none is imported by the core."""
