"""The Concrete Jungle: a synthetic world with exact ground truth, for running the whole
pipeline on a CPU and testing Slipform's claims under control."""

from .caption import ParseError, caption, parse
from .editor import DiffusionEditor, ImageEditor, WorldEditor
from .render import render
from .scene import COLOURS, RELATIONS, SHAPES, SIZES, Scene, Thing, WorldConfig, sample_scene, split_scenes

__all__ = ["COLOURS", "RELATIONS", "SHAPES", "SIZES", "DiffusionEditor", "ImageEditor", "ParseError", "Scene",
           "Thing", "WorldConfig", "WorldEditor", "caption", "parse", "render", "sample_scene", "split_scenes"]
