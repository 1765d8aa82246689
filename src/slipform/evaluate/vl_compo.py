"""vl_compo's aggregate conventions: how its tables turn subsets into one number per suite.

vl_compo (github.com/ytaek-oh/vl_compo; Oh et al., 2024, arXiv:2406.09388) re-evaluated 202
checkpoints on 12 compositional suites and published the tables, not the code. The rules below
are read off the tables: for every one of the 202 rows, the suite column of ``results.csv``
follows from the subset columns of ``individual_results.csv`` by the rule given here to within
1e-8 (``tests/test_eval_vl_compo.py`` checks it on the shipped copy).

================  ===============================================================================
suite             suite value from its subsets
================  ===============================================================================
aro               mean of VG-Relation, VG-Attribution (macro, as ARO), COCO- and Flickr-Order
colorswap         group score
crepe             mean of the atom, swap and negate Recall@1, each over all complexities pooled
eqben             mean group score over AG, YouCook2, GEBC, Kubric (mean of loc/attr/cnt), SD
imagecode         accuracy over all valid descriptions (1,872 video + 430 static, pooled)
mmvp_vlm          mean group score over the 9 categories
sugarcrepe        mean over replace / swap / add of each category's pooled accuracy (items of
                  its subsets together), not the mean of the 7 subsets
svo_probes        mean of the subject, verb and object negative per-row pairwise accuracies
valse             mean over 7 phenomena (existence, plurality, counting, relations, actions,
                  coreference, foil-it) of the mean of their instruments; validated samples only
vl_checklist      mean of Object, Attribute, Relation, each the mean of its axes (6, 5, 2)
whatsup           mean accuracy of the 6 subsets (Controlled A/B, COCO-QA 1/2, VG-QA 1/2)
winoground        group score
================  ===============================================================================

``comp_avg`` is the plain mean of the 12 suite values; ``i2t_avg`` / ``t2i_avg`` the means of
COCO and Flickr30k R@1 (``coco_i2t`` ... are R@1). :func:`summary` applies these rules to our
results. A suite gets a value only when its run compares with the published one
(:func:`gaps`): every subset present, no ``--limit``, each subset scored over the item count the
published figures are whole counts of (:data:`~slipform.evaluate.published.PUBLISHED_COUNTS`,
derived from the tables), and no corpus file, image set or image left out where the suite reports
one. Otherwise it goes under ``incomplete`` with what is missing. ``comp_avg`` needs all 12
(else ``comp_avg_present`` over the suites we have, named as such because it does not compare
with the published one).
"""

from __future__ import annotations

from statistics import mean

from . import VL_COMPO_SUITES
from .mmvp import CATEGORIES, slug
from .published import PUBLISHED_COUNTS, published_count

_SAME = lambda names: {n: n for n in names}  # noqa: E731
_WINO = {"text": "text_score", "image": "image_score", "group": "group_score"}
EQBEN = ("eqbenyoucook2", "eqbengebc", "eqbenag", "eqbenkubric_loc", "eqbenkubric_cnt", "eqbenkubric_attr", "eqbensd")
SUGARCREPE = {"replace": ("replace_obj", "replace_att", "replace_rel"), "swap": ("swap_obj", "swap_att"),
              "add": ("add_obj", "add_att")}
# the published subset sizes these pooled rules weigh by (when our results do not carry counts)
SUGARCREPE_SIZES = {"add_att": 692, "add_obj": 2062, "replace_att": 788, "replace_obj": 1652, "replace_rel": 1406,
                    "swap_att": 666, "swap_obj": 245}
IMAGECODE_VALID = {"videos": 1872, "static": 430}
VALSE_PHENOMENA = {"existence": ("existence",), "plurality": ("plurals",),
                   "counting": ("counting-hard", "counting-small-quant", "counting-adversarial"),
                   "relations": ("relations",), "actions": ("action-replacement", "actant-swap"),
                   "coreference": ("coreference-standard", "coreference-hard"), "foil-it": ("foil-it",)}
VL_CHECKLIST = {"Object": ("Location_center", "Location_margin", "Location_mid", "Size_large", "Size_medium",
                           "Size_small"),
                "Attribute": ("action", "color", "material", "size", "state"), "Relation": ("action", "spatial")}

# suite -> {vl_compo subset column: our metric key in that benchmark's results}
SUBSETS: dict[str, dict[str, str]] = {
    "aro": {"VG_Relation": "vg_relation_macro", "VG_Attribute": "vg_attribution_macro",
            "Flickr30k_Order": "flickr30k_order_precision@1", "COCO_Order": "coco_order_precision@1"},
    "colorswap": _WINO,
    "crepe": _SAME(("atom", "swap", "negate")),
    "eqben": {f"{s}::{k}": f"{s}_{k}" for s in EQBEN for k in ("text", "image", "group")},
    "imagecode": {"videos": "video_accuracy", "static": "static_accuracy"},
    "mmvp_vlm": {f"{c}::{k}": f"{slug(c)}_{k}" for c in CATEGORIES for k in ("text", "image", "group")},
    "sugarcrepe": _SAME(SUGARCREPE_SIZES),
    "svo_probes": _SAME(("subj_neg", "verb_neg", "obj_neg")),
    "valse": _SAME(i for ins in VALSE_PHENOMENA.values() for i in ins),
    "vl_checklist": _SAME(f"{f}_{a}" for f, axes in VL_CHECKLIST.items() for a in axes),
    "whatsup": {"WhatsUp_A": "controlled_a", "WhatsUp_B": "controlled_b", "COCO_QA_ONE": "coco_qa_one",
                "COCO_QA_TWO": "coco_qa_two", "VG_QA_ONE": "vg_qa_one", "VG_QA_TWO": "vg_qa_two"},
    "winoground": _WINO,
}
# suite -> {vl_compo subset column: our key for the items that subset was scored over}
COUNTS: dict[str, dict[str, str]] = {
    "aro": {"COCO_Order": "coco_order_n", "Flickr30k_Order": "flickr30k_order_n"},
    "colorswap": {k: "n" for k in _WINO},
    "crepe": {t: f"{t}_n" for t in ("atom", "swap", "negate")},
    "eqben": {f"{s}::{k}": f"{s}_n" for s in EQBEN for k in _WINO},
    "imagecode": {"videos": "n_video", "static": "n_static"},
    "mmvp_vlm": {f"{c}::{k}": f"{slug(c)}_n" for c in CATEGORIES for k in _WINO},
    "sugarcrepe": {k: f"{k}_n" for k in SUGARCREPE_SIZES},
    "svo_probes": {t: f"{t}_n" for t in ("subj_neg", "verb_neg", "obj_neg")},
    "valse": {i: f"{i}_n" for ins in VALSE_PHENOMENA.values() for i in ins},
    "whatsup": {col: f"{ours}_n" for col, ours in SUBSETS["whatsup"].items()},
    "winoground": {k: "n" for k in _WINO},
}
# a suite's own report of what it left out: (our key, what it means)
LEFT_OUT = {"vl_checklist": (("missing_files", "corpus files missing"),
                             ("short_files", "files scored without some of their images")),
            "imagecode": (("skipped_sets", "image sets without their 10 images"),)}
RETRIEVAL = {"coco_i2t": ("retrieval_coco", "image_to_text_R@1"), "coco_t2i": ("retrieval_coco", "text_to_image_R@1"),
             "flickr_i2t": ("retrieval_flickr30k", "image_to_text_R@1"),
             "flickr_t2i": ("retrieval_flickr30k", "text_to_image_R@1")}


def aggregate(suite: str, subsets: dict[str, float], counts: dict[str, int] | None = None) -> float:
    """A suite's value from its subsets (keys as vl_compo's columns, ``SUBSETS[suite]``).

    ``counts`` weigh the pooled rules (SugarCrepe's subsets, ImageCoDe's video/static); the
    published sizes are used where it is not given. Raises KeyError for a missing subset.
    """
    s = subsets
    if suite in ("aro", "crepe", "svo_probes", "whatsup"):
        return mean(s[k] for k in SUBSETS[suite])
    if suite in ("colorswap", "winoground"):
        return s["group"]
    if suite == "mmvp_vlm":
        return mean(s[f"{c}::group"] for c in CATEGORIES)
    if suite == "eqben":
        kubric = mean(s[f"eqbenkubric_{k}::group"] for k in ("loc", "cnt", "attr"))
        return mean([s["eqbenag::group"], s["eqbenyoucook2::group"], s["eqbengebc::group"], kubric, s["eqbensd::group"]])
    if suite == "imagecode":
        n = counts or IMAGECODE_VALID
        return (s["videos"] * n["videos"] + s["static"] * n["static"]) / (n["videos"] + n["static"])
    if suite == "sugarcrepe":
        n = counts or SUGARCREPE_SIZES
        return mean(sum(s[k] * n[k] for k in ks) / sum(n[k] for k in ks) for ks in SUGARCREPE.values())
    if suite == "valse":
        return mean(mean(s[i] for i in ins) for ins in VALSE_PHENOMENA.values())
    if suite == "vl_checklist":
        return mean(mean(s[f"{f}_{a}"] for a in axes) for f, axes in VL_CHECKLIST.items())
    raise KeyError(f"not a vl_compo suite: {suite!r}")


def _counts(suite: str, metrics: dict) -> dict[str, int] | None:
    if suite == "sugarcrepe" and all(f"{k}_n" in metrics for k in SUGARCREPE_SIZES):
        return {k: metrics[f"{k}_n"] for k in SUGARCREPE_SIZES}
    if suite == "imagecode" and {"n_video", "n_static"} <= set(metrics):
        return {"videos": metrics["n_video"], "static": metrics["n_static"]}
    return None


def subsets_of(suite: str, metrics: dict) -> dict[str, float]:
    """Our results for a suite, keyed by vl_compo's subset columns (those we have)."""
    return {col: metrics[key] for col, key in SUBSETS[suite].items() if isinstance(metrics.get(key), (int, float))}


def _label(suite: str, column: str) -> str:
    """A count's name: text/image/group columns share their subset's (or the suite's) count."""
    if column in _WINO:
        return suite
    return column.rsplit("::", 1)[0] if column.endswith(("::text", "::image", "::group")) else column


def item_counts(suite: str, metrics: dict, published=None) -> list[tuple[str, object, object]]:
    """``(subset, our item count, published item count)`` per count of a suite (text/image/group
    columns share one): ours from ``metrics`` (None when not reported), the published one from
    ``published``'s row, or every count the tables show when no row is given."""
    rows, seen = [], set()
    for column, n_key in COUNTS.get(suite, {}).items():
        label = _label(suite, column)
        if label in seen:
            continue
        seen.add(label)
        theirs = (published_count(published, suite, column) if published is not None
                  else "/".join(map(str, PUBLISHED_COUNTS[suite][column])))
        rows.append((label, metrics.get(n_key), theirs))
    return rows


def gaps(suite: str, metrics: dict, published=None) -> list[str]:
    """Why a suite's run does not compare with vl_compo's (empty when it does): missing subsets, a
    ``--limit``, item counts other than the published ones, what the suite reports left out."""
    problems = [f"missing {col}" for col, key in SUBSETS[suite].items()
                if not isinstance(metrics.get(key), (int, float))]
    if metrics.get("limit"):
        problems.append(f"run with --limit {metrics['limit']}")
    for label, ours, theirs in item_counts(suite, metrics, published):
        allowed = {theirs} if published is not None else set(PUBLISHED_COUNTS[suite][_first(suite, label)])
        if ours is None:
            problems.append(f"{label}: no item count")
        elif ours not in allowed:
            problems.append(f"{label}: {ours} items, published {theirs}")
    for key, what in LEFT_OUT.get(suite, ()):
        if metrics.get(key):
            first = metrics.get("missing_first") if key == "missing_files" else None
            problems.append(f"{metrics[key]} {what}" + (f" (first: {first})" if first else ""))
    return problems


def _first(suite: str, label: str) -> str:
    return next(c for c in COUNTS[suite] if _label(suite, c) == label)


def summary(results: dict, published=None) -> dict:
    """vl_compo's suite values, ``comp_avg`` and retrieval averages from :func:`slipform.evaluate.run`'s results.

    A suite that ran but does not compare with the published run (:func:`gaps`; item counts
    against ``published``'s row when given) is reported under ``incomplete``, with what is
    missing, instead of a value.
    """
    out, incomplete = {}, {}
    for suite in VL_COMPO_SUITES:
        metrics = results.get(suite)
        if not isinstance(metrics, dict) or "error" in metrics:
            continue
        problems = gaps(suite, metrics, published)
        if problems:
            incomplete[suite] = "; ".join(problems)
            continue
        out[suite] = aggregate(suite, subsets_of(suite, metrics), _counts(suite, metrics))
    suites = [s for s in VL_COMPO_SUITES if s in out]
    if len(suites) == len(VL_COMPO_SUITES):
        out["comp_avg"] = mean(out[s] for s in suites)
    elif suites:
        out["comp_avg_present"], out["suites_present"] = mean(out[s] for s in suites), len(suites)
    for key, (bench, metric) in RETRIEVAL.items():
        value = (results.get(bench) or {}).get(metric)
        if isinstance(value, (int, float)):
            out[key] = value
    for avg, (a, b) in (("i2t_avg", ("coco_i2t", "flickr_i2t")), ("t2i_avg", ("coco_t2i", "flickr_t2i"))):
        if a in out and b in out:
            out[avg] = (out[a] + out[b]) / 2
    if incomplete:
        out["incomplete"] = incomplete
    return out
