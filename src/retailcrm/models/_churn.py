"""Churn risk: a supervised training frame as of a cutoff, and a calibrated classifier.

The label is behavioural — "no purchase within the next ``horizon_days``" — so any transaction
table yields training data: features are computed as of a cutoff (nothing after it), labels
from the following window. The BG/NBD model's ``1 - P(alive)``, which needs no labels, is the
baseline the classifier is compared with.
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from typing import Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score

from retailcrm._dates import day_number_of, parse_as_of
from retailcrm._engine import collect_polars, lazy_frame
from retailcrm._params import check_choice, check_int
from retailcrm.data import TransactionSchema
from retailcrm.data._prepare import Duplicates, prepare_transactions
from retailcrm.exceptions import (
    ConfigError,
    ConvergenceError,
    IdentifiabilityWarning,
    InvalidDataError,
    MissingColumnsError,
    NotFittedError,
)
from retailcrm.features._btyd import btyd_table
from retailcrm.features._customer import customer_table
from retailcrm.features._occasions import purchase_occasions
from retailcrm.models._bgnbd import BetaGeoModel

__all__ = ["BTYD_COLUMNS", "LABEL", "ChurnModel", "churn_training_frame", "top_decile_lift"]

#: The label column of :func:`churn_training_frame`.
LABEL = "churned"
#: The BTYD summary columns (in weeks) that :func:`churn_training_frame` adds for the baseline.
BTYD_COLUMNS = ("btyd_frequency", "btyd_recency", "btyd_T")


def churn_training_frame(
    tx: Any,
    *,
    cutoff: Any,
    horizon_days: int,
    schema: TransactionSchema | None = None,
    duplicates: Duplicates | None = None,
) -> Any:
    """Customer features as of ``cutoff`` and the label "no purchase within the horizon".

    Parameters
    ----------
    tx : dataframe
        Transaction lines (any engine), covering at least ``cutoff + horizon_days``.
    cutoff : date, datetime or ISO string
        The date features are computed as of (its whole day is included, as for
        :func:`~retailcrm.customer_features`); labels come from the following days.
    horizon_days : int
        Length of the label window: the days ``cutoff + 1`` to ``cutoff + horizon_days``.
    schema : TransactionSchema, optional
        Column mapping for ``tx``.
    duplicates : {"keep", "drop"} or None
        The duplicate-lines policy, applied once, as for :func:`~retailcrm.customer_features` (``None``:
        keep them and warn when there are any).

    Returns
    -------
    dataframe
        The caller's kind of frame, one row per customer with a purchase on or before
        ``cutoff``, sorted by ``customer_id``: the columns of
        ``customer_features(tx, as_of=cutoff)``; ``btyd_frequency``, ``btyd_recency``,
        ``btyd_T`` (the :func:`btyd_summary` as of ``cutoff``, in weeks, for the BG/NBD
        baseline); and ``churned`` (Boolean): True when the customer made no purchase in the
        label window.

    Raises
    ------
    ConfigError
        ``cutoff`` missing or unreadable, or ``horizon_days`` not a whole number >= 1.
    MissingColumnsError, InvalidDataError
        As for :func:`~retailcrm.customer_features`.

    Notes
    -----
    A purchase is a purchase occasion as in :func:`~retailcrm.customer_features` (an order, or
    a customer-day without order ids, whose net amount is positive). The table only uses
    transactions on or before ``cutoff`` for features, so a model trained on it can be applied
    at a later cutoff without leakage. The label is only right when ``tx`` covers the whole
    window: a window running past the end of the data labels everyone without a purchase in
    the covered part as churned.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.models import churn_training_frame
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["ann", "ann", "bob", "bob", "cy"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-03-02", "2024-02-11",
    ...                                  "2024-05-20", "2024-04-15"]),
    ...     "amount": [40.0, 25.0, 60.0, 35.0, 20.0],
    ... })
    >>> frame = churn_training_frame(tx, cutoff="2024-03-31", horizon_days=90)
    >>> frame[["customer_id", "recency_days", "frequency", "btyd_T", "churned"]]
      customer_id  recency_days  frequency    btyd_T  churned
    0         ann            29          2  12.285714     True
    1         bob            49          1   7.000000    False
    """
    as_of = parse_as_of(cutoff, name="cutoff")
    horizon = _check_horizon(horizon_days, "churn_training_frame")
    day = as_of.date
    end = day + _dt.timedelta(days=horizon)
    # validated and converted once, then cut at the cutoff for the features and the summary
    prepared = prepare_transactions(tx, schema=schema, as_of=end, duplicates=duplicates)
    prepared = prepared.materialised()
    history = prepared.until(day)
    features = customer_table(history)
    summary = btyd_table(history, observation_end=day, unit=7.0)
    engine = prepared.engine
    occasions = purchase_occasions(prepared)
    buyers = (
        occasions.filter(nw.col("is_purchase") & (nw.col("day") > day_number_of(day)))
        .select("customer_id")
        .unique()
        .with_columns(__bought=nw.lit(True))
    )
    btyd = summary.select(
        nw.col("customer_id"),
        nw.col("frequency").alias("btyd_frequency"),
        nw.col("recency").alias("btyd_recency"),
        nw.col("T").alias("btyd_T"),
    )
    out = (
        features.filter(nw.col("frequency") > 0)
        .join(btyd, on="customer_id", how="inner")
        .join(buyers, on="customer_id", how="left")
        .with_columns(nw.col("__bought").is_null().alias(LABEL))
        .drop("__bought")
        .sort("customer_id")
    )
    return engine.to_native(out)


def _check_horizon(horizon_days: Any, owner: str) -> int:
    return check_int(horizon_days, name="horizon_days", owner=owner, low=1)


def top_decile_lift(y_true: Any, score: Any) -> float:
    """Churn rate among the 10% highest scores divided by the overall churn rate.

    Parameters
    ----------
    y_true : array-like of bool
        True for churned customers.
    score : array-like of float
        Higher means more likely to churn.

    Returns
    -------
    float
        The lift; 1 is no better than random, ``1 / rate`` the best possible. NaN when no
        customer churned.

    Notes
    -----
    The top decile is the ``ceil(n / 10)`` highest scores; ties at its edge are broken by
    averaging the churn rate over the tied customers (so the result does not depend on row
    order).

    Examples
    --------
    >>> from retailcrm.models._churn import top_decile_lift
    >>> round(top_decile_lift([1, 0, 0, 1, 0, 0, 0, 0, 0, 0], [0.9, 0.1, 0.2, 0.3, 0.1,
    ...                                                        0.1, 0.2, 0.1, 0.1, 0.1]), 2)
    5.0
    """
    y = np.asarray(y_true, dtype=np.float64)
    s = np.asarray(score, dtype=np.float64)
    rate = y.mean() if y.size else 0.0
    if rate == 0:
        return float("nan")
    k = math.ceil(y.size / 10)
    threshold = np.sort(s)[::-1][k - 1]
    above = s > threshold
    tied = s == threshold
    churned = y[above].sum() + (k - above.sum()) * y[tied].mean()
    return float(churned / k / rate)


def _metrics(y: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> dict[str, float]:
    both = np.unique(y).size == 2
    return {
        "auc": float(roc_auc_score(y, score)) if both else float("nan"),
        "brier": float(brier_score_loss(y, score)),
        "top_decile_lift": top_decile_lift(y, score),
    }


class ChurnModel(ClassifierMixin, BaseEstimator):
    """A calibrated classifier of churn risk, evaluated next to the BG/NBD baseline.

    Parameters
    ----------
    estimator : scikit-learn classifier, optional
        The model of the label; default ``HistGradientBoostingClassifier(random_state=...)``,
        which handles missing feature values (e.g. ``mean_interpurchase_days`` of one-time
        buyers).
    calibration : {"isotonic", "sigmoid"}, default "isotonic"
        How predicted probabilities are calibrated (scikit-learn's ``CalibratedClassifierCV``
        with ``cv`` folds): isotonic regression, or Platt's sigmoid for small data.
    cv : int, default 5
        Cross-validation folds of the calibration.
    baseline : bool, default True
        Also fit the BG/NBD model on the training frame's ``btyd_*`` columns, so that
        :meth:`evaluate` reports its ``1 - P(alive)`` next to the classifier.
    random_state : int, default 0
        Seed of the default estimator.

    Attributes
    ----------
    classifier_ : CalibratedClassifierCV
        The fitted, calibrated classifier.
    baseline_ : BetaGeoModel or None
        The BG/NBD model fitted on the training frame's ``btyd_*`` columns, in weeks
        (``time_unit_ == "W"``; None without them or with ``baseline=False``). Its
        ``probability_alive`` and ``conditional_probability_of_purchases`` are the baselines.
    feature_names_in_ : numpy.ndarray of str
        The feature columns used (frames only).
    n_features_in_ : int
        Number of features.
    classes_ : numpy.ndarray
        ``[False, True]`` (True = churned).

    See Also
    --------
    churn_training_frame : builds the training and evaluation frames.
    BetaGeoModel.probability_alive : the baseline.

    Notes
    -----
    **Time-based split.** Train on ``churn_training_frame(tx, cutoff=c1, horizon_days=h)`` and
    evaluate on the frame at a later cutoff ``c2 >= c1 + h``: the training labels then end
    before the evaluation features begin, as when the model is used. Within the training
    frame, the classifier is calibrated on cross-validation folds.

    With a frame, the features are every numeric or Boolean column except ``customer_id``
    and ``churned`` (dates and text are ignored); ``fit`` takes the label from ``churned``
    unless ``y`` is given. Arrays work too (then ``y`` is required and there is no baseline).

    The baseline is the probability of having dropped out, ``1 - P(alive)``, of the BG/NBD
    model (Fader, Hardie & Lee 2005, "Counting your customers the easy way", *Marketing
    Science* 24(2), equation 11). It ranks customers without any label; as a probability of
    *no purchase in the horizon* it is too low (alive customers may not buy either), so
    compare it by AUC and lift rather than Brier score. The lift is :func:`top_decile_lift`.

    Examples
    --------
    A time-based split on synthetic data; the default estimator is gradient boosting, a
    scaled logistic regression (with missing values imputed) is shown here:

    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from retailcrm.data import sample_data
    >>> from retailcrm.models import ChurnModel, churn_training_frame
    >>> tx = sample_data(400, seed=3).transactions
    >>> train = churn_training_frame(tx, cutoff="2024-03-31", horizon_days=90)
    >>> test = churn_training_frame(tx, cutoff="2024-06-30", horizon_days=90)
    >>> logit = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression())
    >>> model = ChurnModel(logit, calibration="sigmoid").fit(train)
    >>> model.predict_proba(test).shape == (len(test), 2)
    True
    >>> report = model.evaluate(test, horizon_days=90)
    >>> list(report.index), list(report.columns)
    (['model', 'bg_nbd', 'bg_nbd_no_purchase'], ['auc', 'brier', 'top_decile_lift', 'n_customers', 'churn_rate'])
    >>> bool(report.loc["model", "auc"] > 0.6)
    True
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        calibration: Literal["isotonic", "sigmoid"] = "isotonic",
        cv: int = 5,
        baseline: bool = True,
        random_state: int = 0,
    ) -> None:
        self.estimator = estimator
        self.calibration = calibration
        self.cv = cv
        self.baseline = baseline
        self.random_state = random_state

    # ------------------------------------------------------------------ inputs
    def _check_params(self) -> None:
        check_choice(
            self.calibration, ("isotonic", "sigmoid"), name="calibration", owner="ChurnModel"
        )
        check_int(self.cv, name="cv", owner="ChurnModel", low=2)

    @staticmethod
    def _as_polars(X: Any) -> Any:
        """A frame as an eager polars DataFrame, or None when ``X`` is not a dataframe."""
        if isinstance(X, np.ndarray | list | tuple):
            return None
        try:
            lf, _ = lazy_frame(X, name="X")
        except ConfigError:
            return None
        return lf.pipe(collect_polars).to_native()

    def _feature_columns(self, df: Any) -> list[str]:
        import polars as pl

        return [
            c
            for c, t in df.schema.items()
            if c not in ("customer_id", LABEL) and (t.is_numeric() or t == pl.Boolean)
        ]

    def _matrix(self, X: Any, *, fitting: bool) -> tuple[npt.NDArray[np.float64], Any]:
        import polars as pl

        df = self._as_polars(X)
        if df is None:
            arr = np.asarray(X, dtype=np.float64)
            if arr.ndim != 2:
                raise ConfigError(
                    f"X must be a dataframe or a 2-D array, got shape {arr.shape}. "
                    "Fix: pass churn_training_frame(...)."
                )
            if not fitting and hasattr(self, "feature_names_in_"):
                raise ConfigError(
                    "ChurnModel was fitted on a dataframe; pass a dataframe with the columns "
                    f"{list(self.feature_names_in_)}."
                )
            if not fitting and arr.shape[1] != self.n_features_in_:
                raise ConfigError(
                    f"X has {arr.shape[1]} features, but ChurnModel was fitted with "
                    f"{self.n_features_in_}."
                )
            return arr, None
        if fitting:
            cols = self._feature_columns(df)
        else:
            cols = list(getattr(self, "feature_names_in_", []))
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise MissingColumnsError(
                    missing,
                    available=df.columns,
                    role="X",
                    fix="build the frame with churn_training_frame, as for fit.",
                )
        if not cols:
            raise ConfigError(
                "X has no numeric feature columns. Fix: pass churn_training_frame(...)."
            )
        arr = df.select(pl.col(c).cast(pl.Float64) for c in cols).to_numpy()
        return np.asarray(arr, dtype=np.float64), (df, cols)

    @staticmethod
    def _labels(y: Any, frame: Any, n: int) -> npt.NDArray[np.bool_]:
        if y is None:
            if frame is None or LABEL not in frame[0].columns:
                raise MissingColumnsError(
                    [LABEL],
                    available=[] if frame is None else frame[0].columns,
                    role="X",
                    fix="pass y, or a frame from churn_training_frame (it has the label).",
                )
            series = frame[0][LABEL]
            if series.null_count():
                raise InvalidDataError(
                    f"X: the label '{LABEL}' has {series.null_count()} missing values. "
                    "Fix: drop those rows."
                )
            values = np.asarray(series.to_numpy())
        else:
            values = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        if values.shape != (n,):
            raise ConfigError(
                f"y has shape {values.shape}, X has {n} rows. Fix: one label per row."
            )
        try:
            numeric = values.astype(np.float64)
        except (TypeError, ValueError):
            numeric = np.full(values.shape, np.nan)
        if not np.isin(numeric, (0.0, 1.0)).all():
            raise InvalidDataError(
                "y must be Boolean or 0/1 (True = churned). Fix: pass the 'churned' column of "
                "churn_training_frame."
            )
        return np.asarray(numeric == 1.0, dtype=np.bool_)

    # ------------------------------------------------------------------ estimator API
    def fit(self, X: Any, y: Any = None) -> ChurnModel:
        """Fit the calibrated classifier (and the BG/NBD baseline) and return the model.

        Parameters
        ----------
        X : dataframe or array-like
            A frame from :func:`churn_training_frame` (any engine), or a feature matrix.
        y : array-like of bool, optional
            The labels; default: the frame's ``churned`` column.

        Returns
        -------
        ChurnModel
            The fitted model.

        Raises
        ------
        MissingColumnsError
            No ``y`` and no ``churned`` column.
        InvalidDataError
            Fewer than ``cv`` customers in one of the classes.
        ConvergenceError
            The BG/NBD baseline did not converge (``baseline=False`` skips it).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from retailcrm.models import ChurnModel
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 3))
        >>> y = X[:, 0] + rng.normal(size=200) > 0
        >>> ChurnModel(LogisticRegression(), baseline=False).fit(X, y).classes_
        array([False,  True])
        """
        self._check_params()
        matrix, frame = self._matrix(X, fitting=True)
        labels = self._labels(y, frame, matrix.shape[0])
        counts = np.bincount(labels.astype(np.int64), minlength=2)
        if counts.min() < self.cv:
            raise InvalidDataError(
                f"The labels have {counts[1]} churned and {counts[0]} retained customers; "
                f"calibration with cv={self.cv} needs at least {self.cv} of each. Fix: use a "
                "longer history, another cutoff or horizon, or a smaller cv."
            )
        estimator = (
            HistGradientBoostingClassifier(random_state=self.random_state)
            if self.estimator is None
            else clone(self.estimator)
        )
        self.classifier_ = CalibratedClassifierCV(
            estimator, method=self.calibration, cv=self.cv
        ).fit(matrix, labels)
        self.classes_ = np.array([False, True])
        self.n_features_in_ = matrix.shape[1]
        if frame is not None:
            self.feature_names_in_ = np.asarray(frame[1], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.baseline_: BetaGeoModel | None = None
        if self.baseline and frame is not None and set(BTYD_COLUMNS) <= set(frame[0].columns):
            # an unidentified baseline (e.g. no repeat buyers) is no baseline: say so as an error
            try:
                with warnings.catch_warnings(action="error", category=IdentifiabilityWarning):
                    self.baseline_ = BetaGeoModel().fit(**_btyd_arrays(frame[0]), time_unit="W")
            except (ConvergenceError, IdentifiabilityWarning) as exc:
                raise ConvergenceError(
                    f"ChurnModel: the BG/NBD baseline could not be fitted on the training frame "
                    f"({exc}). Fix: ChurnModel(baseline=False) skips the baseline."
                ) from exc
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "classifier_"):
            raise NotFittedError(
                "This ChurnModel is not fitted yet. Fix: call fit(training_frame) first."
            )

    def predict_proba(self, X: Any) -> npt.NDArray[np.float64]:
        """Return ``[P(retained), P(churned)]`` for each row.

        Parameters
        ----------
        X : dataframe or array-like
            Features as for :meth:`fit` (the label column, if present, is ignored).

        Returns
        -------
        numpy.ndarray of shape (n, 2)
            Calibrated probabilities; column 1 is the churn probability.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from retailcrm.models import ChurnModel
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 3))
        >>> model = ChurnModel(LogisticRegression(), baseline=False).fit(X, X[:, 0] > 0)
        >>> model.predict_proba(X[:2]).sum(axis=1)
        array([1., 1.])
        """
        self._check_fitted()
        matrix, _ = self._matrix(X, fitting=False)
        return np.asarray(self.classifier_.predict_proba(matrix), dtype=np.float64)

    def predict(self, X: Any) -> npt.NDArray[np.bool_]:
        """Return True where the churn probability is at least 0.5.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from retailcrm.models import ChurnModel
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 3))
        >>> model = ChurnModel(LogisticRegression(), baseline=False).fit(X, X[:, 0] > 0)
        >>> model.predict(np.array([[3.0, 0, 0], [-3.0, 0, 0]]))
        array([ True, False])
        """
        return np.asarray(self.predict_proba(X)[:, 1] >= 0.5, dtype=np.bool_)

    def evaluate(self, X: Any, y: Any = None, *, horizon_days: int | None = None) -> pd.DataFrame:
        """AUC, Brier score and top-decile lift of the model and of the BG/NBD baseline.

        Parameters
        ----------
        X : dataframe
            A frame from :func:`churn_training_frame`, normally at a later cutoff than the
            training frame (see the class Notes).
        y : array-like of bool, optional
            The labels; default: the frame's ``churned`` column.
        horizon_days : int, optional
            The label window of ``X``; when given, a second baseline row is added (see
            Returns).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``scorer``, with columns ``auc``, ``brier``, ``top_decile_lift``,
            ``n_customers`` and ``churn_rate``. Rows: ``"model"``; ``"bg_nbd"`` (``1 -
            P(alive)``) when the baseline was fitted and ``X`` has the ``btyd_*`` columns;
            and with ``horizon_days`` also ``"bg_nbd_no_purchase"``, the BG/NBD probability
            of no purchase in the window,
            :meth:`BetaGeoModel.conditional_probability_of_purchases` with ``n = 0`` and
            ``t = horizon_days / 7`` weeks: ``1 - P(alive) + P(alive) ((alpha + T) / (alpha +
            T + t)) ** (r + x)`` (the customer is dead, or alive and the Gamma-posterior
            Poisson rate gives no purchase) — a fairer probability for the Brier score, and one
            that ranks one-time buyers sensibly.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from retailcrm.models import ChurnModel
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(400, 3))
        >>> y = X[:, 0] + rng.normal(size=400) > 0
        >>> model = ChurnModel(LogisticRegression(), baseline=False).fit(X[:200], y[:200])
        >>> list(model.evaluate(X[200:], y[200:]).columns)
        ['auc', 'brier', 'top_decile_lift', 'n_customers', 'churn_rate']
        """
        self._check_fitted()
        matrix, frame = self._matrix(X, fitting=False)
        labels = self._labels(y, frame, matrix.shape[0])
        scores = {"model": self.classifier_.predict_proba(matrix)[:, 1]}
        has_btyd = frame is not None and set(BTYD_COLUMNS) <= set(frame[0].columns)
        if self.baseline_ is not None and frame is not None and has_btyd:
            arrays = _btyd_arrays(frame[0])
            alive = self.baseline_.probability_alive(**arrays)
            scores["bg_nbd"] = 1.0 - alive
            if horizon_days is not None:
                weeks = _check_horizon(horizon_days, "evaluate") / 7.0  # btyd_* are in weeks
                scores["bg_nbd_no_purchase"] = self.baseline_.conditional_probability_of_purchases(
                    0, weeks, **arrays
                )
        rows = []
        for score in scores.values():
            row = _metrics(labels, np.asarray(score, dtype=np.float64))
            row["n_customers"] = float(labels.size)
            row["churn_rate"] = float(labels.mean()) if labels.size else float("nan")
            rows.append(row)
        return pd.DataFrame(rows, index=pd.Index(list(scores), name="scorer"))


def _btyd_arrays(df: Any) -> dict[str, Any]:
    return {
        "frequency": df["btyd_frequency"].to_numpy(),
        "recency": df["btyd_recency"].to_numpy(),
        "T": df["btyd_T"].to_numpy(),
    }
