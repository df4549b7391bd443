"""Learned error classifier: features, training and safe, lazy inference.

Texts are parsed like the rules do (`recoup.errors.text.parse`): only message lines and exception type names
are evidence, never stack frames or quoted source (a provoker's function name would leak the label). Volatile
tokens are masked (paths, URLs, addresses and ports, hex, numbers other than HTTP-like status codes, random ids)
so the model learns wording, not the machine it was trained on.

Features are three TF-IDF blocks computed here, in plain Python, so inference needs numpy only: word uni- and
bigrams, character 3-5-grams inside words, and exception-type words (CamelCase pieces of every type name, so
`ConnectionRefusedError` and `ConnectException` share `connection`). The classifier is a multinomial logistic
regression fitted by scikit-learn at training time; probabilities are calibrated with one temperature fitted
on predictions for sources the model had not seen. The shipped model is a compressed `.npz` of plain arrays
(vocabulary, idf, coefficients), loaded with `allow_pickle=False` on first use.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recoup.errors.taxonomy import Category
from recoup.errors.text import parse

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["MODEL_PATH", "Model", "Prediction", "features", "fit_temperature", "load_model", "normalise", "out_of_fold",
           "predict", "train"]

MODEL_PATH = Path(__file__).resolve().parent / "model" / "classifier.npz"
#: Error texts longer than this are cut to head and tail: the cause is named there.
_MAX_CHARS = 3000
_BLOCK_WEIGHTS = {"w": 1.0, "c": 1.0, "t": 0.7}

_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I), " urltok "),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), " addrtok "),
    (re.compile(r"\[[0-9a-f:]*:[0-9a-f:]*\](?::\d+)?", re.I), " addrtok "),
    (re.compile(r"\blocalhost(?::\d+)?\b", re.I), " addrtok "),
    (re.compile(r"(?:[A-Za-z]:)?(?:[~.]{0,2}[/\\][\w.@+~-]+){2,}[/\\]?"), " pathtok "),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), " hextok "),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b", re.I), " hextok "),
    (re.compile(r"\b(?=\w*\d)(?=\w*[a-z])\w{8,}\b", re.I), " idtok "),
    (re.compile(r":\d{2,5}\b"), " porttok "),
    (re.compile(r"\b(?:tmp|temp)\w+", re.I), " tmptok "),
)
_NUMBER = re.compile(r"(?<![A-Za-z_])\d+")
_WORD = re.compile(r"[a-z][a-z_']+|[1-5]\d\d|[a-z]")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _number(m: re.Match[str]) -> str:
    """Three-digit numbers that could be HTTP statuses stay (they name the cause); others become `0`."""
    digits = m.group(0)
    return digits if len(digits) == 3 and digits[0] in "12345" else "0"


def _mask(line: str) -> str:
    for pattern, token in _MASKS:
        line = pattern.sub(token, line)
    return _NUMBER.sub(_number, line)


def normalise(text: str) -> tuple[str, list[str]]:
    """(masked, lower-cased message text; exception type names) of an error text."""
    if len(text) > 2 * _MAX_CHARS * 4:
        text = text[: _MAX_CHARS * 4] + "\n" + text[-_MAX_CHARS * 4 :]
    parsed = parse(text)
    body = "\n".join(parsed.messages)
    if len(body) > _MAX_CHARS:
        body = body[: _MAX_CHARS // 2] + "\n" + body[-_MAX_CHARS // 2 :]
    return _mask(body).lower(), parsed.types


def _type_words(types: Iterable[str]) -> list[str]:
    out: list[str] = []
    for name in types:
        bare = name.rsplit(".", 1)[-1]
        out.append("=" + bare.lower())
        out.extend(piece.lower() for piece in _CAMEL.findall(bare) if not piece.isdigit())
        module = name.rsplit(".", 1)[0] if "." in name else ""
        if module:
            out.append("mod=" + module.split(".", 1)[0].lower())
    return out


_PY_FRAME = re.compile(r'^\s*File "([^"\n]+)", line \d+, in ', re.M)
_STDLIB_DIR = re.compile(r"/lib/python\d[\d.]*/(?!site-packages|dist-packages)")
_PACKAGES_DIR = re.compile(r"/(?:site|dist)-packages/([\w.-]+)")


def _frame_words(text: str) -> list[str]:
    """Where a Python traceback's innermost frame is: the same ValueError means bad input when a stdlib or library
    parser raised it and a defect when the calling code did, so the place is evidence the message may not carry."""
    frames = _PY_FRAME.findall(text)
    if not frames:
        return []
    path = frames[-1].replace("\\", "/")
    library = _PACKAGES_DIR.search(path)
    if library:
        return ["frame=lib", "frame=lib:" + library.group(1).split(".", 1)[0].lower()]
    if _STDLIB_DIR.search(path) or path.startswith("<frozen"):
        stem = path.rsplit("/", 1)[-1].removesuffix(".py").lower()
        return ["frame=stdlib", "frame=stdlib:" + stem]
    return ["frame=app"]


def features(text: str) -> dict[str, Counter[str]]:
    """Raw term counts per block: `w` words and word bigrams, `c` character n-grams, `t` type words."""
    body, types = normalise(text)
    words = _WORD.findall(body)
    w: Counter[str] = Counter(words)
    w.update(f"{a} {b}" for a, b in pairwise(words))
    c: Counter[str] = Counter()
    for word in set(words):
        padded = f" {word} "
        for n in (3, 4, 5):
            c.update(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))
    t: Counter[str] = Counter(_type_words(types) + _frame_words(text))
    return {"w": w, "c": c, "t": t}


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's answer: best category, its calibrated probability, and all class probabilities."""

    category: Category
    probability: float
    probabilities: dict[Category, float]


class Model:
    """A trained model as plain arrays: `vocab[i]` is `block:term`, with `idf[i]` and row `coef[i]`."""

    def __init__(self, vocab: Sequence[str], idf: npt.NDArray[np.float32], coef: npt.NDArray[np.float32],
                 intercept: npt.NDArray[np.float32], classes: Sequence[str], temperature: float,
                 trained_on: dict[str, Sequence[str]] | None = None) -> None:
        if len(vocab) != len(idf) or coef.shape != (len(vocab), len(classes)) or len(intercept) != len(classes):
            raise ValueError(f"model arrays disagree: vocab {len(vocab)}, idf {len(idf)}, coef {coef.shape}, "
                             f"intercept {len(intercept)}, classes {len(classes)}")
        if not temperature > 0:
            raise ValueError(f"model temperature must be > 0, got {temperature}")
        self.vocab = list(vocab)
        self.index = {term: i for i, term in enumerate(self.vocab)}
        self.idf = idf
        self.coef = coef
        self.intercept = intercept
        self.classes = [Category(c) for c in classes]
        self.temperature = temperature
        #: provenance, e.g. {"files": [...], "sources": [...]}: lets an evaluation pick records the model never saw
        self.trained_on = {key: list(values) for key, values in (trained_on or {}).items()}

    def vector(self, text: str) -> tuple[list[int], list[float]]:
        """Sparse TF-IDF vector: sublinear tf, l2-normalised per block, blocks weighted."""
        indices: list[int] = []
        values: list[float] = []
        for block, counts in features(text).items():
            start = len(indices)
            for term, count in counts.items():
                i = self.index.get(f"{block}:{term}")
                if i is not None:
                    indices.append(i)
                    values.append((1.0 + math.log(count)) * float(self.idf[i]))
            norm = math.sqrt(sum(v * v for v in values[start:]))
            if norm > 0:
                scale = _BLOCK_WEIGHTS[block] / norm
                values[start:] = [v * scale for v in values[start:]]
        return indices, values

    def logits(self, text: str) -> npt.NDArray[np.float64]:
        import numpy as np

        indices, values = self.vector(text)
        scores = self.intercept.astype(np.float64)
        if indices:
            scores = scores + np.asarray(values, dtype=np.float64) @ self.coef[indices].astype(np.float64)
        return scores

    def predict(self, text: str) -> Prediction:
        import numpy as np

        z = self.logits(text) / self.temperature
        z = np.exp(z - z.max())
        p = z / z.sum()
        best = int(p.argmax())
        probs = {c: float(p[i]) for i, c in enumerate(self.classes)}
        return Prediction(self.classes[best], float(p[best]), probs)

    def save(self, path: Path) -> None:
        """Write the model as a compressed npz of plain arrays (no pickled objects)."""
        import numpy as np

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        arrays: dict[str, Any] = {
            "vocab": np.asarray(self.vocab, dtype=str), "idf": self.idf.astype(np.float32),
            "coef": self.coef.astype(np.float16), "intercept": self.intercept.astype(np.float32),
            "classes": np.asarray([c.value for c in self.classes], dtype=str),
            "temperature": np.asarray([self.temperature], dtype=np.float64)}
        arrays.update({f"trained_on_{key}": np.asarray(sorted(values), dtype=str)
                       for key, values in self.trained_on.items()})
        np.savez_compressed(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Model:
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            missing = {"vocab", "idf", "coef", "intercept", "classes", "temperature"} - set(data.files)
            if missing:
                raise ValueError(f"model file {path} lacks arrays: {sorted(missing)}")
            trained_on: dict[str, Sequence[str]] = {
                str(name).removeprefix("trained_on_"): [str(v) for v in data[name]]
                for name in data.files if str(name).startswith("trained_on_")}
            return cls([str(v) for v in data["vocab"]], data["idf"].astype(np.float32),
                       data["coef"].astype(np.float32), data["intercept"].astype(np.float32),
                       [str(c) for c in data["classes"]], float(data["temperature"][0]), trained_on)


_LOCK = threading.Lock()
_LOADED: dict[Path, Model] = {}


def load_model(path: Path = MODEL_PATH) -> Model:
    """The model at `path`, loaded once on first use (thread-safe)."""
    model = _LOADED.get(path)
    if model is None:
        with _LOCK:
            model = _LOADED.get(path)
            if model is None:
                model = Model.load(path)
                _LOADED[path] = model
    return model


def predict(text: str) -> Prediction:
    """Classify error text with the shipped model."""
    return load_model().predict(text)


# --------------------------------------------------------------------------- training


def _vectorise(docs: list[dict[str, Counter[str]]], min_df: int) -> tuple[list[str], Any, Any]:
    """(vocab, idf, csr matrix) over `docs`, same weighting as `Model.vector`."""
    import numpy as np
    from scipy import sparse  # type: ignore[import-untyped]

    df: Counter[str] = Counter()
    for doc in docs:
        for block, counts in doc.items():
            df.update(f"{block}:{term}" for term in counts)
    vocab = sorted(term for term, n in df.items() if n >= min_df)
    index = {term: i for i, term in enumerate(vocab)}
    n_docs = len(docs)
    idf = np.asarray([math.log((1 + n_docs) / (1 + df[t])) + 1.0 for t in vocab], dtype=np.float32)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, doc in enumerate(docs):
        for block, counts in doc.items():
            start = len(vals)
            for term, count in counts.items():
                i = index.get(f"{block}:{term}")
                if i is not None:
                    rows.append(r)
                    cols.append(i)
                    vals.append((1.0 + math.log(count)) * float(idf[i]))
            norm = math.sqrt(sum(v * v for v in vals[start:]))
            if norm > 0:
                scale = _BLOCK_WEIGHTS[block] / norm
                vals[start:] = [v * scale for v in vals[start:]]
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n_docs, len(vocab)), dtype=np.float64)
    return vocab, idf, matrix


def train(texts: Sequence[str], labels: Sequence[str], *, c: float = 10.0, min_df: int = 2,
          temperature: float = 1.0, sample_weight: Sequence[float] | None = None) -> Model:
    """Fit a model on labelled texts (needs scikit-learn). `temperature` comes from `fit_temperature`;
    `sample_weight`, when given, weighs each text (benchmarks/classifier_temporal.py compares weightings)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    if len(texts) != len(labels):
        raise ValueError(f"texts ({len(texts)}) and labels ({len(labels)}) differ in length")
    bad = sorted({label for label in labels if label not in {c.value for c in Category}})
    if bad:
        raise ValueError(f"labels are not categories: {bad}")
    vocab, idf, matrix = _vectorise([features(t) for t in texts], min_df)
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(matrix, list(labels), sample_weight=None if sample_weight is None else np.asarray(sample_weight))
    classes = [str(x) for x in clf.classes_]
    coef = np.asarray(clf.coef_, dtype=np.float32).T
    intercept = np.asarray(clf.intercept_, dtype=np.float32)
    if len(classes) == 2:  # sklearn keeps one row for binary problems
        coef = np.hstack([-coef / 2, coef / 2])
        intercept = np.asarray([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    keep = np.abs(coef).max(axis=1) >= 1e-3
    kept = [t for t, k in zip(vocab, keep, strict=True) if k]
    return Model(kept, idf[keep], coef[keep], intercept, classes, temperature)


def fit_temperature(logits: Sequence[Sequence[float]], labels: Sequence[int]) -> float:
    """The temperature minimising the negative log-likelihood of out-of-sample logits."""
    import numpy as np

    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    best_t, best_nll = 1.0, math.inf
    for t in np.exp(np.linspace(math.log(0.1), math.log(10.0), 200)):
        s = z / t
        s = s - s.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        nll = float(-logp[np.arange(len(y)), y].mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def out_of_fold(texts: Sequence[str], labels: Sequence[str], groups: Sequence[str], *, folds: int = 5,
                c: float = 10.0) -> tuple[list[str], list[list[float]]]:
    """Class order and, for every text, the logits of a model trained without its group (grouped k-fold)."""
    import numpy as np

    names = sorted(set(groups))
    # deterministic, balanced assignment of groups to folds: largest groups first, to the emptiest fold
    sizes = Counter(groups)
    fold_of: dict[str, int] = {}
    load = [0] * folds
    for g in sorted(names, key=lambda g: (-sizes[g], g)):
        k = int(np.argmin(load))
        fold_of[g] = k
        load[k] += sizes[g]
    classes = sorted({c.value for c in Category} & set(labels))
    out: list[list[float]] = [[] for _ in texts]
    for k in range(folds):
        train_idx = [i for i, g in enumerate(groups) if fold_of[g] != k]
        test_idx = [i for i, g in enumerate(groups) if fold_of[g] == k]
        if not test_idx:
            continue
        model = train([texts[i] for i in train_idx], [labels[i] for i in train_idx], c=c)
        order = [model.classes.index(Category(name)) if Category(name) in model.classes else -1 for name in classes]
        for i in test_idx:
            z = model.logits(texts[i])
            out[i] = [float(z[j]) if j >= 0 else -1e9 for j in order]
    return classes, out
