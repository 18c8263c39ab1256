"""Evaluation datasets: .csv, .npz and .jsonl files, their typing, pins, contracts, freshness and errors."""

from __future__ import annotations

import hashlib
import io
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from pytest_promote.config import BootstrapConfig, DatasetSpec, ModelSpec, PromoteConfig
from pytest_promote.contracts import ColumnRule, Contract, Freshness
from pytest_promote.datasets import Dataset, DatasetStore, load_dataset
from pytest_promote.errors import ContractViolation, DatasetError, PromoteError, StaleData


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def spec(path: Path, target: str | None = "label", **kwargs) -> DatasetSpec:
    return DatasetSpec(name="holdout", path=path, target=target, **kwargs)


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


CSV = "age,income,city,label\n31,1.5,paris,0\n45,2.25,oslo,1\n27,,rome,1\n"


# --- csv -----------------------------------------------------------------------------------


def test_csv_columns_and_types(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,b,label\n1,0.5,0\n2,1.5,1\n3,-2,1\n")
    data = load_dataset(spec(path))
    assert isinstance(data, Dataset)
    assert data.name == "holdout"
    assert data.columns == ("a", "b")
    assert data.X.shape == (3, 2) and data.X.dtype == np.float64
    assert np.array_equal(data.X, [[1, 0.5], [2, 1.5], [3, -2]])
    assert data.y.dtype.kind == "i" and data.y.tolist() == [0, 1, 1]
    assert data.n == 3
    assert data.sha256 == sha(path.read_bytes())


def test_csv_text_column_makes_object_features_and_empty_numeric_cell_is_nan(tmp_path: Path) -> None:
    data = load_dataset(spec(write(tmp_path, "d.csv", CSV)))
    assert data.columns == ("age", "income", "city")
    assert data.X.dtype == object
    assert data.X[:, 2].tolist() == ["paris", "oslo", "rome"]
    assert data.X[:2, 1].tolist() == [1.5, 2.25]
    assert np.isnan(data.X[2, 1])
    assert data.X[:, 0].tolist() == [31, 45, 27]


def test_csv_empty_numeric_cell_is_nan_in_float_matrix(tmp_path: Path) -> None:
    data = load_dataset(spec(write(tmp_path, "d.csv", "a,b,label\n1,,0\n2,3.5,1\n")))
    assert data.X.dtype == np.float64
    assert np.isnan(data.X[0, 1]) and data.X[1, 1] == 3.5
    assert np.count_nonzero(np.isnan(data.X)) == 1


def test_csv_string_labels(tmp_path: Path) -> None:
    data = load_dataset(spec(write(tmp_path, "d.csv", "x,label\n1,cat\n2,dog\n3,cat\n")))
    assert data.y.tolist() == ["cat", "dog", "cat"]


def test_csv_float_labels(tmp_path: Path) -> None:
    data = load_dataset(spec(write(tmp_path, "d.csv", "x,label\n1,0.25\n2,10\n")))
    assert data.y.dtype == np.float64 and data.y.tolist() == [0.25, 10.0]


def test_csv_features_subset_in_given_order(tmp_path: Path) -> None:
    data = load_dataset(spec(write(tmp_path, "d.csv", CSV), features=("income", "age")))
    assert data.columns == ("income", "age")
    assert data.X.dtype == np.float64
    assert data.X[:, 1].tolist() == [31, 45, 27]
    assert data.X[:2, 0].tolist() == [1.5, 2.25] and np.isnan(data.X[2, 0])


def test_csv_target_may_be_any_column(tmp_path: Path) -> None:
    data = load_dataset(spec(write(tmp_path, "d.csv", "label,a\n0,5\n1,6\n"), target="label"))
    assert data.columns == ("a",) and data.X[:, 0].tolist() == [5, 6] and data.y.tolist() == [0, 1]


def test_csv_skips_blank_lines_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "\ufeffa,label\n1,0\n\n2,1\n")
    data = load_dataset(spec(path))
    assert data.columns == ("a",) and data.n == 2


def test_csv_ragged_line_names_line_number(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,b,label\n1,2,0\n3,4,1\n5,6\n7,8,0\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(spec(path))
    message = str(info.value)
    assert "line 4" in message
    assert "2 fields" in message and "header has 3" in message
    assert str(path) in message and "datasets.holdout" in message


def test_csv_ragged_line_number_counts_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,label\n1,0\n\n2,1,9\n")
    with pytest.raises(DatasetError, match="line 4 has 3 fields"):
        load_dataset(spec(path))


def test_csv_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="empty"):
        load_dataset(spec(write(tmp_path, "d.csv", "")))


def test_csv_duplicate_header(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="repeats a column"):
        load_dataset(spec(write(tmp_path, "d.csv", "a,a,label\n1,2,0\n")))


def test_csv_missing_target_column(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,b,y\n1,2,0\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(spec(path, target="label"))
    message = str(info.value)
    assert "datasets.holdout.target" in message
    assert "'label' not found" in message
    assert "a, b, y" in message  # lists the columns it did find


def test_csv_unknown_feature(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,b,label\n1,2,0\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(spec(path, features=("a", "height")))
    assert "datasets.holdout.features" in str(info.value)
    assert "height" in str(info.value)


def test_csv_no_feature_columns(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no feature columns"):
        load_dataset(spec(write(tmp_path, "d.csv", "label\n0\n1\n")))


def test_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_dataset(spec(write(tmp_path, "d.csv", b"a,label\n\xff\xfe,1\n")))


# --- npz -----------------------------------------------------------------------------------


def test_npz_x_and_y(tmp_path: Path) -> None:
    X = np.arange(12.0).reshape(4, 3)
    y = np.array([0, 1, 1, 0])
    path = write(tmp_path, "d.npz", npz_bytes(X=X, y=y))
    data = load_dataset(spec(path, target=None))
    assert np.array_equal(data.X, X) and np.array_equal(data.y, y)
    assert data.columns == ("x0", "x1", "x2")
    assert data.n == 4
    assert data.sha256 == sha(path.read_bytes())


def test_npz_optional_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "d.npz", npz_bytes(X=np.zeros((2, 2)), y=np.array([1, 0]), columns=np.array(["height", "weight"])))
    assert load_dataset(spec(path, target=None)).columns == ("height", "weight")


def test_npz_one_dimensional_x_is_one_column(tmp_path: Path) -> None:
    path = write(tmp_path, "d.npz", npz_bytes(X=np.array([1.0, 2.0, 3.0]), y=np.array([0, 1, 0])))
    data = load_dataset(spec(path, target=None))
    assert data.X.shape == (3, 1) and data.columns == ("x0",)


def test_npz_missing_array(tmp_path: Path) -> None:
    path = write(tmp_path, "d.npz", npz_bytes(X=np.zeros((2, 2))))
    with pytest.raises(DatasetError, match="missing array\\(s\\) y"):
        load_dataset(spec(path, target=None))


def test_npz_shape_mismatch(tmp_path: Path) -> None:
    path = write(tmp_path, "d.npz", npz_bytes(X=np.zeros((3, 2)), y=np.zeros(4)))
    with pytest.raises(DatasetError, match="expected X of shape"):
        load_dataset(spec(path, target=None))


def test_npz_unreadable(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a readable .npz"):
        load_dataset(spec(write(tmp_path, "d.npz", b"garbage"), target=None))


def test_npz_object_arrays_are_not_unpickled(tmp_path: Path) -> None:
    path = write(tmp_path, "d.npz", npz_bytes(X=np.array([[object()], [object()]], dtype=object), y=np.array([0, 1])))
    with pytest.raises(DatasetError, match="not a readable .npz"):
        load_dataset(spec(path, target=None))


# --- jsonl ---------------------------------------------------------------------------------


def test_jsonl_rows(tmp_path: Path) -> None:
    rows = [{"a": 1, "b": 0.5, "label": "yes"}, {"a": 2, "b": None, "label": "no"}, {"a": 3, "b": 2, "label": "yes"}]
    path = write(tmp_path, "d.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    data = load_dataset(spec(path))
    assert data.columns == ("a", "b")
    assert data.X.dtype == np.float64
    assert data.X[:, 0].tolist() == [1, 2, 3]
    assert data.X[0, 1] == 0.5 and np.isnan(data.X[1, 1]) and data.X[2, 1] == 2
    assert data.y.tolist() == ["yes", "no", "yes"]
    assert data.n == 3


def test_jsonl_key_order_does_not_matter(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", '{"a": 1, "label": 0}\n{"label": 1, "a": 2}\n')
    data = load_dataset(spec(path))
    assert data.X[:, 0].tolist() == [1, 2] and data.y.tolist() == [0, 1]


def test_jsonl_differing_keys_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", '{"a": 1, "label": 0}\n\n{"a": 2, "label": 1}\n{"a": 3, "lable": 1}\n')
    with pytest.raises(DatasetError) as info:
        load_dataset(spec(path))
    message = str(info.value)
    assert "line 4" in message
    assert "missing: label" in message and "extra: lable" in message


def test_jsonl_invalid_json_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", '{"a": 1, "label": 0}\n{"a": 2, "label": }\n')
    with pytest.raises(DatasetError) as info:
        load_dataset(spec(path))
    assert "line 2" in str(info.value) and "invalid JSON" in str(info.value)


def test_jsonl_non_object_line(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="line 1: expected a JSON object"):
        load_dataset(spec(write(tmp_path, "d.jsonl", "[1, 2]\n")))


def test_jsonl_no_rows(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no rows"):
        load_dataset(spec(write(tmp_path, "d.jsonl", "\n\n")))


def test_jsonl_missing_target(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="'label' not found"):
        load_dataset(spec(write(tmp_path, "d.jsonl", '{"a": 1, "y": 0}\n')))


# --- Dataset.column ----------------------------------------------------------------------------


def test_csv_column_gives_features_target_and_other_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "age,region,label,query\n31,north,0,q1\n45,south,1,q1\n27,north,1,q2\n")
    data = load_dataset(spec(path, features=("age",)))
    assert data.columns == ("age",)
    assert data.column("age").tolist() == [31, 45, 27]
    assert data.column("label").tolist() == [0, 1, 1] and np.array_equal(data.column("label"), data.y)
    assert data.column("region").tolist() == ["north", "south", "north"]
    assert data.column("query").tolist() == ["q1", "q1", "q2"]
    assert len(data.column("region")) == data.n


def test_csv_column_of_a_text_feature_and_typed_other_columns(tmp_path: Path) -> None:
    data = load_dataset(spec(write(tmp_path, "d.csv", "age,city,label,weight\n31,paris,0,1.5\n45,oslo,1,\n")))
    assert data.columns == ("age", "city", "weight")  # every non-target column is a feature by default
    assert data.column("city").tolist() == ["paris", "oslo"]
    weight = load_dataset(spec(write(tmp_path, "e.csv", "age,label,weight\n31,0,1.5\n45,1,\n"), features=("age",))).column("weight")
    assert weight.dtype == np.float64 and weight[0] == 1.5 and np.isnan(weight[1])


def test_jsonl_column(tmp_path: Path) -> None:
    rows = [{"a": 1, "group": "x", "label": "yes"}, {"a": 2, "group": "y", "label": "no"}]
    data = load_dataset(spec(write(tmp_path, "d.jsonl", "\n".join(json.dumps(r) for r in rows)), features=("a",)))
    assert data.column("a").tolist() == [1, 2]
    assert data.column("group").tolist() == ["x", "y"]
    assert data.column("label").tolist() == ["yes", "no"]


def test_npz_column_gives_features_y_and_extra_one_dimensional_arrays(tmp_path: Path) -> None:
    X = np.arange(8.0).reshape(4, 2)
    arrays = {
        "X": X,
        "y": np.array([0, 1, 1, 0]),
        "columns": np.array(["height", "weight"]),
        "region": np.array(["a", "b", "a", "b"]),
        "query_id": np.array([7, 7, 8, 8]),
        "too_short": np.array([1, 2, 3]),  # not one value per row
        "matrix": np.zeros((4, 2)),  # not 1-D
    }
    data = load_dataset(spec(write(tmp_path, "d.npz", npz_bytes(**arrays)), target=None))
    assert data.column("weight").tolist() == [1.0, 3.0, 5.0, 7.0]
    assert data.column("region").tolist() == ["a", "b", "a", "b"]
    assert data.column("query_id").tolist() == [7, 7, 8, 8]
    assert data.column("y").tolist() == [0, 1, 1, 0]
    for excluded in ("too_short", "matrix", "columns", "X"):
        with pytest.raises(DatasetError):
            data.column(excluded)


def test_npz_default_feature_names_are_columns(tmp_path: Path) -> None:
    data = load_dataset(spec(write(tmp_path, "d.npz", npz_bytes(X=np.eye(3), y=np.arange(3))), target=None))
    assert data.column("x1").tolist() == [0.0, 1.0, 0.0]


def test_unknown_column_lists_the_columns(tmp_path: Path) -> None:
    data = load_dataset(spec(write(tmp_path, "d.csv", "age,region,label\n31,north,0\n45,south,1\n"), features=("age",)))
    with pytest.raises(DatasetError) as info:
        data.column("country")
    message = str(info.value)
    assert message == "dataset 'holdout' has no column 'country' (columns: age, region, label)"
    assert info.value.code == "data_error"


def test_column_on_a_dataset_built_in_code() -> None:
    # other_columns is optional: a Dataset built by hand has only its features
    data = Dataset("mem", np.array([[1.0], [2.0]]), np.array([0, 1]), ("f",), "0" * 64)
    assert data.other_columns == {} and data.column("f").tolist() == [1.0, 2.0]
    with pytest.raises(DatasetError, match=r"\(columns: f\)"):
        data.column("label")


# --- pins and the store --------------------------------------------------------------------


def test_sha256_pin_matches(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,label\n1,0\n2,1\n")
    assert load_dataset(spec(path, sha256=sha(path.read_bytes()))).n == 2


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_sha256_mismatch_names_both_hashes(tmp_path: Path, suffix: str) -> None:
    content = "a,label\n1,0\n2,1\n" if suffix == ".csv" else npz_bytes(X=np.zeros((2, 1)), y=np.zeros(2))
    path = write(tmp_path, f"d{suffix}", content)
    pinned = "0" * 64
    with pytest.raises(DatasetError) as info:
        load_dataset(spec(path, target="label" if suffix == ".csv" else None, sha256=pinned))
    message = str(info.value)
    assert pinned in message and sha(path.read_bytes()) in message and "mismatch" in message
    assert info.value.code == "data_error"


def config_with(tmp_path: Path, datasets: dict[str, DatasetSpec]) -> PromoteConfig:
    return PromoteConfig(
        path=tmp_path / "promote.yaml",
        sha256="0" * 64,
        version=1,
        seed=1,
        alpha=0.05,
        bootstrap=BootstrapConfig(),
        models={"candidate": ModelSpec("candidate", loader="a:b"), "baseline": ModelSpec("baseline", loader="a:b")},
        datasets=datasets,
    )


def test_store_loads_once(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,label\n1,0\n2,1\n")
    store = DatasetStore(config_with(tmp_path, {"holdout": spec(path)}))
    assert store.loaded() == {}
    first = store.get("holdout")
    path.write_text("a,label\n9,9\n")  # a second read would see this
    assert store.get("holdout") is first
    assert store.loaded() == {"holdout": first}


def test_store_unknown_name_lists_configured_names(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,label\n1,0\n2,1\n")
    store = DatasetStore(config_with(tmp_path, {"holdout": spec(path), "recent": DatasetSpec("recent", path, "label")}))
    with pytest.raises(DatasetError) as info:
        store.get("holdot")
    assert "'holdot'" in str(info.value)
    assert "holdout, recent" in str(info.value)


def test_store_unknown_name_without_datasets(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="configured in promote.yaml: none"):
        DatasetStore(config_with(tmp_path, {})).get("holdout")


def test_store_remembers_a_failed_load(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,label\n1,0\n2,1\n")
    store = DatasetStore(config_with(tmp_path, {"holdout": spec(path, sha256="0" * 64)}))
    with pytest.raises(DatasetError) as first:
        store.get("holdout")
    path.write_text("a,label\n1,0\n")  # even a file that would now load is not read again
    with pytest.raises(DatasetError) as second:
        store.get("holdout")
    assert second.value is first.value
    assert store.loaded() == {}


def test_unreadable_file_is_a_data_error(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,label\n1,0\n")
    path.unlink()
    with pytest.raises(DatasetError, match=r"datasets\.holdout: .*d\.csv: cannot read the file"):
        load_dataset(spec(path))


# --- contracts (schema, rows, columns) -----------------------------------------------------------

CONTRACT = Contract(
    schema=(
        ColumnRule("age", "int", min=18, max=120),
        ColumnRule("plan", "str", allowed=("basic", "pro")),
        ColumnRule("signup", "datetime", nullable=True),
        ColumnRule("customer_id", "str", unique=True),
        ColumnRule("label", "int", allowed=(0, 1)),
    ),
    rows_min=3,
)
GOOD_CSV = "age,plan,signup,customer_id,label\n31,basic,2026-01-05,c1,0\n45,pro,,c2,1\n27,pro,2026-02-01T10:00:00Z,c3,1\n"
GOOD_ROWS = [
    {"age": 31, "plan": "basic", "signup": "2026-01-05", "customer_id": "c1", "label": 0},
    {"age": 45, "plan": "pro", "signup": None, "customer_id": "c2", "label": 1},
    {"age": 27, "plan": "pro", "signup": "2026-02-01T10:00:00Z", "customer_id": "c3", "label": 1},
]


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def test_csv_contract_passes(tmp_path: Path) -> None:
    data = load_dataset(spec(write(tmp_path, "d.csv", GOOD_CSV), contract=CONTRACT))
    assert data.n == 3 and data.warnings == () and data.age is None


def test_csv_contract_violation_lists_every_rule(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "age,plan,signup,customer_id,label\n16,basic,2026-01-05,c1,0\n45,gold,soon,c1,1\n12.5,Pro,,c3,2\n")
    with pytest.raises(ContractViolation) as info:
        load_dataset(spec(path, contract=CONTRACT))
    error = info.value
    assert error.code == "contract_violation" and isinstance(error, PromoteError)
    assert str(error) == (
        f"datasets.holdout: {path} violates its contract (6 rules; row numbers count data rows from 1): "
        "column 'age': 1 row not an int (row 3: '12.5'); "
        "column 'age': 1 row below min 18 (row 1: 16); "
        "column 'plan': 2 rows not in allowed [basic, pro] (rows 2, 3: 'gold', 'Pro'); "
        "column 'signup': 1 row not an ISO 8601 datetime (row 2: 'soon'); "
        "column 'customer_id': 1 row not unique (an earlier row has the same value) (row 2: 'c1'); "
        "column 'label': 1 row not in allowed [0, 1] (row 3: 2)"
    )
    found = [(v.column, v.rule) for v in error.violations]
    assert found == [("age", "type"), ("age", "min"), ("plan", "allowed"), ("signup", "type"), ("customer_id", "unique"), ("label", "allowed")]


def test_csv_row_numbers_count_data_rows_not_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "age,label\n30,0\n\n10,1\n")
    with pytest.raises(ContractViolation, match=r"1 row below min 18 \(row 2: 10\)"):
        load_dataset(spec(path, contract=Contract(schema=(ColumnRule("age", "int", min=18),))))


def test_jsonl_contract_uses_json_types(tmp_path: Path) -> None:
    assert load_dataset(spec(write(tmp_path, "d.jsonl", jsonl(GOOD_ROWS)), contract=CONTRACT)).n == 3
    rows = [dict(row) for row in GOOD_ROWS]
    rows[0]["age"] = "31"  # text is not an int in JSON
    rows[1]["label"] = True  # nor is a bool
    rows[2]["plan"] = None
    path = write(tmp_path, "e.jsonl", jsonl(rows))
    with pytest.raises(ContractViolation) as info:
        load_dataset(spec(path, contract=CONTRACT))
    found = [(v.column, v.rule, v.rows) for v in info.value.violations]
    assert found == [("age", "type", (1,)), ("plan", "null", (3,)), ("label", "type", (2,))]
    assert "column 'age': 1 row not an int (row 1: '31')" in str(info.value)


def test_npz_contract_names_columns_and_y(tmp_path: Path) -> None:
    X = np.array([[31.0, 0.5], [45.0, 0.25], [27.0, np.nan]])
    arrays = {"X": X, "y": np.array([0, 1, 1]), "columns": np.array(["age", "score"]), "region": np.array(["n", "s", "n"])}
    path = write(tmp_path, "d.npz", npz_bytes(**arrays))
    contract = Contract(
        schema=(
            ColumnRule("age", "int", min=18),  # integral floats in X are ints
            ColumnRule("score", "float", nullable=True),
            ColumnRule("y", "int", allowed=(0, 1)),
            ColumnRule("region", "str", allowed=("n", "s")),
        ),
        columns="exact",
    )
    assert load_dataset(spec(path, target=None, contract=contract)).n == 3
    strict = Contract(schema=(ColumnRule("score", "float"), ColumnRule("y", "bool")), columns="exact")
    with pytest.raises(ContractViolation) as info:
        load_dataset(spec(path, target=None, contract=strict))
    assert [(v.column, v.rule) for v in info.value.violations] == [("score", "null"), ("y", "type"), (None, "extra")]
    assert "the schema does not list: age, region" in str(info.value)


def test_npz_default_column_names_in_a_contract(tmp_path: Path) -> None:
    path = write(tmp_path, "d.npz", npz_bytes(X=np.array([[1.5, 2.0], [2.5, 3.5]]), y=np.array([0, 1])))
    contract = Contract(schema=(ColumnRule("x0", "float"), ColumnRule("x1", "int")))
    with pytest.raises(ContractViolation, match=r"column 'x1': 1 row not an int \(row 2: 3.5\)"):
        load_dataset(spec(path, target=None, contract=contract))


def test_contract_exact_and_subset_and_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", GOOD_CSV)
    listed = Contract(schema=(ColumnRule("age", "int"), ColumnRule("label", "int")), columns="subset")
    assert load_dataset(spec(path, contract=listed)).n == 3
    with pytest.raises(ContractViolation, match="columns: exact, but the file has 3 columns the schema does not list: plan, signup, customer_id"):
        load_dataset(spec(path, contract=Contract(listed.schema, columns="exact")))
    with pytest.raises(ContractViolation, match=r"column 'region': missing from the file \(columns: age, plan, signup, customer_id, label\)"):
        load_dataset(spec(path, contract=Contract((ColumnRule("region", "str"),))))


def test_contract_row_counts(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", GOOD_CSV)
    assert load_dataset(spec(path, contract=Contract(rows_min=3, rows_max=3))).n == 3
    with pytest.raises(ContractViolation, match=r"\(1 rule; .*\): rows: 3 rows, fewer than min 1000$"):
        load_dataset(spec(path, contract=Contract(rows_min=1000)))
    with pytest.raises(ContractViolation, match="rows: 3 rows, more than max 2"):
        load_dataset(spec(path, contract=Contract(rows_max=2)))


def test_the_pin_is_checked_before_the_contract(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "age,label\n1,0\n")
    with pytest.raises(DatasetError, match="sha256 mismatch"):
        load_dataset(spec(path, sha256="0" * 64, contract=Contract(rows_min=10)))


def test_parse_errors_come_before_the_contract(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "age,label\n1,0\n2\n")
    with pytest.raises(DatasetError, match="line 3 has 1 fields"):
        load_dataset(spec(path, contract=Contract(rows_min=10)))


def test_store_remembers_a_contract_violation(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "age,label\n1,0\n")
    store = DatasetStore(config_with(tmp_path, {"holdout": spec(path, contract=Contract(rows_min=2))}))
    with pytest.raises(ContractViolation) as first:
        store.get("holdout")
    path.write_text("age,label\n1,0\n2,1\n")
    with pytest.raises(ContractViolation) as second:
        store.get("holdout")
    assert second.value is first.value


# --- freshness -----------------------------------------------------------------------------------

NOW = datetime(2026, 11, 24, 11, 0, tzinfo=timezone.utc)
EVENTS = "x,label,event_time\n1,0,2026-10-01T00:00:00Z\n2,1,\n3,0,2026-10-14T10:00:00+02:00\n4,1,not a time\n"


def aged(path: Path, days: float) -> Path:
    """Set the file's modification time ``days`` before NOW."""
    stamp = (NOW - timedelta(days=days)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_fresh_file_by_modification_time(tmp_path: Path) -> None:
    path = aged(write(tmp_path, "d.csv", "x,label\n1,0\n"), days=2)
    data = load_dataset(spec(path, freshness=Freshness("30d", 30 * 86400.0)), now=NOW)
    assert data.warnings == ()
    assert data.age == {
        "seconds": 2 * 86400.0,
        "source": "mtime",
        "as_of": "2026-11-22T11:00:00Z",
        "max_age_seconds": 30 * 86400.0,
        "stale": False,
    }
    assert json.loads(json.dumps(data.age)) == data.age  # plain JSON types


def test_stale_file_blocks(tmp_path: Path) -> None:
    path = aged(write(tmp_path, "d.csv", "x,label\n1,0\n"), days=41 + 3 / 24)
    with pytest.raises(StaleData) as info:
        load_dataset(spec(path, freshness=Freshness("30d", 30 * 86400.0)), now=NOW)
    assert info.value.code == "stale_data" and isinstance(info.value, PromoteError)
    assert str(info.value) == (
        f"datasets.holdout: {path} is stale: 41d 3h old, more than max_age 30d (file modified 2026-10-14T08:00:00Z)"
    )


def test_stale_file_warns(tmp_path: Path) -> None:
    path = aged(write(tmp_path, "d.csv", "x,label\n1,0\n"), days=41 + 3 / 24)
    data = load_dataset(spec(path, freshness=Freshness("30d", 30 * 86400.0, on_stale="warn")), now=NOW)
    assert data.n == 1
    assert data.warnings == (f"datasets.holdout: {path} is stale: 41d 3h old, more than max_age 30d (file modified 2026-10-14T08:00:00Z)",)
    assert data.age["stale"] is True and data.age["source"] == "mtime"


def test_as_of_uses_the_newest_parseable_value(tmp_path: Path) -> None:
    path = aged(write(tmp_path, "d.csv", EVENTS), days=0)  # a fresh file: the column decides
    fresh = load_dataset(spec(path, freshness=Freshness("60d", 60 * 86400.0, as_of="event_time")), now=NOW)
    assert fresh.age == {
        "seconds": (41 * 86400.0 + 3 * 3600),
        "source": "as_of:event_time",
        "as_of": "2026-10-14T08:00:00Z",
        "max_age_seconds": 60 * 86400.0,
        "stale": False,
    }
    with pytest.raises(StaleData) as info:
        load_dataset(spec(path, freshness=Freshness("30d", 30 * 86400.0, as_of="event_time")), now=NOW)
    assert str(info.value) == (
        f"datasets.holdout: {path} is stale: 41d 3h old, more than max_age 30d (newest event_time 2026-10-14T08:00:00Z)"
    )


def test_as_of_in_jsonl_and_npz(tmp_path: Path) -> None:
    records = [{"x": 1, "label": 0, "t": "2026-11-20T00:00:00"}, {"x": 2, "label": 1, "t": None}]
    freshness = Freshness("7d", 7 * 86400.0, as_of="t")
    data = load_dataset(spec(write(tmp_path, "d.jsonl", jsonl(records)), freshness=freshness), now=NOW)
    assert data.age["as_of"] == "2026-11-20T00:00:00Z" and not data.age["stale"]
    arrays = {"X": np.zeros((2, 1)), "y": np.array([0, 1]), "t": np.array(["2026-11-01", "2026-11-02"], dtype="datetime64[D]")}
    with pytest.raises(StaleData, match=r"22d 11h old, more than max_age 7d \(newest t 2026-11-02T00:00:00Z\)"):
        load_dataset(spec(write(tmp_path, "d.npz", npz_bytes(**arrays)), target=None, freshness=freshness), now=NOW)


def test_as_of_column_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "x,label\n1,0\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(spec(path, freshness=Freshness("1d", 86400.0, as_of="event_time")), now=NOW)
    assert str(info.value) == f"datasets.holdout.as_of: column 'event_time' not found in {path} (columns: x, label)"


@pytest.mark.parametrize("on_stale", ["block", "warn"])
def test_as_of_column_without_a_datetime_always_blocks(tmp_path: Path, on_stale: str) -> None:
    path = write(tmp_path, "d.csv", "x,label,event_time\n1,0,\n2,1,yesterday\n")
    with pytest.raises(StaleData) as info:
        load_dataset(spec(path, freshness=Freshness("1d", 86400.0, as_of="event_time", on_stale=on_stale)), now=NOW)
    assert str(info.value) == (
        f"datasets.holdout: {path}: cannot tell its age: column 'event_time' (as_of) has no ISO 8601 datetime value"
    )


def test_now_defaults_to_the_real_clock(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "x,label\n1,0\n")  # modified just now
    data = load_dataset(spec(path, freshness=Freshness("1h", 3600.0)))
    assert 0 <= data.age["seconds"] < 60 and not data.age["stale"]
    store = DatasetStore(config_with(tmp_path, {"holdout": spec(aged(path, days=2), freshness=Freshness("1d", 86400.0))}), now=NOW)
    with pytest.raises(StaleData, match="2d old"):
        store.get("holdout")


def test_the_contract_is_checked_before_freshness(tmp_path: Path) -> None:
    path = aged(write(tmp_path, "d.csv", "x,label\n1,0\n"), days=400)
    with pytest.raises(ContractViolation):
        load_dataset(spec(path, contract=Contract(rows_min=2), freshness=Freshness("1d", 86400.0)), now=NOW)
