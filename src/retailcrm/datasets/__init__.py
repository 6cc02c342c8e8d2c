"""Data sets shipped with retailcrm, returned as transaction frames ready for every function.

- :func:`load_cdnow_sample`: the CDNOW sample of the customer-base-analysis literature (2,357
  customers, 6,919 lines), the data of the models user guide;
- :func:`load_cdnow_master`: the full CDNOW cohort (23,570 customers, 69,659 lines).

Both return pandas by default and polars with ``engine="polars"``. The files are those
redistributed under the MIT licence in the ``lifetimes`` package; the source and licence are in
``NOTICE.txt`` next to them.
"""

from retailcrm.datasets._cdnow import load_cdnow_master, load_cdnow_sample

__all__ = [
    "load_cdnow_master",
    "load_cdnow_sample",
]
