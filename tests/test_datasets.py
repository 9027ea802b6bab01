"""The real data sets shipped in abteach: checksums, dtypes, and the published aggregates.

Published figures: ../shared/references/published_numbers.md, section "A real experiment:
Kevin Hillstrom's MineThatData e-mail test" (per-arm customers, visitors, purchasers, total
spend and SD of spend; visit and conversion rates from Yasui (2020), *Kouka Kensho Nyumon*,
ch. 1; the pooled t-test of spend, Mens E-Mail vs No E-Mail, t = 5.300090, p = 1.1632e-07, also
Yasui (2020) ch. 1). The ASOS counts come from the data set's description (Liu et al. 2021,
NeurIPS Datasets and Benchmarks; ../shared/data/README.md).
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from abteach import datasets
from abteach.events import EVENT_COLUMNS, EventStore

# arm: customers, visitors, purchasers, total spend ($), SD of spend per customer
PUBLISHED_HILLSTROM = {
    "Mens E-Mail": (21_307, 3_894, 267, 30_311.69, 17.754205),
    "Womens E-Mail": (21_387, 3_238, 189, 23_038.11, 15.116106),
    "No E-Mail": (21_306, 2_262, 122, 13_908.33, 11.588200),
}
PUBLISHED_RATES = {  # visit rate (%), conversion rate (%)
    "Mens E-Mail": (18.28, 1.2531),
    "Womens E-Mail": (15.14, 0.8837),
    "No E-Mail": (10.62, 0.5726),
}


@pytest.fixture(scope="module")
def customers():
    return datasets.hillstrom()


@pytest.fixture(scope="module")
def asos():
    return datasets.asos()


def test_shipped_files_are_the_released_files():
    for data_file in (datasets.HILLSTROM_FILE, datasets.ASOS_FILE):
        raw = datasets.read_verified(data_file)
        assert len(raw) == data_file.size
        assert hashlib.sha256(raw).hexdigest() == data_file.sha256


def test_a_file_that_does_not_match_its_checksum_is_refused():
    tampered = dataclasses.replace(datasets.HILLSTROM_FILE, sha256="0" * 64)
    with pytest.raises(datasets.ChecksumError, match="hillstrom.csv does not match the released"):
        datasets.read_verified(tampered)


def test_corrupted_bytes_are_refused(monkeypatch):
    import lzma

    real = lzma.decompress

    def flip_one_byte(data):
        raw = bytearray(real(data))
        raw[100] ^= 1
        return bytes(raw)

    monkeypatch.setattr(lzma, "decompress", flip_one_byte)
    with pytest.raises(datasets.ChecksumError, match="SHA-256"):
        datasets.hillstrom()


def test_hillstrom_columns_and_dtypes(customers):
    assert list(customers.columns) == [
        "customer", "segment", "recency", "history", "history_segment", "mens", "womens",
        "zip_code", "newbie", "channel", "visit", "conversion", "spend",
    ]
    assert len(customers) == 64_000
    assert customers["customer"].is_unique
    for column in ("recency", "mens", "womens", "newbie", "visit", "conversion"):
        assert customers[column].dtype == np.int8, column
    for column in ("history", "spend"):
        assert customers[column].dtype == np.float64, column
    assert list(customers["segment"].cat.categories) == ["No E-Mail", "Mens E-Mail", "Womens E-Mail"]
    assert customers["history_segment"].cat.ordered
    # the file's "Surburban" is corrected; counts per class are the file's
    assert customers["zip_code"].value_counts().to_dict() == {
        "Suburban": 28_776, "Urban": 25_661, "Rural": 9_563}
    assert customers.notna().all().all()


def test_hillstrom_reproduces_the_published_aggregates(customers):
    by_arm = customers.groupby("segment", observed=True)
    for arm, (n, visitors, buyers, revenue, sd) in PUBLISHED_HILLSTROM.items():
        rows = customers[customers["segment"] == arm]
        assert len(rows) == n
        assert rows["visit"].sum() == visitors
        assert rows["conversion"].sum() == buyers
        assert rows["spend"].sum() == pytest.approx(revenue, abs=0.005)
        assert rows["spend"].std(ddof=1) == pytest.approx(sd, abs=5e-7)
        visit_rate, conversion_rate = PUBLISHED_RATES[arm]
        assert round(100 * by_arm["visit"].mean()[arm], 2) == visit_rate
        assert round(100 * by_arm["conversion"].mean()[arm], 4) == conversion_rate
    # every purchase has a positive spend and follows a visit
    assert ((customers["spend"] > 0) == (customers["conversion"] == 1)).all()
    assert (customers["conversion"] <= customers["visit"]).all()


def test_hillstrom_pooled_t_test_matches_yasui(customers):
    mens = customers.loc[customers["segment"] == "Mens E-Mail", "spend"]
    none = customers.loc[customers["segment"] == "No E-Mail", "spend"]
    result = stats.ttest_ind(mens, none, equal_var=True)
    assert result.statistic == pytest.approx(5.300090, abs=5e-7)
    assert result.pvalue == pytest.approx(1.1632e-07, rel=5e-4)


def test_asos_shape_and_flags(asos):
    assert len(asos) == 24_153
    assert asos["experiment_id"].nunique() == 78
    assert asos.groupby(["experiment_id", "variant_id"]).ngroups == 99
    assert asos.groupby(["experiment_id", "variant_id", "metric_id"]).ngroups == 396
    assert sorted(asos["metric_id"].unique()) == [1, 2, 3, 4]
    # rows with an empty field are flagged, not dropped: both variances empty in 261 rows of
    # metric 2, 261 of metric 3 and 256 of metric 4 (the data set's description), and the
    # treatment variance alone in one more row of metric 4
    incomplete = asos[~asos["complete"]]
    both = asos["variance_c"].isna() & asos["variance_t"].isna()
    assert asos[both].groupby("metric_id").size().to_dict() == {2: 261, 3: 261, 4: 256}
    assert len(incomplete) == 779
    assert (incomplete.index == asos.index[asos.isna().any(axis=1)]).all()
    assert asos[["count_c", "count_t", "mean_c", "mean_t"]].notna().all().all()


def test_asos_values_behave_as_the_description_says(asos):
    # checkpoints every half day
    assert ((asos["time_since_start"] * 2) % 1 == 0).all()
    assert asos["time_since_start"].min() == 0.5
    # metric 1 is binary: its variance is mean (1 - mean) to rounding
    binary = asos[asos["metric_id"] == 1]
    for arm in ("c", "t"):
        mean = binary[f"mean_{arm}"]
        assert np.allclose(binary[f"variance_{arm}"], mean * (1 - mean), atol=1e-6)
    # counts are cumulative: the control count never decreases within a stream; the treatment
    # count falls once in two experiment-variant pairs, all four metrics alike (the anomaly the
    # loader's docstring reports)
    stream = ["experiment_id", "variant_id", "metric_id"]
    ordered = asos.sort_values([*stream, "time_since_start"])
    assert (ordered.groupby(stream)["count_c"].diff().dropna() >= 0).all()
    falls = ordered[ordered.groupby(stream)["count_t"].diff() < 0]
    assert sorted(falls.groupby(stream).size().index) == [
        ("4db6c7", 2, m) for m in (1, 2, 3, 4)] + [("b3280a", 1, m) for m in (1, 2, 3, 4)]
    assert (falls.groupby(stream).size() == 1).all()
    assert "4db6c7" in datasets.asos.__doc__ and "b3280a" in datasets.asos.__doc__
    # the one checkpoint without units: experiment 64dc88's first (day 3), as the docstring says
    empty = asos[(asos["count_c"] == 0) | (asos["count_t"] == 0)]
    assert set(empty["experiment_id"]) == {"64dc88"} and set(empty["time_since_start"]) == {3.0}
    assert len(empty) == 8 and (empty[["count_c", "count_t"]] == 0).all().all()
    assert asos.loc[asos["experiment_id"] == "64dc88", "time_since_start"].min() == 3.0
    assert "64dc88" in datasets.asos.__doc__


def test_hillstrom_event_log_feeds_the_event_store(customers):
    events = datasets.hillstrom_events("Womens E-Mail", experiment="hs")
    assert list(events.columns) == list(EVENT_COLUMNS)
    with EventStore() as store:
        result = store.ingest(events)
        assert result.quarantined == 0 and result.duplicates == 0
        arms = store.metrics("arms").set_index("variant")
    raw = customers[customers["segment"].isin(["No E-Mail", "Womens E-Mail"])]
    raw = raw.assign(variant=np.where(raw["segment"] == "Womens E-Mail", "treatment", "control"))
    expected = raw.groupby("variant").agg(
        users=("customer", "size"), converters=("conversion", "sum"),
        revenue_per_user=("spend", "mean"), revenue_variance=("spend", "var"),
    )
    for column in expected.columns:
        assert np.allclose(arms[column].astype(float), expected[column].astype(float)), column


@pytest.mark.parametrize("arm", ["No E-Mail", "mens", None, 3])
def test_hillstrom_events_refuses_a_bad_arm(arm):
    with pytest.raises(ValueError, match="arm must be one of 'Mens E-Mail', 'Womens E-Mail'"):
        datasets.hillstrom_events(arm)


@pytest.mark.parametrize("experiment", ["", "  ", None, 7])
def test_hillstrom_events_refuses_a_bad_experiment_name(experiment):
    with pytest.raises(ValueError, match="experiment must be a non-empty string"):
        datasets.hillstrom_events(experiment=experiment)


def test_loaders_return_fresh_frames(customers):
    first = datasets.hillstrom()
    first.loc[0, "spend"] = -1.0
    assert datasets.hillstrom().loc[0, "spend"] >= 0
    assert isinstance(first, pd.DataFrame)
