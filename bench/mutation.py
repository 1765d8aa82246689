"""Mutation testing of the modules whose numbers users publish or trust, with mutmut.

    python bench/mutation.py                    # every group, 2 workers
    python bench/mutation.py losses metrics     # some groups
    python bench/mutation.py --survivors        # also print each surviving mutant's diff
    python bench/mutation.py --list             # the groups, their modules and tests
    python bench/mutation.py --changed          # the modules a diff against main touches (before submitting)
    python bench/mutation.py plant_engine --sample 60 --seed 0   # 60 of the group's mutants, drawn with seed 0
    python bench/mutation.py eval_modules --sample 20 --per-module   # 20 of each module's mutants
    python bench/mutation.py eval_report --mutants '*x_markdown__mutmut_7'   # these mutants only (a re-run)
    python bench/mutation.py --uncovered        # modules of src/slipform in no group (none, checked by a test)

mutmut (https://github.com/boxed/mutmut, 3.x) makes small changes to the code -- ``>`` to
``>=``, ``* k`` dropped, a constant changed, a call's argument replaced by ``None`` -- and runs
the tests that execute the changed function; a mutant the tests do not fail on "survived", so
some claim of the code is not pinned down by any test. Each group below runs in its own copy of
the repository under ``--workdir`` (the project's pyproject.toml gains a ``[tool.mutmut]``
section there, so the checkout is never touched), with only the tests that stand for that group
(the default suite's other tests would multiply the run time, not the kills).

Every module of ``src/slipform`` is in a group: the hand-made groups below (the modules whose
survivors were worked through one by one) and, for the rest, one group per package or module
(:data:`EVERYWHERE`) with the test files that import it; ``tests/test_mutation_groups.py`` fails
when a new module is in none. A group too slow to run whole is sampled: ``--sample N`` draws N of
its mutants with ``random.Random(--seed)`` (after mutmut has generated them all), and the table
says "N of M sampled, seed S"; a kill rate from a sample is an estimate (a 95% Wilson interval is
printed with it). With ``--per-module`` each module of the group gets its own N, drawn with a seed of
its own (``"S:module"``), so a module's sample is the same in any group that mutates it: a group of
many modules pays mutmut's start (its stats run over every test) once. ``--mutants`` runs only the
named mutants (mutmut names, ``*`` allowed): the survivors of a sample, again, after new tests.

Per module it prints killed / mutants and the kill rate; "no tests" (a mutant in code that no
selected test executes) counts as surviving. Survivors and why each is harmless or which test
now kills it: docs/BENCHMARKS.md, "Mutation testing". Needs ``pip install mutmut`` (3.x).
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Group:
    """Files to mutate (globs, ``*`` spans folders), the tests that stand for them, and optionally
    the functions to mutate (mutmut names, e.g. ``*ǁTrainerǁresume__mutmut_*``). ``timeout_multiplier``:
    mutmut stops a mutant after (its tests' baseline seconds + 60) x this, wall clock (mutmut's default
    15 lets a mutant that loops forever in a training loop hold a worker for 15+ minutes); a stopped
    mutant counts as killed, as mutmut counts it."""

    mutate: tuple[str, ...]
    tests: tuple[str, ...]
    functions: tuple[str, ...] = field(default=())
    timeout_multiplier: float = 15.0
    #: MiniLM's word vectors cached on disk across the group's mutants (``SLIPFORM_CACHE`` in the
    #: workspace): only for groups that do not mutate the cache's writer (plant/knowledge/embed.py)
    warm_cache: bool = False
    #: ``--in-process`` only: empty every ``lru_cache`` of the mutated modules before each mutant (a
    #: cache filled under the clean run would hide a mutant of the function it wraps)
    clear_caches: bool = False


GROUPS = {
    "losses": Group(("src/slipform/losses/base.py", "src/slipform/losses/contrastive.py",
                     "src/slipform/losses/registry.py"),
                    ("tests/test_losses.py", "tests/test_losses_claims.py", "tests/test_losses_simulated_ranks.py",
                     "tests/test_loss_methods.py", "tests/test_loss_methods_edges.py")),
    "metrics": Group(("src/slipform/evaluate/metrics.py",),
                     ("tests/test_eval_direction.py", "tests/test_evaluate.py", "tests/test_eval_suites.py",
                      "tests/test_mut_eval_metrics_device.py", "-k",
                      "not (fixtures or cli or probe or overlap or voc2007 or list or cache or missing or registry "
                      "or real_model or names_its)")),
    "scoring": Group(("src/slipform/evaluate/sugarcrepe.py", "src/slipform/evaluate/valse.py",
                      "src/slipform/evaluate/aro.py", "src/slipform/evaluate/winoground.py"),
                     ("tests/test_eval_direction.py", "tests/test_eval_scoring_edges.py", "tests/test_evaluate.py", "-k",
                      "not (fixtures or cli or probe or overlap or voc2007 or list or cache or missing_images "
                      "or registry)")),
}
# the scoring group one module at a time (the machine is shared: a whole group may not finish)
for _mod in ("sugarcrepe", "valse", "aro", "winoground"):
    GROUPS[_mod] = Group((f"src/slipform/evaluate/{_mod}.py",), GROUPS["scoring"].tests)
# ARO's order tasks (their own module since they follow ARO's TextShuffler; its reference test)
GROUPS["aro_order"] = Group(("src/slipform/evaluate/aro_order.py",),
                            ("tests/test_eval_scoring_edges.py", "tests/test_eval_reference.py", "tests/test_evaluate.py",
                             "-k", "aro or order or perturb or caption"))
GROUPS |= {
    "targets": Group(("src/slipform/plant/core/anchor.py",), ("tests/test_anchor.py",),
                     ("*x_select_targets__mutmut_*", "*x__ranked__mutmut_*", "*x_route__mutmut_*",
                      "*x_parse_role_weights__mutmut_*", "*x_caption_rng__mutmut_*")),
    "sampler": Group(("src/slipform/data.py",), ("tests/test_resume_parts.py", "tests/test_data.py", "-k",
                                                  "sampler or seed_epoch or ranks or batch"),
                     ("*ResumableSampler*",)),
    "resume": Group(("src/slipform/train.py",), ("tests/test_resume_parts.py", "tests/test_resume_state.py",
                                                 "tests/test_train.py", "-k",
                                                 "crashed or cosine or truncation or rng_state or carries or schedule "
                                                 "or cuda or went_through or folders or damaged or torn or teacher or selection "
                                                 "or before_the or warns"),
                    ("*ǁTrainerǁresume__mutmut_*", "*ǁTrainerǁstate__mutmut_*", "*x_save_checkpoint__mutmut_*", "*x_load_checkpoint__mutmut_*",
                     "*x__rng_state__mutmut_*", "*x__set_rng_state__mutmut_*", "*x__truncate_log__mutmut_*",
                     "*x_cosine_schedule__mutmut_*")),
    # the methods of issue 18 (the losses group predates them): one process, each against its loop
    # reference and the authors' formulation; their 2-process runs are tests/test_loss_methods_ddp.py
    "methods": Group(tuple(f"src/slipform/losses/{m}.py" for m in ("ce_clip", "fsc_clip", "degla", "siglip",
                                                                 "tripletclip")),
                     ("tests/test_loss_methods.py", "tests/test_loss_methods_edges.py", "tests/test_degla.py",
                      "tests/test_fsc_local.py", "-k",
                      "reference or formulation or options or without or zero or equal_similarities "
                      "or forward_and_backward or thresholds or refused or masks or precision or threshold "
                      "or usable or defaults or decay or distills or kl_distillation")),
    "world": Group(("src/slipform/world/caption.py", "src/slipform/world/editor.py"),
                   ("tests/test_world.py", "tests/test_world_parts.py", "tests/test_editor_plumbing.py", "-k",
                    "(caption or parse or editor or negatives or listing or verify) and not concrete_targets")),
}
# the world's parser and editor one at a time
for _mod in ("caption", "editor"):
    GROUPS[f"world_{_mod}"] = Group((f"src/slipform/world/{_mod}.py",), GROUPS["world"].tests)

def _src(*names: str) -> tuple[str, ...]:
    return tuple(f"src/slipform/{n}" for n in names)


# every other module, one group per package or module, with the tests that import it (the slow marks
# stay off: a mutant's tests are the default suite's); the hand-made groups above take precedence
EVERYWHERE = {
    "train": Group(_src("train.py"), ("tests/test_train_paths.py", "tests/test_resume_state.py",
                                      "tests/test_resume_parts.py")),
    "data": Group(_src("data.py"), ("tests/test_data.py", "tests/test_data_paths.py", "tests/test_resume_parts.py")),
    "safeload": Group(_src("safeload.py"), ("tests/test_safeload.py", "tests/test_train_paths.py")),
    "run": Group(_src("run.py"), ("tests/test_run.py", "tests/test_mut_run.py")),
    "models": Group(_src("models.py"), ("tests/test_models.py", "tests/test_hf_siglip.py")),
    "select": Group(_src("select.py"), ("tests/test_select.py",)),
    "lexicon_norms": Group(_src("lexicon.py", "norms.py"), ("tests/test_lexicon.py", "tests/test_norms.py")),
    "cli": Group(_src("cli.py", "plots.py", "__init__.py"),
                 ("tests/test_io.py", "tests/test_select.py", "tests/test_norms.py", "tests/test_gallery.py",
                  "tests/test_evaluate.py", "tests/test_runner.py")),
    "text": Group(_src("text/*.py"), ("tests/test_io.py", "tests/test_sharding.py", "tests/test_rewrite.py",
                                      "tests/test_anchor.py")),
    "plant_core": Group(_src("plant/core/*.py", "plant/__init__.py"),
                        ("tests/test_anchor.py", "tests/test_record.py", "tests/test_rewrite.py",
                         "tests/test_kinds.py", "tests/test_routes.py")),
    "plant_knowledge": Group(_src("plant/knowledge/*.py"), ("tests/test_kinds.py", "tests/test_relations.py",
                                                            "tests/test_plausibility.py", "tests/test_rewrite.py",
                                                            "tests/test_mut_plant_knowledge.py")),
    "plant_lexical": Group(_src("plant/lexical/*.py", "plant/lexical/routes/*.py"),
                           ("tests/test_guards_forms.py", "tests/test_rewrite.py", "tests/test_relations.py",
                            "tests/test_routes.py")),
    "plant_backends": Group(_src("plant/backends/*.py"), ("tests/test_llm.py", "tests/test_rewrite.py",
                                                          "tests/test_mut_plant_backends.py")),
    "plant_engine": Group(_src("plant/engine/*.py"), ("tests/test_plant_reruns.py", "tests/test_ray.py",
                                                      "tests/test_sharding.py")),
    "plant_output": Group(_src("plant/output/*.py"), ("tests/test_gallery.py", "tests/test_runner.py",
                                                      "tests/test_mut_plant_output.py", "-k",
                                                      "gallery or negclip or mut_plant_output")),
    "evaluate_suites": Group(_src(*(f"evaluate/{m}.py" for m in (
        "colorswap", "crepe", "eqben", "imagecode", "mmvp", "spec", "sugarcrepe_pp", "svo_probes", "vl_checklist",
        "whatsup", "retrieval", "zeroshot"))),
        ("tests/test_eval_suites.py", "tests/test_eval_edges_more.py", "tests/test_eval_scoring_edges.py",
         "tests/test_eval_by_hand.py", "tests/test_mut_eval_classification.py", "tests/test_mut_eval_suites.py")),
    "evaluate_rest": Group(_src(*(f"evaluate/{m}.py" for m in (
        "__init__", "encode", "overlap", "probe", "published", "report", "vl_compo", "world")), "evaluate/aro*.py"),
        ("tests/test_evaluate.py", "tests/test_eval_vl_compo.py", "tests/test_eval_edges_more.py",
         "tests/test_eval_by_hand.py", "tests/test_eval_direction.py", "tests/test_mut_eval_classification.py",
         "tests/test_mut_eval_encode.py", "tests/test_mut_eval_overlap.py", "tests/test_mut_eval_registry.py",
         "tests/test_mut_eval_report.py")),
    "world_change": Group(_src("world/change.py"), ("tests/test_world_routes.py",)),
    "world_rest": Group(_src("world/scene.py", "world/render.py", "world/dataset.py", "world/__init__.py"),
                        ("tests/test_world.py", "tests/test_world_parts.py", "tests/test_editor_plumbing.py")),
    "experiment": Group(_src("experiment/*.py"), ("tests/test_experiment.py", "tests/test_demo.py::"
                                                  "test_controls_on_the_miniature_world_report_three_checks")),
    # the whole package: the hand-made losses and methods groups measure its modules one by one; this
    # one holds any module they do not name (the package's __init__, a new loss)
    "losses_all": Group(_src("losses/*.py"), GROUPS["losses"].tests),
}
GROUPS |= EVERYWHERE
# every module of evaluate/ without a hand-made group, one group each (issue 31: each its own sample,
# ``--sample 25 --seed 0``), with every evaluation test file (about a minute together: mutmut runs only
# the tests that executed the mutated function, so the extra files cost the one stats run)
EVAL_TESTS = ("tests/test_eval_suites.py", "tests/test_eval_edges_more.py", "tests/test_eval_scoring_edges.py",
              "tests/test_eval_by_hand.py", "tests/test_eval_reference.py", "tests/test_eval_reference_pairs.py",
              "tests/test_eval_published_counts.py", "tests/test_eval_vl_compo.py", "tests/test_evaluate.py",
              "tests/test_eval_direction.py", *(f"tests/test_mut_eval_{m}.py" for m in (
                  "classification", "encode", "overlap", "registry", "report", "suites")))
EVAL_MODULES = ("__init__", "colorswap", "crepe", "encode", "eqben", "imagecode", "mmvp", "overlap", "probe",
                "published", "report", "retrieval", "spec", "sugarcrepe_pp", "svo_probes", "vl_checklist", "vl_compo",
                "whatsup", "world", "zeroshot")
for _mod in EVAL_MODULES:
    GROUPS["eval_" + _mod.strip("_")] = Group(_src(f"evaluate/{_mod}.py"), EVAL_TESTS)
# all of them in one workspace: ``--sample N --per-module`` draws each module's sample as its own group would
GROUPS["eval_modules"] = Group(_src(*(f"evaluate/{m}.py" for m in EVAL_MODULES)), EVAL_TESTS)
# issue 31's paths, each with the tests written for it (fast enough to run in minutes, sampled)
GROUPS |= {
    "accumulation": Group(_src("train.py"), ("tests/test_train_paths.py",),
                          ("*ǁTrainerǁ_train_step__mutmut_*", "*ǁTrainerǁ_build_data__mutmut_*",
                           "*ǁTrainConfigǁ__post_init____mutmut_*")),
    "shards": Group(_src("data.py"), ("tests/test_data_paths.py", "tests/test_data.py", "-k", "paths or tar or resampl"),
                    ("*ǁShardDatasetǁ*",)),
    "plant_rerun": Group(_src("plant/engine/sink.py", "plant/engine/runner.py"), ("tests/test_plant_reruns.py",)),
    "guards": Group(_src("plant/lexical/guards.py"), ("tests/test_guards_forms.py", "tests/test_mut_guards.py")),
    # the rewriter and the backend with their focused tests (a module's parses and one planter, in
    # seconds), not tests/test_rewrite.py (minutes per mutant); the word vectors are cached across mutants
    "rewriter": Group(_src("plant/lexical/rewriter.py"), ("tests/test_mut_rewriter.py",), warm_cache=True),
    "lexical_backend": Group(_src("plant/lexical/backend.py", "plant/lexical/__init__.py"),
                             ("tests/test_mut_rewriter.py", "-k", "backend"), warm_cache=True),
    # the routes around the anchor, one module per route (plant/lexical/routes/)
    "routes": Group(_src("plant/lexical/routes/*.py"), ("tests/test_routes.py", "tests/test_route_contrasts.py")),
    "safeload_gpu": Group(_src("safeload.py"), ("tests/test_safeload.py", "tests/test_safeload_more.py",
                                                "tests/test_mut_safeload.py",
                                                "tests/test_train_paths.py", "-k",
                                               "not micro and not copies and not clipping and not accumulation")),
}
# issue 31, second round: the modules of losses/, train.py, data.py, run.py and safeload.py never
# measured, or measured only in part, each small enough to run (sampled) in minutes; a training loop a
# mutant makes endless is stopped at 4x its tests' time (+ 60 s) instead of mutmut's 15x
GROUPS |= {
    # without the two tests that train a model (35 s and 4 s: every mutant in the loss's path would run
    # them); the state's round trip through a checkpoint is tested on its own
    "calibrated": Group(_src("losses/calibrated.py"), ("tests/test_margin_calibrated.py",
                                                       "tests/test_mut_calibrated.py", "-k",
                                                       "not resumed_calibrated_run and not cli_sets"),
                        timeout_multiplier=4),
    "losses_base": Group(_src("losses/base.py"), (*GROUPS["losses"].tests, "tests/test_margin_calibrated.py",
                                                  "tests/test_mut_calibrated.py", "tests/test_mut_losses.py")),
    # train.py outside the groups resume and accumulation (which name their functions)
    "train_rest": Group(_src("train.py"), ("tests/test_train_paths.py", "tests/test_resume_state.py",
                                           "tests/test_resume_parts.py", "tests/test_mut_train.py"),
                        ("*.x_init_distributed__*", "*.x_seed_everything__*", "*.x_param_groups__*",
                         "*.x__ema_teacher__*", "*.x__token_kwargs__*", "*.x__jsonable__*", "*.x_train__mutmut_*",
                         "*ǁDistInfoǁ*", "*ǁTrainerǁ__init____*", "*ǁTrainerǁ_loader__*", "*ǁTrainerǁ_teacher_features__*",
                         "*ǁTrainerǁ_select__*", "*ǁTrainerǁfit__*", "*ǁTrainerǁ_warn__*", "*ǁTrainerǁ_write_*",
                         "*ǁ_Loggerǁ*", "*ǁ_nullcontextǁ*"), timeout_multiplier=4),
    # data.py outside the groups sampler and shards
    "data_rest": Group(_src("data.py"), ("tests/test_data.py", "tests/test_data_paths.py", "tests/test_resume_parts.py",
                                         "tests/test_mut_data.py", "tests/test_wds_plant.py", "-k",
                                         "not split_over_two_processes and (not wds_plant or sidecar)"),
                       ("*.x_*", "*ǁSkipReportǁ*", "*ǁPairDatasetǁ*", "*ǁ_Drawǁ*", "*ǁSidecarǁ*", "*ǁCollateǁ*"),
                       timeout_multiplier=4),
}
GROUPS["accumulation"] = Group(GROUPS["accumulation"].mutate, (*GROUPS["accumulation"].tests, "tests/test_mut_train.py"),
                               GROUPS["accumulation"].functions, timeout_multiplier=4)
GROUPS["shards"] = Group(GROUPS["shards"].mutate, ("tests/test_data_paths.py", "tests/test_data.py",
                                                   "tests/test_mut_data.py", "-k", "paths or tar or resampl or mut"),
                         GROUPS["shards"].functions, timeout_multiplier=4)
# plant/ outside plant/lexical, a few modules at a time (issue 31): the package groups above take minutes
# per mutant where their tests plant whole caption files; these run the fast tests that stand for each part
_PLANT_ENGINE = ("tests/test_plant_reruns.py", "tests/test_sharding.py", "tests/test_wds_plant.py",
                 "tests/test_mut_plant_engine.py", "tests/test_mut_plant_pool.py")
GROUPS |= {
    "route_attribute": Group(_src("plant/lexical/routes/attribute.py"), ("tests/test_route_balance.py",
                                                                          "tests/test_routes.py")),
    "plant_balance": Group(_src("plant/core/balance.py"), ("tests/test_route_balance.py",)),
    "plant_record": Group(_src("plant/core/record.py"), ("tests/test_record.py", "tests/test_llm.py",
                                                          "tests/test_mut_plant_core.py")),
    "plant_verify": Group(_src("plant/core/verify.py"), ("tests/test_kinds.py", "tests/test_llm.py",
                                                          "tests/test_routes.py", "tests/test_mut_plant_core.py")),
    "plant_anchor": Group(_src("plant/core/anchor.py"), ("tests/test_anchor.py", "tests/test_routes.py",
                                                          "tests/test_mut_plant_core.py")),
    "plant_edit": Group(_src("plant/core/edit.py", "plant/core/planter.py", "plant/core/backend.py",
                             "plant/__init__.py"),
                        ("tests/test_routes.py", "tests/test_plausibility.py", "tests/test_rewrite.py",
                         "tests/test_mut_plant_core.py")),
    "plant_engine_local": Group(_src(*(f"plant/engine/{m}.py" for m in (
        "runner", "sink", "source", "stream", "summary", "files", "pool", "__init__"))), _PLANT_ENGINE),
    "plant_ray": Group(_src("plant/engine/ray_engine.py"), ("tests/test_ray.py", "tests/test_plant_reruns.py")),
}
# issue 31, third round (evaluate/; branch m31a): per-module groups, each with the tests that execute the
# module's functions (found with coverage's per-test contexts over EVAL_TESTS), as node ids: the whole
# EVAL_TESTS per mutant is too slow for --in-process; a test file of this round (test_mut_eval_<...>) whole


def _nodes(file: str, *names: str) -> tuple[str, ...]:
    return tuple(f"tests/{file}::{n}" for n in names)


_SUITES = "test_eval_suites.py"
_MISSING = _nodes(_SUITES, "test_every_suite_names_its_missing_files")
_COMPO = _nodes("test_eval_vl_compo.py", "test_eval_compositional_runs_what_is_present_and_notes_the_rest")
M31A = {
    "crepe": (*_nodes("test_eval_reference.py", "test_crepe_pooled_recall_equals_the_official_rank",
                      "test_crepe_pooling_is_not_the_mean_over_complexities"),
              *_nodes(_SUITES, "test_crepe_crops_ranks_and_pools_complexities"), *_MISSING, *_COMPO),
    "svo_probes": (*_nodes("test_eval_reference.py", "test_svo_per_row_and_key_accuracy_equal_the_references"),
                   *_nodes(_SUITES, "test_svo_key_accuracy_by_hand", "test_svo_probes_per_negative_type"),
                   *_MISSING, *_COMPO),
    "vl_checklist": (*_nodes("test_eval_reference.py", "test_vl_checklist_axis_averages_files_then_sources_as_radar"),
                     *_nodes(_SUITES, "test_vl_checklist_keeps_present_images_scores_first_texts_and_averages_by_source"),
                     *_MISSING, *_COMPO),
    "whatsup": (*_nodes("test_eval_reference_pairs.py", "test_whatsup_every_subset_equals_the_official_scores"),
                *_nodes(_SUITES, "test_whatsup_accuracy_pair_and_set_by_hand",
                        "test_whatsup_without_any_file_names_what_is_missing"), *_MISSING, *_COMPO),
    "imagecode": (*_nodes("test_eval_reference_pairs.py", "test_imagecode_equals_the_zero_shot_script"),
                  *_nodes(_SUITES, "test_imagecode_real_valid_file_counts",
                          "test_imagecode_skips_incomplete_sets_and_names_missing_folders",
                          "test_imagecode_sorts_each_set_by_the_number_in_its_file_names"),
                  *_nodes("test_eval_published_counts.py",
                          "test_our_loaders_keep_exactly_the_published_counts_of_the_real_files"),
                  *_nodes("test_eval_vl_compo.py", "test_published_figures_count_the_items_our_loaders_keep"),
                  *_MISSING, *_COMPO),
    "colorswap": (*_nodes("test_eval_reference_pairs.py", "test_winoground_and_colorswap_equal_the_official"),
                  *_nodes(_SUITES, "test_colorswap_scores"), "tests/test_mut_eval_suites.py", *_MISSING, *_COMPO),
    "spec": (*_nodes("test_eval_edges_more.py", "test_spec_a_tie_goes_to_the_earlier_key_as_argmax_does"),
             *_nodes(_SUITES, "test_spec_both_directions_by_hand"), *_MISSING, *_COMPO),
    "sugarcrepe_pp": (*_nodes("test_eval_edges_more.py",
                              "test_sugarcrepe_pp_ties_count_against_the_model_and_the_published_sizes"),
                      *_nodes("test_eval_reference_pairs.py", "test_sugarcrepe_pp_every_clause_counts"),
                      *_nodes(_SUITES, "test_sugarcrepe_pp_itt_and_tot_by_hand"), *_MISSING, *_COMPO),
    "mmvp": (*_nodes("test_eval_edges_more.py", "test_mmvp_an_odd_last_row_is_dropped_and_a_missing_image_named",
                     "test_mmvp_categories_are_blocks_of_15_pairs_and_ties_pick_the_second_image"),
             *_nodes("test_eval_reference_pairs.py", "test_mmvp_equals_evaluate_vlm"),
             *_nodes(_SUITES, "test_mmvp_a_malformed_row_names_file_and_line",
                     "test_mmvp_pairs_categories_and_scores_by_hand"), *_MISSING, *_COMPO),
    "eqben": (*_nodes("test_eval_edges_more.py", "test_eqben_an_absent_subset_is_reported_and_leaves_the_summary_out"),
              *_nodes("test_eval_reference_pairs.py", "test_eqben_every_subset_and_vl_compo_group_equal_the_official"),
              *_nodes(_SUITES, "test_eqben_flattens_the_published_nestings_and_scores_per_subset"), *_MISSING,
              *_COMPO),
    "retrieval": (*_nodes("test_eval_by_hand.py", "test_retrieval_recalls_by_hand"),
                  *_nodes("test_eval_edges_more.py", "test_retrieval_a_caption_shared_by_two_images_and_only_the_test_split"),
                  *_nodes("test_eval_direction.py", "test_aro_visual_genome_by_hand"),
                  *_nodes("test_eval_reference.py", "test_aro_vg_macro_equals_aros"),
                  *_nodes("test_eval_scoring_edges.py", "test_aro_attribute_pairs_need_25_items_and_limit_counts"),
                  *_nodes("test_evaluate.py", "test_benchmarks_run_on_fixtures")),
    "zeroshot": (*_nodes("test_eval_by_hand.py", "test_zeroshot_cifar_top1_top5_by_hand",
                         "test_zeroshot_imagefolder_top1_top5_by_hand", "test_probe_cifar_by_hand",
                         "test_probe_imagefolder_by_hand"),
                 *_nodes("test_eval_edges_more.py", "test_zeroshot_class_weights_accuracy_and_folders_by_hand"),
                 *_nodes("test_evaluate.py", "test_benchmarks_run_on_fixtures"), "tests/test_mut_eval_classification.py"),
    "probe": (*_nodes("test_eval_by_hand.py", "test_probe_cifar_by_hand", "test_probe_coco2014_map_by_hand",
                      "test_probe_imagefolder_by_hand", "test_probe_voc2007_map_by_hand"),
              *_nodes("test_evaluate.py", "test_benchmarks_run_on_fixtures",
                      "test_probe_sweeps_c_over_the_clip_range_and_warns_at_its_edge", "test_voc2007_multilabel_probe"),
              "tests/test_mut_eval_classification.py"),
    "report": (*_nodes("test_eval_vl_compo.py", "test_report_puts_published_figures_and_differences_beside_ours"),
               *_nodes("test_evaluate.py", "test_registry_and_cli"), "tests/test_mut_eval_report.py", *_COMPO),
    "overlap": (*_nodes("test_evaluate.py", "test_overlap_by_coco_id", "test_registry_and_cli"),
                "tests/test_mut_eval_overlap.py"),
    "vl_compo": ("tests/test_eval_vl_compo.py", *_nodes("test_evaluate.py", "test_registry_and_cli"),
                 *_nodes("test_mut_eval_report.py",
                         "test_differences_only_for_numbers_and_the_count_table_only_for_suites_that_ran")),
    "world": (*_nodes("test_eval_by_hand.py", "test_world_probe_fits_each_probe_on_its_features_and_labels",
                      "test_world_retrieval_by_hand", "test_world_sugarcrepe_comp_scores_the_compositional_split"),
              *_nodes("test_eval_direction.py", "test_world_sugarcrepe_and_aro_swaps_by_hand",
                      "test_world_word_order_counts_ties_against_the_model")),
    "published": ("tests/test_eval_published_counts.py", "tests/test_eval_vl_compo.py", "tests/test_mut_eval_report.py",
                  *_nodes("test_evaluate.py", "test_registry_and_cli")),
    # the registry and the encoder are executed by nearly every evaluation test
    "__init__": EVAL_TESTS, "encode": (*EVAL_TESTS, "tests/test_mut_eval_encoder_crops.py"),
}
for _mod in ("svo_probes", "vl_checklist", "whatsup", "colorswap", "spec", "eqben", "zeroshot"):
    M31A[_mod] = (*M31A[_mod], "tests/test_mut_eval_scoring.py")
M31A["probe"] = (*M31A["probe"], "tests/test_mut_eval_probes.py")
M31A["__init__"] = (*M31A["__init__"], "tests/test_mut_eval_run_options.py")
M31A["overlap"] = (*M31A["overlap"], "tests/test_mut_eval_run_options.py")
M31A["world"] = (*M31A["world"], "tests/test_mut_eval_run_options.py")
M31A["published"] = (*M31A["published"], "tests/test_mut_eval_published_format.py")
M31A["report"] = (*M31A["report"], "tests/test_mut_eval_report_incomplete.py")
# published.py's table is read behind an lru_cache: emptied before each mutant (--in-process)
GROUPS |= {f"m31a_{m.strip('_')}": Group(_src(f"evaluate/{m}.py"), tests, clear_caches=m == "published")
           for m, tests in M31A.items()}
#
# issue 31, third round (plant/core, plant/knowledge, plant/backends; branch m31b): per-module groups,
# each with the fast tests that stand for its module (seconds per mutant; never tests/test_rewrite.py),
# the three slow cases of test_relations / test_plausibility (10-15 s each) only where they stand for it
_SLOW_PLANT = "not (input_counts_blend or prefers_replacements_that_fit or records_carry_plausibility)"
_CORE = ("tests/test_mut_plant_core.py", "tests/test_routes.py", "tests/test_kinds.py", "tests/test_llm.py",
         "tests/test_anchor.py", "tests/test_mut_plant_core_more.py",
         "tests/test_route_balance.py::test_the_cap_never_refuses_a_swap")  # the planter's cap and swaps
_KNOW = ("tests/test_mut_plant_knowledge.py", "tests/test_kinds.py", "tests/test_relations.py",
         "tests/test_plausibility.py", "tests/test_routes.py", "tests/test_mut_plant_knowledge_more.py")
_BACK = ("tests/test_llm.py", "tests/test_mut_plant_backends.py", "tests/test_mut_plant_backends_more.py")
GROUPS |= {
    **{f"core_{m}": Group(_src(f"plant/core/{m}.py"), (*_CORE, "-k", _SLOW_PLANT), warm_cache=True)
       for m in ("anchor", "backend", "edit", "planter", "verify")},
    "plant_init": Group(_src("plant/__init__.py"), (*_CORE, "-k", _SLOW_PLANT), warm_cache=True),
    **{f"knowledge_{m}": Group(_src(f"plant/knowledge/{m}.py"), (*_KNOW, "-k", _SLOW_PLANT), warm_cache=True)
       for m in ("context", "kinds", "tables", "vocabulary")},
    # the word vectors' writer: no cache across mutants
    "knowledge_embed": Group(_src("plant/knowledge/embed.py"), (*_KNOW, "-k", _SLOW_PLANT)),
    "knowledge_lmscore": Group(_src("plant/knowledge/lmscore.py"), ("tests/test_llm.py",
                                                                    "tests/test_mut_plant_knowledge_more.py")),
    "knowledge_plausibility": Group(_src("plant/knowledge/plausibility.py"), _KNOW, warm_cache=True),
    "knowledge_relations": Group(_src("plant/knowledge/relations.py"), _KNOW, warm_cache=True),
    **{f"backends_{m}": Group(_src(f"plant/backends/{m}.py"), _BACK, warm_cache=True) for m in ("llm", "swap")},
}
#
# issue 31, third round (plant/engine, plant/output, plant/lexical/routes; branch m31c): per-module groups,
# each with the fast tests that stand for its module (run them ``--in-process``: seconds per mutant); the
# routes' tests fastest first (``-x`` stops a killed mutant at its first failure); no Ray test that starts
# actors (marked slow): ray_engine's in-process parts are tested directly
# (the two that plant 60 and 150 captions, 35 s of a mutant's 65 s, are left out: test_routes.py and
# test_route_balance.py run them whole)
_ROUTE_TESTS = ("tests/test_mut_routes.py", "tests/test_route_contrasts.py", "tests/test_route_balance.py",
                "tests/test_routes.py")
_ROUTE_SKIP = ("-k", "not role_weights_still_steer and not cap_keeps_coverage")
_ENGINE_TESTS = {
    "files": ("tests/test_wds_plant.py", "tests/test_mut_plant_engine2.py", "tests/test_mut_plant_ray.py"),
    "pool": ("tests/test_mut_plant_pool.py", "tests/test_wds_plant.py", "tests/test_mut_plant_engine2.py"),
    # (not test_ray.py's SLURM and skip-record tests: their module fixtures fail at random when one process
    # runs the file many times, "a shard read the whole file")
    "ray_engine": ("tests/test_mut_plant_ray.py", "tests/test_ray.py", "-k", "not slurm and not skip_records"),
    "runner": ("tests/test_mut_plant_engine.py", "tests/test_plant_reruns.py", "tests/test_mut_plant_engine2.py",
               "tests/test_mut_plant_ray.py"),
    "sink": ("tests/test_mut_plant_engine.py", "tests/test_plant_reruns.py", "tests/test_mut_plant_engine2.py"),
    "source": ("tests/test_mut_plant_engine.py", "tests/test_sharding.py", "tests/test_mut_plant_engine2.py"),
    "stream": ("tests/test_mut_plant_engine.py", "tests/test_mut_plant_pool.py", "tests/test_mut_plant_engine2.py"),
    "summary": ("tests/test_mut_plant_engine.py", "tests/test_mut_plant_engine2.py"),
}
GROUPS |= {
    **{f"engine_{m}": Group(_src(f"plant/engine/{m}.py"), tuple(t for t in tests if not t.endswith(".py") or (ROOT / t).exists()))
       for m, tests in _ENGINE_TESTS.items()},
    # the pool against a run of two worker processes (the code only a pool of processes runs)
    "engine_pool_workers": Group(_src("plant/engine/pool.py"), ("tests/test_mut_plant_pool.py",
                                 "tests/test_runner.py::test_shards_partition_and_workers_agree")),
    **{f"output_{m}": Group(_src(f"plant/output/{m}.py"), ("tests/test_mut_plant_output.py", "tests/test_gallery.py",
                                                                      "tests/test_mut_plant_output2.py"))
       for m in ("export", "gallery")},
    **{f"routes_{m.strip('_')}": Group(_src(f"plant/lexical/routes/{m}.py"),
                                       (*(t for t in _ROUTE_TESTS if (ROOT / t).exists()), *_ROUTE_SKIP))
       for m in ("__init__", "attribute", "common", "exchange", "object", "relation")},
}
#
# issue 31, third round (train.py, data.py, losses/; branch m31d): per-module groups
# the losses one module each, against the fast loss tests (seconds: no 2-process gloo run, no trainer, no
# open_clip model but FSC-CLIP's own), safe for --in-process (no loop a mutant can make endless)
_LOSS_FAST = ("tests/test_losses.py", "tests/test_losses_claims.py", "tests/test_losses_simulated_ranks.py",
              "tests/test_loss_methods.py", "tests/test_loss_methods_edges.py", "tests/test_mut_losses.py",
              "tests/test_mut_losses_m31d.py", "tests/test_degla.py")
_LOSS_SKIP = "not gloo and not hugging and not trainer and not interrupted and not hardest and not lowers"
GROUPS |= {
    f"m31d_{m}": Group(_src(f"losses/{m}.py"), (*_LOSS_FAST, *(("tests/test_fsc_local.py",) if m == "fsc_clip" else ()),
                                                "-k", _LOSS_SKIP))
    for m in ("base", "contrastive", "ce_clip", "degla", "fsc_clip", "siglip", "tripletclip", "registry")
}
# train.py's accumulation and train_rest groups with this round's tests (the same functions, so the same
# names and seeded samples); mutmut's normal mode only (a mutant can make the training loop endless)
GROUPS |= {
    f"m31d_{name}": Group(GROUPS[name].mutate, (*GROUPS[name].tests, "tests/test_mut_train_m31d.py",
                                                # test_train.py's fast runs: a step with images, the AdamW
                                                # groups, the log's keys
                                                "tests/test_train.py::test_image_negatives_train",
                                                "tests/test_train.py::test_cosine_schedule_and_param_groups",
                                                "tests/test_train.py::test_a_short_run_logs_what_the_issue_asks",
                                                "tests/test_train.py::test_a_crashed_run_resumes_and_trains_only_the_remaining_steps",
                                                "tests/test_select.py::test_training_with_hardest_of_k_logs_routes_and_bins"),
                          GROUPS[name].functions, timeout_multiplier=4)
    for name in ("accumulation", "train_rest")
}
GROUPS["m31d_shards"] = Group(GROUPS["shards"].mutate, ("tests/test_mut_data_m31d.py", *GROUPS["shards"].tests),
                              GROUPS["shards"].functions, timeout_multiplier=4)
#
COPY = ("src", "tests", "fixtures", "bench", "pyproject.toml", "README.md")  # README: the Methods table's test;
# bench: tests/conftest.py's real captions (bench/corpus.py)
KILLED = {"killed", "timeout", "caught by type check"}


def module_files() -> list[str]:
    """Every module of the package, as a path from the repository root."""
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "src" / "slipform").rglob("*.py"))


def _covers(group: Group, path: str) -> bool:
    from fnmatch import fnmatch

    return any(fnmatch(path, pat) for pat in group.mutate)


def uncovered() -> list[str]:
    """Modules that no group mutates (whole: a group restricted to some functions does not count)."""
    return [f for f in module_files() if not any(_covers(g, f) and not g.functions for g in GROUPS.values())]


def changed_groups(base: str = "main") -> dict[str, Group]:
    """One group per module of src/slipform that ``git diff base`` (commits and working tree) touches,
    with the tests of the group that mutates it whole (the smallest such group)."""
    out = subprocess.run(["git", "diff", "--name-only", base, "--", "src/slipform"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    groups = {}
    for path in sorted(p for p in out if p.endswith(".py") and (ROOT / p).exists()):
        owners = [g for g in GROUPS.values() if _covers(g, path) and not g.functions]
        if not owners:
            raise SystemExit(f"{path} is in no mutation group: add it to bench/mutation.py")
        best = min(owners, key=lambda g: len(g.mutate))
        groups["changed:" + path.removeprefix("src/slipform/")] = Group((path,), best.tests)
    return groups


def wilson(killed: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson interval of a kill rate from a sample, in %."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = killed / n
    centre, half = p + z * z / (2 * n), z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5
    return (100 * (centre - half) / (1 + z * z / n), 100 * (centre + half) / (1 + z * z / n))


def _config(group: Group) -> str:
    def toml_list(items):
        return "[" + ", ".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items) + "]"

    return ("\n[tool.mutmut]\n"
            'source_paths = ["src"]\n'
            f"only_mutate = {toml_list(group.mutate)}\n"
            f"pytest_add_cli_args_test_selection = {toml_list(group.tests)}\n"
            'pytest_add_cli_args = ["-q", "-p", "no:cacheprovider", "-x"]\n'
            'also_copy = ["fixtures", "bench", "README.md"]\n'
            # a mutant's run loads the session fixtures (spaCy, the norms) that the timing run had loaded
            # already: without this margin a slow start would count as a timeout, which mutmut calls a kill
            "timeout_constant = 60\n"
            f"timeout_multiplier = {group.timeout_multiplier}\n"
            # torch is not fork-safe: workers fork from a server that has only imported the tests
            'process_isolation = "forkserver"\n')


def _workspace(name: str, group: Group, workdir: Path) -> Path:
    ws = workdir / name
    if ws.exists():
        shutil.rmtree(ws)
    ws.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for item in COPY:
        src = ROOT / item
        (shutil.copytree(src, ws / item, ignore=ignore) if src.is_dir() else shutil.copy2(src, ws / item))
    with open(ws / "pyproject.toml", "a") as f:
        f.write(_config(group))
    return ws


def _mutmut() -> list[str]:
    exe = Path(sys.executable).with_name("mutmut")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mutmut"]


def _results(ws: Path, env: dict) -> dict[str, str]:
    res = subprocess.run([*_mutmut(), "results", "--all", "true"], cwd=ws, env=env, capture_output=True, text=True)
    status = {}
    for line in res.stdout.splitlines():
        if m := re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line):
            status[m.group(1)] = m.group(2).strip()
    return status


def draw(every: list[str], sample: int, seed: int, per_module: bool = False) -> list[str]:
    """``sample`` of the mutants ``every``, drawn with ``seed``; with ``per_module``, ``sample`` of
    each module's, each module drawn with its own seed ``"seed:module"`` (the same in any group)."""
    if not per_module:
        return sorted(random.Random(seed).sample(every, min(sample, len(every))))
    by_module = collections.defaultdict(list)
    for mutant in sorted(every):
        by_module[module_of(mutant)].append(mutant)
    return sorted(m for module, mutants in by_module.items()
                  for m in random.Random(f"{seed}:{module}").sample(mutants, min(sample, len(mutants))))


def choose(every: list[str], sample: int | None, seed: int, per_module: bool = False,
           mutants: tuple[str, ...] = ()) -> list[str]:
    """The mutants to run: those matching ``mutants`` (mutmut names, ``*`` allowed) if given, else the
    :func:`draw` of ``sample``, else all."""
    from fnmatch import fnmatch

    if mutants:
        return [k for k in every if any(fnmatch(k, p) for p in mutants)]
    return draw(every, sample, seed, per_module) if sample is not None else list(every)


def run_group(name: str, group: Group, workdir: Path, workers: int, report_only: bool = False,
              sample: int | None = None, seed: int = 0, per_module: bool = False,
              mutants: tuple[str, ...] = ()) -> tuple[dict[str, str], int]:
    """``{mutant name: status}`` of one group (mutmut's statuses: killed, survived, no tests, ...) and
    the number of mutants the group has; ``sample``: only that many of them, drawn with ``seed`` (per
    module with ``per_module``); ``mutants``: only these (mutmut names or patterns);
    ``report_only`` reads the results of an earlier (possibly interrupted) run in ``workdir``."""
    from fnmatch import fnmatch

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # mutmut puts its mutated copy first
    env["OMP_NUM_THREADS"] = "1"
    ws = workdir / name.replace("/", "_").replace(":", "_")
    if group.warm_cache:
        env["SLIPFORM_CACHE"] = str(ws / "slipform-cache")
    names = list(mutants) or list(group.functions)
    if not report_only:
        ws = _workspace(ws.name, group, workdir)
        log = ws / "mutmut.log"
        if sample is not None and not mutants:  # generate every mutant (a filter that matches none), then draw the sample
            with open(log, "w") as out:
                subprocess.run([*_mutmut(), "run", "--max-children", str(workers), "no-such-mutant-*"], cwd=ws,
                               env=env, stdout=out, stderr=subprocess.STDOUT)
            every = sorted(k for k in _results(ws, env) if not names or any(fnmatch(k, p) for p in names))
            if not every:
                raise RuntimeError(f"mutmut generated no mutants for {name}; see {log}")
            names = draw(every, sample, seed, per_module)
        with open(log, "a") as out:
            proc = subprocess.run([*_mutmut(), "run", "--max-children", str(workers), *names], cwd=ws,
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            tail = log.read_text()[-3000:]
            raise RuntimeError(f"mutmut run failed for {name} (exit {proc.returncode}); see {log}:\n{tail}")
    status = _results(ws, env)
    total = len([k for k in status if not group.functions or any(fnmatch(k, p) for p in group.functions)])
    if names:
        status = {k: v for k, v in status.items() if any(fnmatch(k, pat) for pat in names)}
    if sample is not None and report_only:  # the sample is the mutants that were checked
        status = {k: v for k, v in status.items() if v != "not checked"}
    return status, total


_IN_PROCESS = r"""
import json, os, signal, sys, time
from pathlib import Path
from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants, setup_source_paths
from mutmut.mutation.trampoline import set_mutant_under_test

mode, names_file, tests, limit = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
clear = json.loads(sys.argv[5]) if len(sys.argv) > 5 else []
if mode == "generate":
    set_mutant_under_test("mutant_generation")
    copy_src_dir(); copy_also_copy_files(); create_mutants(1)
    every = sorted(k for meta in Path("mutants").rglob("*.meta")
                   for k in json.loads(meta.read_text())["exit_code_by_key"])
    Path(names_file).write_text(json.dumps(every))
    raise SystemExit(0)
setup_source_paths()
names = json.loads(Path(names_file).read_text())
os.chdir("mutants")
import pytest

def alarm(*_):
    raise TimeoutError("mutant ran past its limit")

signal.signal(signal.SIGALRM, alarm)
args = ["-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly", *tests]
for name in ["", "fail", *names]:  # a clean run must pass and a forced failure must fail first
    set_mutant_under_test(name)
    for module in filter(None, map(sys.modules.get, clear)):
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
    t0 = time.time()
    signal.alarm(limit)
    try:
        code = int(pytest.main(args))
    except TimeoutError:
        code = 1
    signal.alarm(0)
    if name == "" and code != 0 or name == "fail" and code == 0:
        raise SystemExit(f"the {'clean' if not name else 'forced-fail'} run gave exit code {code}")
    print(f"RESULT {name or '<clean>'} {code} {time.time() - t0:.1f}", flush=True)
"""


def run_in_process(name: str, group: Group, workdir: Path, sample: int | None, seed: int,
                   limit: int = 600, per_module: bool = False, mutants: tuple[str, ...] = ()) -> tuple[dict[str, str], int]:
    """``{mutant: status}`` of a group run in ONE process: mutmut generates the mutants (its mutated
    copy under ``mutants/``, the same names and sample as :func:`run_group`), then pytest runs the group's
    tests once per mutant in that process, so the session's spaCy pipeline, lexicon and vectors (all
    behind ``lru_cache``) load once instead of once per mutant: on a loaded machine the difference
    between minutes and hours. Each mutant runs every test of the group (no per-function selection, so
    no "no tests"); a mutant past ``limit`` seconds counts as killed (mutmut's timeout rule).
    ``per_module`` and ``mutants`` choose the mutants as in :func:`run_group`."""
    import json

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    ws = _workspace(name.replace("/", "_").replace(":", "_"), group, workdir)
    if group.warm_cache:
        env["SLIPFORM_CACHE"] = str(ws / "slipform-cache")
    names_file = ws / "mutants.json"
    tests = list(group.tests)
    # the names first (a dry generation), then the sample, as run_group draws it
    gen = subprocess.run([sys.executable, "-c", _IN_PROCESS, "generate", str(names_file), json.dumps(tests),
                          str(limit)], cwd=ws, env=env, capture_output=True, text=True)
    if gen.returncode != 0:
        raise RuntimeError(f"mutant generation failed for {name}:\n{gen.stderr[-3000:]}")
    every = json.loads(names_file.read_text())
    from fnmatch import fnmatch

    if group.functions:
        every = [k for k in every if any(fnmatch(k, p) for p in group.functions)]
    names = choose(every, sample, seed, per_module, mutants)
    if not names:
        raise RuntimeError(f"no mutant of {name} matches {list(mutants)}")
    run_file = ws / "mutants.run.json"
    run_file.write_text(json.dumps(names))
    status = {}
    with open(ws / "in_process.log", "w") as log:
        clear = [m.removeprefix("src/").removesuffix(".py").replace("/", ".") for m in group.mutate] \
            if group.clear_caches else []
        proc = subprocess.Popen([sys.executable, "-c", _IN_PROCESS, "run", str(run_file), json.dumps(tests), str(limit),
                                 json.dumps(clear)],
                                cwd=ws, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            log.write(line)
            log.flush()
            if line.startswith("RESULT ") and not line.split()[1].startswith("<") and line.split()[1] != "fail":
                _, mutant, code, _ = line.split()
                status[mutant] = "survived" if code == "0" else "killed" if code in ("1", "3") else f"exit {code}"
        proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"in-process run failed for {name}; see {ws / 'in_process.log'}")
    return status, len(every)


def module_of(mutant: str) -> str:
    """``slipform.evaluate.metrics.x_recall_at_k__mutmut_3`` -> ``slipform.evaluate.metrics``."""
    parts = mutant.split(".")
    return ".".join(p for p in parts[:-1])


def show(ws: Path, mutant: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([*_mutmut(), "show", mutant], cwd=ws, env=env, capture_output=True, text=True).stdout


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("groups", nargs="*", help=f"default: all ({', '.join(GROUPS)})")
    p.add_argument("--workers", type=int, default=2, help="mutants tested at once (default 2)")
    p.add_argument("--workdir", default=os.environ.get("TMPDIR", "/tmp") + "/slipform-mutation",
                   help="where each group's copy of the repository goes")
    p.add_argument("--survivors", action="store_true", help="print each surviving mutant's diff")
    p.add_argument("--list", action="store_true", help="print the groups and exit")
    p.add_argument("--report-only", action="store_true",
                   help="print the table of an earlier run in --workdir (an interrupted one: its mutants checked so far)")
    p.add_argument("--changed", nargs="?", const="main", metavar="BASE",
                   help="mutate only the modules `git diff BASE` touches (default main), each with its group's tests")
    p.add_argument("--sample", type=int, help="mutate only this many of each group's mutants, drawn at random")
    p.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    p.add_argument("--per-module", action="store_true", help="--sample N draws N of each module's mutants")
    p.add_argument("--mutants", nargs="+", default=(), metavar="NAME",
                   help="run only these mutants (mutmut names, * allowed), e.g. a sample's survivors again")
    p.add_argument("--uncovered", action="store_true", help="list the modules in no group and exit (1 if any)")
    p.add_argument("--in-process", action="store_true",
                   help="run each mutant's tests in one long-lived process (fixtures load once; every test of the "
                        "group per mutant; for a loaded machine)")
    p.add_argument("--limit", type=int, default=600,
                   help="--in-process: seconds a mutant's tests may run before it counts as killed (default 600)")
    args = p.parse_args(argv)
    if args.uncovered:
        missing = uncovered()
        print("\n".join(missing) or "every module of src/slipform is in a mutation group")
        return 1 if missing else 0
    if args.changed:
        GROUPS.update(changed_groups(args.changed))
        args.groups = [g for g in GROUPS if g.startswith("changed:")]
        if not args.groups:
            print(f"no module of src/slipform differs from {args.changed}")
            return 0
    if args.list:
        for name, g in GROUPS.items():
            print(f"{name}: mutate {', '.join(g.mutate)}" + (f" ({', '.join(g.functions)})" if g.functions else "")
                  + f"\n    tests: {' '.join(g.tests)}")
        return 0
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        p.error(f"unknown group(s) {sorted(unknown)}; choose from {list(GROUPS)}")
    workdir = Path(args.workdir)
    rows, failed = [], False
    for name in args.groups or list(GROUPS):
        t0 = time.perf_counter()
        if args.in_process:
            status, every = run_in_process(name, GROUPS[name], workdir, args.sample, args.seed, args.limit,
                                           args.per_module, tuple(args.mutants))
        else:
            status, every = run_group(name, GROUPS[name], workdir, args.workers, args.report_only, args.sample,
                                      args.seed, args.per_module, tuple(args.mutants))
        sampled = (f"{len(status)} named of {every}" if args.mutants else
                   f"{len(status)} of {every} sampled{' per module' * args.per_module}, seed {args.seed}"
                   if args.sample is not None else "")
        minutes = (time.perf_counter() - t0) / 60
        by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for mutant, st in status.items():
            by_module[module_of(mutant)][st] += 1
        for module, counts in sorted(by_module.items()):
            total = sum(counts.values()) - counts["skipped"] - counts["not checked"]
            killed = sum(counts[s] for s in KILLED)
            rate = killed / total * 100 if total else float("nan")
            failed |= rate < 85
            lo, hi = wilson(killed, total)
            interval = f"{lo:.0f}-{hi:.0f}%" if sampled else ""
            rows.append((name, module, killed, total, rate, counts["survived"], counts["no tests"], minutes,
                         f"{sampled}; 95% {interval}" if sampled else "all"))
            print(f"{name:<8} {module:<32} {killed:>4}/{total:<4} killed  {rate:5.1f}%  "
                  f"(survived {counts['survived']}, no tests {counts['no tests']}"
                  + (f", not checked {counts['not checked']}" if counts["not checked"] else "")
                  + (f"; {sampled}, 95% interval {interval}" if sampled else "")
                  + f"; group {minutes:.1f} min)",
                  flush=True)
        if args.survivors:
            for mutant, st in sorted(status.items()):
                if st not in KILLED and st not in ("skipped", "not checked"):
                    ws = workdir / name.replace("/", "_").replace(":", "_")
                    print(f"--- {st}: {mutant}\n{show(ws, mutant)}")
    print("\n| group | module | killed | mutants | kill rate | survived | no tests | mutants run |")
    print("|---|---|---|---|---|---|---|---|")
    for name, module, killed, total, rate, surv, none, _, how in rows:
        print(f"| {name} | `{module}` | {killed} | {total} | {rate:.1f}% | {surv} | {none} | {how} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
