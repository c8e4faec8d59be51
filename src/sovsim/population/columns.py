"""The population's columns, declared once (the conventions of ``sovsim.state.schema``).

Quantities are float64 and ids int64, as everywhere in the model; the labels are int8 here,
not int64 as in the cell table, because at 25.6 million households each int64 label column
would cost 205 MB for a number below 8. Head of livestock and persons are whole numbers in a
fresh population but float64, as in ``HOUSEHOLD_COLUMNS``: the engine moves fractions of them.
"""

from __future__ import annotations

import numpy as np

from sovsim.state.schema import Column

POPULATION_COLUMNS: tuple[Column, ...] = (
    Column("household_id", "int64", "id", "the household's address for the random streams", False),
    Column("region", "int8", "index into REGIONS", "region of the household", False),
    Column("klass", "int8", "index into CLASSES", "poor / middle / kulak (Soviet criteria)", False),
    Column("tenure", "int8", "index into TENURES", "individual / kolkhoz / deported", False),
    Column("sown_group", "int8", "0 none, 1 up to 2, 2: 2-4, 3: 4-6, 4: 6-9, 5: 9-15, 6: 15+ "
           "desyatin", "Soviet sown-area group of the household's grain area", False),
    Column("weight", "float64", "households", "real households the row stands for"),
    Column("persons", "float64", "persons", "members (household size)"),
    Column("horses", "float64", "head", "horses (the draught animals of the model)"),
    Column("cattle", "float64", "head", "cattle"),
    Column("sown_area_ha", "float64", "ha", "grain area sown for the year's harvests"),
)

BYTES_PER_HOUSEHOLD = sum(np.dtype(c.dtype).itemsize for c in POPULATION_COLUMNS)
