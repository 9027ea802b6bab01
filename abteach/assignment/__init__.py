"""Assigning units to variants: salted hashing, GrowthBook-compatible bucketing, stratified
randomization, and the checks that show an assignment works (uniformity, independence, A/A).

Why hash instead of drawing at random? An online experiment must give a user the same variant
on every page view, on every server and after every deploy, without a lookup table of past
draws. A deterministic function of ``(experiment key, unit id)`` does that: every server
computes the same answer independently. Two tempting shortcuts fail:

* ``random.random()`` (or any generator) draws a fresh value per call, so the same user flips
  between variants unless every draw is stored and looked up; one global seed would also tie
  all experiments to the same sequence of draws.
* Python's built-in ``hash()`` of a string is salted per process (``PYTHONHASHSEED``, on by
  default since Python 3.3 as a defense against hash flooding), so two servers, or two runs
  of the same notebook, disagree about the same id.

Salting the hash with the experiment key makes different experiments independent of each
other; reusing a salt reproduces the previous split exactly, carrying over whatever the last
experiment did to its treatment group (the carry-over effect of Kohavi et al., 2012).

The hashing follows the open-source GrowthBook SDK specification, so learners can check
their own implementation against its published test cases. Hashes are computed over the
UTF-8 bytes of the strings (as the GrowthBook Rust and Elixir SDKs do); for ASCII ids every
SDK agrees, while the JavaScript SDK (UTF-16 code units) and the Python SDK (code points)
give other buckets for ids with non-ASCII characters.

=============================  ================================================================
module                         contents
=============================  ================================================================
:mod:`.hashing`                FNV-1a, SHA-256, GrowthBook's hash, bucket ranges, namespaces,
                               :func:`assign`, :func:`assign_many` (sections 3.2, 3.3, 3.5)
:mod:`.checks`                 uniformity of the buckets, independence of two experiments
                               (sections 3.4, 3.5)
:mod:`.stratified`             stratified (blocked) randomization (section 3.6)
:mod:`.aa`                     A/A tests, one split or many (section 3.6)
=============================  ================================================================

References
----------
Fowler, G., Noll, L. C. & Vo, K.-P., FNV hash; reference page and test vectors by
L. C. Noll, http://www.isthe.com/chongo/tech/comp/fnv/ .
GrowthBook SDK specification, "Build your own SDK" (docs.growthbook.io) and its test cases,
``packages/sdk-js/test/cases.json`` in the growthbook/growthbook repository.
Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
ch. 4 (experimentation platform), 19 (A/A tests), 21 (sample ratio mismatch).
Kohavi, R., Deng, A., Frasca, B., Longbotham, R., Walker, T. & Xu, Y. (2012),
Trustworthy online controlled experiments: five puzzling outcomes explained, KDD.
"""

from abteach.assignment._checks import HASH_LEVELS, WEIGHT_TOLERANCE
from abteach.assignment.aa import AATest, aa_test, simulate_aa
from abteach.assignment.checks import (
    IndependenceTest,
    UniformityTest,
    bucket_uniformity,
    independence_test,
)
from abteach.assignment.hashing import (
    FNV_OFFSET_BASIS,
    FNV_PRIME,
    MAX_UNIT_IDS,
    assign,
    assign_many,
    bucket_ranges,
    choose_variation,
    fnv1a32,
    growthbook_hash,
    in_namespace,
    make_unit_ids,
    sha256_unit,
)
from abteach.assignment.stratified import stratified_assignment

__all__ = [
    "FNV_OFFSET_BASIS",
    "FNV_PRIME",
    "HASH_LEVELS",
    "MAX_UNIT_IDS",
    "WEIGHT_TOLERANCE",
    "AATest",
    "IndependenceTest",
    "UniformityTest",
    "aa_test",
    "assign",
    "assign_many",
    "bucket_ranges",
    "bucket_uniformity",
    "choose_variation",
    "fnv1a32",
    "growthbook_hash",
    "in_namespace",
    "independence_test",
    "make_unit_ids",
    "sha256_unit",
    "simulate_aa",
    "stratified_assignment",
]
