"""Two real experiments, shipped with the package and loaded offline.

The files are the ones their authors released, byte for byte, compressed with xz. Every load
decompresses the file and checks its SHA-256 against the value recorded for the released file,
so an analysis in the course always runs on the real data and nothing is downloaded.

* :func:`hillstrom`: Kevin Hillstrom's MineThatData e-mail test (2008), one row per customer.
* :func:`asos`: the ASOS Digital Experiments Dataset (Liu et al., 2021), cumulative per-arm
  summary statistics of 78 experiments at half-day checkpoints.
* :func:`hillstrom_events`: the Hillstrom customers of two arms as an event log for
  :class:`abteach.EventStore`, so that chapter 4's metric SQL runs on real rows.
"""

from __future__ import annotations

import hashlib
import lzma
from dataclasses import dataclass
from importlib import resources

import numpy as np

from abteach._validate import check_choice


@dataclass(frozen=True)
class DataFile:
    """A released data file shipped in the package: its name, checksum and source."""

    name: str
    sha256: str
    size: int
    source: str
    licence: str


HILLSTROM_FILE = DataFile(
    name="hillstrom.csv",
    sha256="0e5893329d8b93cefecc571777672028290ab69865718020c78c7284f291aece",
    size=3_964_977,
    source=(
        "Hillstrom, K. (2008), The MineThatData E-Mail Analytics And Data Mining Challenge, "
        "MineThatData blog"
    ),
    licence="released publicly by the author for analysis, redistributed with attribution",
)
ASOS_FILE = DataFile(
    name="asos_digital_experiments_dataset.csv",
    sha256="aa0cc3f8304fac545f232ec0bc363373f932919f6e72e28908958bc10651ce22",
    size=2_737_991,
    source=(
        "Liu, C. H. B., Cardoso, A., Couturier, P. & McCoy, E. J. (2021), Datasets for Online "
        "Controlled Experiments, NeurIPS 2021 Datasets and Benchmarks track (arXiv:2111.10198); "
        "data: Open Science Framework, osf.io/64jsb"
    ),
    licence="CC BY 4.0 (the licence of the OSF project osf.io/64jsb)",
)

#: The three arms of the Hillstrom test, control first.
HILLSTROM_ARMS = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
#: The file spells the suburban zip-code class "Surburban"; the loader corrects it.
ZIP_CODES = ("Urban", "Suburban", "Rural")
CHANNELS = ("Phone", "Web", "Multichannel")
HISTORY_SEGMENTS = (
    "1) $0 - $100", "2) $100 - $200", "3) $200 - $350", "4) $350 - $500",
    "5) $500 - $750", "6) $750 - $1,000", "7) $1,000 +",
)
#: When the Hillstrom e-mails were sent is not in the file; the event log places every
#: customer's exposure at this instant (UTC) and the visit and purchase after it.
HILLSTROM_SEND_TIME = np.datetime64("2008-03-01T09:00:00")


class ChecksumError(ValueError):
    """A shipped data file does not match the checksum of the released file."""


def read_verified(data_file: DataFile) -> bytes:
    """The bytes of a shipped data file, after checking size and SHA-256 against the release."""
    packed = resources.files(__package__).joinpath(data_file.name + ".xz").read_bytes()
    raw = lzma.decompress(packed)
    digest = hashlib.sha256(raw).hexdigest()
    if len(raw) != data_file.size or digest != data_file.sha256:
        raise ChecksumError(
            f"{data_file.name} does not match the released file (size {len(raw):,} bytes, "
            f"SHA-256 {digest}; expected {data_file.size:,} bytes, {data_file.sha256}); "
            "reinstall abteach"
        )
    return raw


def _read_csv(data_file: DataFile, **options):
    import io

    import pandas as pd

    return pd.read_csv(io.BytesIO(read_verified(data_file)), **options)


def hillstrom():
    """The MineThatData e-mail experiment, one row per customer (64,000 rows).

    In 2008 Kevin Hillstrom's e-mail test split 64,000 customers who had bought in the last
    12 months at random into three arms: a men's merchandise e-mail, a women's merchandise
    e-mail, or no e-mail; the outcomes were measured over the two weeks after the send.

    Returns
    -------
    pandas.DataFrame
        ``customer`` (int32, 0-63,999: the row of the file), ``segment`` (the arm, categorical:
        "No E-Mail", "Mens E-Mail", "Womens E-Mail"), and

        * pre-experiment covariates: ``recency`` (int8, months since the last purchase),
          ``history`` (float64, dollars spent in the past year), ``history_segment``
          (ordered categorical band of ``history``), ``mens`` and ``womens`` (int8 0/1: bought
          that merchandise in the past year), ``zip_code`` (categorical "Urban", "Suburban",
          "Rural"; the file spells it "Surburban"), ``newbie`` (int8 0/1: new customer in the
          past 12 months), ``channel`` (categorical "Phone", "Web", "Multichannel");
        * outcomes over two weeks: ``visit`` and ``conversion`` (int8 0/1) and ``spend``
          (float64, dollars; 0 for a customer who did not buy).

    Notes
    -----
    Source: Hillstrom, K. (2008), *The MineThatData E-Mail Analytics And Data Mining
    Challenge*, MineThatData blog; released publicly by the author and redistributed with
    attribution (scikit-uplift, causalml; Yasui (2020), *Kouka Kensho Nyumon*, ch. 1). The
    shipped file is the released one (SHA-256 ``0e589332...``), checked at every load.

    Examples
    --------
    >>> customers = hillstrom()
    >>> customers.groupby("segment", observed=True)["conversion"].sum().to_dict()
    {'No E-Mail': 122, 'Mens E-Mail': 267, 'Womens E-Mail': 189}
    """
    import pandas as pd

    frame = _read_csv(
        HILLSTROM_FILE,
        dtype={"recency": "int8", "history": "float64", "mens": "int8", "womens": "int8",
               "newbie": "int8", "visit": "int8", "conversion": "int8", "spend": "float64"},
    )
    frame["zip_code"] = frame["zip_code"].replace({"Surburban": "Suburban"})
    categories = {
        "segment": (HILLSTROM_ARMS, False),
        "zip_code": (ZIP_CODES, False),
        "channel": (CHANNELS, False),
        "history_segment": (HISTORY_SEGMENTS, True),
    }
    for column, (levels, ordered) in categories.items():
        frame[column] = pd.Categorical(frame[column], categories=levels, ordered=ordered)
        if frame[column].isna().any():
            raise ChecksumError(f"{column} holds a value outside {levels}")
    frame.insert(0, "customer", np.arange(len(frame), dtype=np.int32))
    columns = ["customer", "segment", "recency", "history", "history_segment", "mens",
               "womens", "zip_code", "newbie", "channel", "visit", "conversion", "spend"]
    return frame[columns]


def asos():
    """The ASOS Digital Experiments Dataset: 78 real experiments, 24,153 checkpoints.

    Each row is one checkpoint of one metric in one experiment-variant pair (a treatment
    variant against the shared control), with the **cumulative** summary statistics of both
    arms from the start of the experiment to ``time_since_start``.

    Returns
    -------
    pandas.DataFrame
        ``experiment_id`` (str), ``variant_id`` (int8: the treatment variant), ``metric_id``
        (int8, 1-4: metric 1 is binary, its variance equals mean (1 - mean); metrics 2-4 are
        continuous; the publisher anonymized their meanings), ``time_since_start`` (float64,
        days, in steps of 0.5: the file's binary rounding such as 1.5000000000000002 is
        rounded to the half day), ``count_c``, ``count_t`` (int64, units so far), ``mean_c``,
        ``mean_t``, ``variance_c``, ``variance_t`` (float64) and ``complete`` (bool).

    Notes
    -----
    **Empty fields are kept and flagged, never dropped.** In the released file 779 rows have an
    empty variance: both arms' variance in 261 rows of metric 2, 261 of metric 3 and 256 of
    metric 4, and the treatment variance alone in one more row of metric 4. Those rows hold NaN
    there and ``complete`` is False; counts and means are present in every row. Filter with
    ``data[data["complete"]]`` for a test that needs variances; the counts alone still serve a
    sample-ratio check.

    The counts are cumulative, yet in two experiment-variant pairs (``4db6c7`` variant 2 and
    ``b3280a`` variant 1) the treatment count falls once from one checkpoint to the next, in
    all four metrics alike: a logging or pipeline anomaly of the real data, kept as released.
    The first checkpoint of experiment ``64dc88`` (day 3, both variants) holds no units at all
    (counts, means and variances 0).

    The intended split of each experiment is not in the data (treatment shares range from
    about 3% to 89%), so a sample-ratio test against 50/50 is not valid here.

    Source: Liu, C. H. B., Cardoso, A., Couturier, P. & McCoy, E. J. (2021), *Datasets for
    Online Controlled Experiments*, NeurIPS 2021 Datasets and Benchmarks track
    (arXiv:2111.10198); data on the Open Science Framework (osf.io/64jsb), licence CC BY 4.0.
    The shipped file is the released one (SHA-256 ``aa0cc3f8...``), checked at every load.

    Examples
    --------
    >>> data = asos()
    >>> data["experiment_id"].nunique(), len(data.groupby(["experiment_id", "variant_id"]))
    (78, 99)
    >>> int((~data["complete"]).sum())
    779
    """
    frame = _read_csv(ASOS_FILE, dtype={"experiment_id": "str"})
    frame["time_since_start"] = (frame["time_since_start"] * 2).round() / 2
    for column in ("variant_id", "metric_id"):
        frame[column] = frame[column].astype("int8")
    for column in ("count_c", "count_t"):
        frame[column] = frame[column].astype("int64")
    values = ["count_c", "count_t", "mean_c", "mean_t", "variance_c", "variance_t"]
    frame["complete"] = frame[values].notna().all(axis=1)
    return frame


def hillstrom_events(arm: str = "Mens E-Mail", *, experiment: str = "hillstrom"):
    """An event log (:data:`~abteach.events.schema.EVENT_SCHEMA`) of one e-mail arm and of "No E-Mail".

    Every customer becomes a unit (``unit_id`` "c<customer>") with an ``exposure`` event (the
    send), a ``page_view`` if they visited and a ``purchase`` carrying ``spend`` as revenue if
    they bought. "No E-Mail" is the control, ``arm`` the treatment. The file has no times: the
    exposure is placed at :data:`HILLSTROM_SEND_TIME`, the visit one hour and the purchase two
    hours later, so day-level metrics see one day; customer-level metrics (conversion, revenue
    per user) are exact.

    Parameters
    ----------
    arm : {"Mens E-Mail", "Womens E-Mail"}
        The treatment arm.
    experiment : str
        The value of the ``experiment`` column.

    Returns
    -------
    pandas.DataFrame
        One row per event, the columns of :data:`abteach.events.EVENT_SCHEMA`, ready for
        :meth:`abteach.EventStore.ingest`.

    Examples
    --------
    >>> events = hillstrom_events("Mens E-Mail")
    >>> events["event_type"].value_counts().to_dict()
    {'exposure': 42613, 'page_view': 6156, 'purchase': 389}
    """
    import pandas as pd

    check_choice("arm", arm, HILLSTROM_ARMS[1:])
    if not isinstance(experiment, str) or not experiment.strip():
        raise ValueError(f"experiment must be a non-empty string, got {experiment!r}")
    customers = hillstrom()
    customers = customers[customers["segment"].isin(["No E-Mail", arm])]
    unit = "c" + customers["customer"].astype(str)
    variant = np.where(customers["segment"] == arm, "treatment", "control")
    hour = np.timedelta64(1, "h")
    kinds = [
        ("exposure", np.ones(len(customers), bool), 0),
        ("page_view", customers["visit"].to_numpy() == 1, 1),
        ("purchase", customers["conversion"].to_numpy() == 1, 2),
    ]
    parts = []
    for event_type, keep, hours in kinds:
        parts.append(pd.DataFrame({
            "event_id": unit[keep] + "-" + event_type,
            "unit_id": unit[keep],
            "experiment": experiment,
            "variant": variant[keep],
            "event_type": event_type,
            "revenue": customers["spend"][keep] if event_type == "purchase" else np.nan,
            "timestamp": HILLSTROM_SEND_TIME + hours * hour,
        }))
    events = pd.concat(parts, ignore_index=True)
    events["revenue"] = events["revenue"].astype("float64")
    return events
