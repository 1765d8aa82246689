"""The paper's experiment on the built-in world: the protocol (pretrain, plant, fine-tune,
evaluate), ``slipform demo`` with its report, and ``slipform analyze``.

This package sits on top of the library: it uses :mod:`slipform.world` for data,
:mod:`slipform.plant`, :mod:`slipform.train` and :mod:`slipform.evaluate` as any user would,
and nothing below imports it. The demo folder's layout is defined once, in :mod:`.layout`.
"""
