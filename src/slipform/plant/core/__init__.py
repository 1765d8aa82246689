"""The planter core: anchors by concreteness and their routes (anchor), the backend registry
(backend), the planter that turns a caption into negative records (planter), the edit primitives
(edit), the checks every negative passes (verify) and the negative record (record)."""
