#!/usr/bin/env python3
"""A glTF 2.0 validator for binary glTF (GLB) files: Python 3 standard library and NumPy.

The Khronos glTF-Validator cannot be installed here (it ships through npm, not PyPI), so
this checks what the glTF 2.0 specification requires of the assets KMTalk writes and of
the ones it imports, with the Khronos validator's style of report: every message has a
code (``ACCESSOR_MIN_MISMATCH``), a severity (error, warning, info) and the JSON pointer
of the offending item (``/accessors/0/min``).

What is checked:

* GLB container: magic ``glTF``, version 2, total length equal to the file's, chunk
  order and types (JSON first, then at most one BIN), chunk lengths multiples of 4, the
  JSON chunk padded with spaces and the BIN chunk with zeros.
* JSON: parses, ``asset.version`` is ``2.0``, every index reference is in range (scene,
  scenes, nodes, meshes, accessors, bufferViews, buffers, materials, textures, images,
  samplers, skins, cameras, animations' samplers and channels), nodes form a forest (no
  cycles, at most one parent, scene roots have none).
* Buffers and views: the GLB-stored buffer's byteLength against the BIN chunk, views
  inside their buffers, byteStride only on vertex-attribute views, 4..252 and a multiple
  of 4, targets used as declared.
* Accessors: componentType, type, count, normalized; byte offsets aligned to the
  component size; the data inside its view; min/max of the right length and equal to the
  data's actual bounds (required on POSITION); sparse indices increasing and in range;
  no NaN or infinity in float data; base NORMAL vectors of unit length (warning).
* Meshes: attribute formats, equal attribute counts, indices (unsigned, no primitive
  restart values, in range of the vertex count, a multiple of 3 for triangles), morph
  targets (same count as the base attributes, same target set in all primitives),
  ``mesh.weights`` and ``extras.targetNames`` of the target count.
* Animations: sampler inputs scalar float with min/max, times >= 0 and strictly
  increasing; output counts for the interpolation (LINEAR/STEP: one per input, x3 for
  CUBICSPLINE) and path (x morph target count for ``weights``, whose node needs a mesh);
  channel paths valid and unique.
* Materials: factors in [0, 1], ``baseColorFactor`` of length 4, alpha mode.
* Extensions: every extension used is declared in ``extensionsUsed``; every required
  one is used.
* ``asset.extras`` holds no absolute local path (an asset shared with others must not
  carry its author's folders); absolute paths in other ``extras`` are warnings.

Usage:  python3 scripts/gltf_validate.py FILE.glb [FILE.glb ...] [--quiet]
Exits 1 when any file has an error, 0 otherwise (warnings are printed, not fatal).
As a module: ``validate_file(path)`` or ``validate_bytes(data)`` return a ``Report``.
"""

from __future__ import annotations

import json
import math
import re
import struct
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np

ERROR, WARNING, INFO = "error", "warning", "info"

GLB_MAGIC = b"glTF"
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942

COMPONENT_TYPES = {
    5120: ("b", 1), 5121: ("B", 1), 5122: ("<i2", 2), 5123: ("<u2", 2), 5125: ("<u4", 4), 5126: ("<f4", 4),
}
COMPONENT_DTYPES = {5120: np.int8, 5121: np.uint8, 5122: "<i2", 5123: "<u2", 5125: "<u4", 5126: "<f4"}
TYPE_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
PRIMITIVE_RESTART = {5121: 0xFF, 5123: 0xFFFF, 5125: 0xFFFFFFFF}
MODES = range(0, 7)
TRIANGLES = 4
INTERPOLATIONS = ("LINEAR", "STEP", "CUBICSPLINE")
PATHS = {"translation": ("VEC3",), "rotation": ("VEC4",), "scale": ("VEC3",), "weights": ("SCALAR",)}
ALPHA_MODES = ("OPAQUE", "MASK", "BLEND")
# |x.x + y.y + z.z - 1| above this is not unit length (the Khronos validator's threshold).
UNIT_LENGTH_TOLERANCE = 0.0005
SEMANTIC = re.compile(r"^(POSITION|NORMAL|TANGENT|(TEXCOORD|COLOR|JOINTS|WEIGHTS)_\d+|_.+)$")
ABSOLUTE_PATH = re.compile(r"^(/[^/\s]+/|~[/\\]|[A-Za-z]:[\\/]|\\\\[^\\]+\\|file:/)")


@dataclass
class Message:
    """One finding: a code, a severity, the JSON pointer of the item, a description."""

    code: str
    severity: str
    pointer: str
    text: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.code} {self.pointer or '/'}: {self.text}"


@dataclass
class Report:
    """Everything found in one asset."""

    name: str = ""
    messages: List[Message] = field(default_factory=list)

    @property
    def errors(self) -> List[Message]:
        return [m for m in self.messages if m.severity == ERROR]

    @property
    def warnings(self) -> List[Message]:
        return [m for m in self.messages if m.severity == WARNING]

    def codes(self, severity: Optional[str] = None) -> List[str]:
        """The codes found (of one severity, if given)."""
        return [m.code for m in self.messages if severity is None or m.severity == severity]

    def __str__(self) -> str:
        head = f"{self.name}: {len(self.errors)} errors, {len(self.warnings)} warnings"
        return "\n".join([head] + ["  " + str(m) for m in self.messages])


class _Validator:
    """The checks of one asset; `run` fills `report`."""

    def __init__(self, data: bytes, name: str):
        self.data = data
        self.report = Report(name=name)
        self.gltf: Dict[str, Any] = {}
        self.bin: Optional[bytes] = None
        self.buffers: List[Optional[bytes]] = []
        self.accessor_ok: Dict[int, bool] = {}
        self.accessor_cache: Dict[int, Optional[np.ndarray]] = {}
        # How each view is used: "vertex", "index", "other" (animation, sparse, skin, image).
        self.view_uses: Dict[int, set] = {}
        self.parents: Dict[int, int] = {}

    # ------------------------------------------------------------------ reporting

    def add(self, code: str, pointer: str, text: str, severity: str = ERROR) -> None:
        self.report.messages.append(Message(code, severity, pointer, text))

    def array(self, name: str) -> List[Any]:
        value = self.gltf.get(name, [])
        return value if isinstance(value, list) else []

    def ref(self, pointer: str, value: Any, target: str, required: bool = False) -> Optional[int]:
        """The index `value` into the top-level array `target`, or None (reported) when it
        is missing, not an integer or out of range."""
        if value is None:
            if required:
                self.add("UNDEFINED_PROPERTY", pointer, f"required reference into {target} is missing")
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.add("TYPE_MISMATCH", pointer, f"reference {value!r} is not an integer")
            return None
        if not 0 <= value < len(self.array(target)):
            self.add("UNRESOLVED_REFERENCE", pointer, f"index {value} is out of range: {target} has {len(self.array(target))} items")
            return None
        return value

    def number_in(self, pointer: str, value: Any, low: float, high: float) -> None:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
            self.add("VALUE_NOT_IN_RANGE", pointer, f"{value!r} is not a number in [{low:g}, {high:g}]")

    # ------------------------------------------------------------------ container

    def run(self) -> Report:
        if not self.parse_glb():
            return self.report
        self.check_asset()
        self.check_extensions()
        self.check_buffers()
        self.check_buffer_views()
        self.check_accessors()
        self.check_nodes_and_scenes()
        self.check_meshes()
        self.check_skins()
        self.check_animations()
        self.check_materials()
        self.check_textures()
        self.check_view_uses()
        self.check_accessor_data()
        self.check_extras_paths(self.gltf, "")
        return self.report

    def parse_glb(self) -> bool:
        data = self.data
        if len(data) < 12:
            self.add("GLB_UNEXPECTED_END_OF_HEADER", "", f"{len(data)} bytes: shorter than the 12-byte GLB header")
            return False
        magic, version, length = data[:4], *struct.unpack_from("<II", data, 4)
        if magic != GLB_MAGIC:
            self.add("GLB_INVALID_MAGIC", "", f"magic {magic!r} is not b'glTF'")
            return False
        if version != 2:
            self.add("GLB_INVALID_VERSION", "", f"GLB version {version} is not 2")
            return False
        if length != len(data):
            self.add("GLB_LENGTH_MISMATCH", "", f"the header's length {length} is not the file's {len(data)} bytes")
        if length % 4:
            self.add("GLB_LENGTH_MISALIGNED", "", f"total length {length} is not a multiple of 4")
        offset, index, json_bytes = 12, 0, None
        end = min(length, len(data))
        while offset < end:
            if offset + 8 > end:
                self.add("GLB_CHUNK_TOO_BIG", "", f"chunk {index} header runs past the end of the file")
                break
            chunk_length, chunk_type = struct.unpack_from("<II", data, offset)
            body = offset + 8
            if chunk_length % 4:
                self.add("GLB_CHUNK_LENGTH_UNALIGNED", "", f"chunk {index} length {chunk_length} is not a multiple of 4")
            if body + chunk_length > end:
                self.add("GLB_CHUNK_TOO_BIG", "", f"chunk {index} ({chunk_length} bytes) runs past the end of the file")
                chunk_length = end - body
            chunk = data[body:body + chunk_length]
            if index == 0 and chunk_type != CHUNK_JSON:
                self.add("GLB_UNEXPECTED_FIRST_CHUNK", "", f"the first chunk has type 0x{chunk_type:08x}, not JSON")
                return False
            if chunk_type == CHUNK_JSON:
                if index != 0:
                    self.add("GLB_DUPLICATE_CHUNK", "", f"chunk {index}: a second JSON chunk")
                else:
                    json_bytes = chunk
            elif chunk_type == CHUNK_BIN:
                if index != 1:
                    self.add("GLB_UNEXPECTED_BIN_CHUNK", "", f"chunk {index}: the BIN chunk must be the second chunk")
                if self.bin is None:
                    self.bin = chunk
            else:
                self.add("GLB_UNKNOWN_CHUNK_TYPE", "", f"chunk {index} has unknown type 0x{chunk_type:08x}", WARNING)
            offset = body + chunk_length
            index += 1
        if json_bytes is None:
            self.add("GLB_MISSING_JSON_CHUNK", "", "no JSON chunk")
            return False
        try:
            text = json_bytes.decode("utf-8")
        except UnicodeDecodeError as error:
            self.add("INVALID_JSON", "", f"the JSON chunk is not UTF-8: {error}")
            return False
        if text.startswith("\ufeff"):
            self.add("BOM_FOUND", "", "the JSON chunk starts with a byte order mark")
            text = text[1:]
        try:
            decoder = json.JSONDecoder()
            start = len(text) - len(text.lstrip(" \t\r\n"))
            root, stop = decoder.raw_decode(text, start)
        except ValueError as error:
            self.add("INVALID_JSON", "", f"the JSON chunk does not parse: {error}")
            return False
        bom = 3 if json_bytes.startswith(b"\xef\xbb\xbf") else 0
        padding = json_bytes[bom + len(text[:stop].encode("utf-8")):]
        if padding.strip(b" \t\r\n\x00"):
            self.add("INVALID_JSON", "", f"bytes after the JSON value: {padding[:8]!r}")
        elif b"\x00" in padding:
            self.add("GLB_JSON_PADDING_INVALID", "", "the JSON chunk is padded with zeros, not spaces (0x20)")
        elif padding.strip(b" "):
            self.add("GLB_JSON_PADDING_INVALID", "", "the JSON chunk is padded with whitespace other than spaces", WARNING)
        if not isinstance(root, dict):
            self.add("TYPE_MISMATCH", "", "the JSON root is not an object")
            return False
        self.gltf = root
        if self.bin is not None:
            declared = self.array("buffers")
            used = declared[0].get("byteLength") if declared and isinstance(declared[0], dict) and "uri" not in declared[0] else None
            if isinstance(used, int) and used <= len(self.bin):
                tail = self.bin[used:]
                if tail.strip(b"\x00"):
                    self.add("GLB_BIN_PADDING_INVALID", "", "the BIN chunk is padded with bytes other than zeros")
        return True

    # ------------------------------------------------------------------ asset, extensions

    def check_asset(self) -> None:
        asset = self.gltf.get("asset")
        if not isinstance(asset, dict):
            self.add("UNDEFINED_PROPERTY", "/asset", "asset is missing")
            return
        version = asset.get("version")
        if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+", version):
            self.add("PATTERN_MISMATCH", "/asset/version", f"version {version!r} is not MAJOR.MINOR")
        elif version.split(".")[0] != "2":
            self.add("UNKNOWN_ASSET_MAJOR_VERSION", "/asset/version", f"version {version} is not glTF 2.x")
        elif version != "2.0":
            self.add("UNKNOWN_ASSET_MINOR_VERSION", "/asset/version", f"version {version} is newer than 2.0", WARNING)
        extras = asset.get("extras")
        if extras is not None:
            for pointer, text in _strings(extras, "/asset/extras"):
                if ABSOLUTE_PATH.match(text):
                    self.add("ASSET_EXTRAS_ABSOLUTE_PATH", pointer, f"absolute local path {text!r}: name the file only")

    def check_extensions(self) -> None:
        used = self.gltf.get("extensionsUsed", [])
        required = self.gltf.get("extensionsRequired", [])
        for name, values in (("extensionsUsed", used), ("extensionsRequired", required)):
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                self.add("TYPE_MISMATCH", f"/{name}", "not an array of strings")
                return
            if len(set(values)) != len(values):
                self.add("VALUE_NOT_UNIQUE", f"/{name}", "names an extension twice")
        for i, name in enumerate(required):
            if name not in used:
                self.add("UNUSED_EXTENSION_REQUIRED", f"/extensionsRequired/{i}", f"{name} is required but not in extensionsUsed")
        found = set()
        for pointer, names in _extension_objects(self.gltf, ""):
            for name in names:
                found.add(name)
                if name not in used:
                    self.add("UNDECLARED_EXTENSION", f"{pointer}/extensions/{name}", f"{name} is used but not in extensionsUsed")
        for i, name in enumerate(used):
            if name not in found:
                self.add("UNUSED_EXTENSION", f"/extensionsUsed/{i}", f"{name} is declared but used nowhere", WARNING)
        for i, name in enumerate(required):
            self.add("UNSUPPORTED_EXTENSION", f"/extensionsRequired/{i}", f"{name} is required and not validated here", INFO)

    # ------------------------------------------------------------------ buffers and views

    def check_buffers(self) -> None:
        buffers = self.array("buffers")
        for i, buffer in enumerate(buffers):
            pointer = f"/buffers/{i}"
            data = None
            length = buffer.get("byteLength") if isinstance(buffer, dict) else None
            if not isinstance(length, int) or isinstance(length, bool) or length < 1:
                self.add("VALUE_NOT_IN_RANGE", f"{pointer}/byteLength", f"byteLength {length!r} is not an integer >= 1")
                length = None
            uri = buffer.get("uri") if isinstance(buffer, dict) else None
            if uri is None:
                if i != 0:
                    self.add("BUFFER_MISSING_GLB_DATA", pointer, "only the first buffer may omit uri (the GLB's BIN chunk)")
                elif self.bin is None:
                    self.add("BUFFER_MISSING_GLB_DATA", pointer, "buffer 0 has no uri and the GLB has no BIN chunk")
                elif length is not None:
                    if len(self.bin) < length:
                        self.add("BUFFER_BYTE_LENGTH_MISMATCH", f"{pointer}/byteLength",
                                 f"byteLength {length} exceeds the BIN chunk's {len(self.bin)} bytes")
                    elif len(self.bin) > length + 3:
                        self.add("BUFFER_GLB_CHUNK_TOO_BIG", f"{pointer}/byteLength",
                                 f"the BIN chunk ({len(self.bin)} bytes) is longer than byteLength {length} plus padding", WARNING)
                    data = self.bin[:length]
            elif isinstance(uri, str) and uri.startswith("data:"):
                import base64
                try:
                    data = base64.b64decode(uri.split(",", 1)[1])
                except Exception:  # noqa: BLE001 - any decoding failure is the same finding
                    self.add("INVALID_URI", f"{pointer}/uri", "the data URI does not decode")
                if data is not None and length is not None and len(data) != length:
                    self.add("BUFFER_BYTE_LENGTH_MISMATCH", f"{pointer}/byteLength", f"byteLength {length}, data {len(data)} bytes")
            else:
                if isinstance(uri, str) and ABSOLUTE_PATH.match(uri):
                    self.add("URI_ABSOLUTE_PATH", f"{pointer}/uri", f"absolute local path {uri!r}", WARNING)
                self.add("EXTERNAL_RESOURCE_NOT_LOADED", f"{pointer}/uri", "external buffer not checked", INFO)
            self.buffers.append(data)
        if self.bin is not None and not (buffers and isinstance(buffers[0], dict) and "uri" not in buffers[0]):
            self.add("GLB_UNUSED_BIN_CHUNK", "", "the BIN chunk is referenced by no buffer", WARNING)

    def check_buffer_views(self) -> None:
        for i, view in enumerate(self.array("bufferViews")):
            pointer = f"/bufferViews/{i}"
            if not isinstance(view, dict):
                self.add("TYPE_MISMATCH", pointer, "not an object")
                continue
            buffer = self.ref(f"{pointer}/buffer", view.get("buffer"), "buffers", required=True)
            offset, length = view.get("byteOffset", 0), view.get("byteLength")
            if not isinstance(offset, int) or offset < 0:
                self.add("VALUE_NOT_IN_RANGE", f"{pointer}/byteOffset", f"byteOffset {offset!r} is not an integer >= 0")
                continue
            if not isinstance(length, int) or length < 1:
                self.add("VALUE_NOT_IN_RANGE", f"{pointer}/byteLength", f"byteLength {length!r} is not an integer >= 1")
                continue
            if buffer is not None:
                size = self.array("buffers")[buffer].get("byteLength")
                if isinstance(size, int) and offset + length > size:
                    self.add("BUFFER_VIEW_TOO_LONG", pointer,
                             f"bytes {offset}..{offset + length} run past buffer {buffer}'s {size} bytes")
            stride = view.get("byteStride")
            if stride is not None:
                if not isinstance(stride, int) or not 4 <= stride <= 252:
                    self.add("VALUE_NOT_IN_RANGE", f"{pointer}/byteStride", f"byteStride {stride!r} is not in 4..252")
                elif stride % 4:
                    self.add("VALUE_MULTIPLE_OF", f"{pointer}/byteStride", f"byteStride {stride} is not a multiple of 4")
            target = view.get("target")
            if target is not None and target not in (ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER):
                self.add("VALUE_NOT_IN_LIST", f"{pointer}/target", f"target {target!r} is not 34962 or 34963")

    def view_bytes(self, index: int) -> Optional[bytes]:
        view = self.array("bufferViews")[index]
        buffer = view.get("buffer")
        if not isinstance(buffer, int) or not 0 <= buffer < len(self.buffers) or self.buffers[buffer] is None:
            return None
        data = self.buffers[buffer]
        offset, length = view.get("byteOffset", 0), view.get("byteLength", 0)
        if offset + length > len(data):
            return None
        return data[offset:offset + length]

    def use_view(self, index: Optional[int], use: str) -> None:
        if index is not None:
            self.view_uses.setdefault(index, set()).add(use)

    def use_accessor(self, index: Optional[int], use: str) -> None:
        if index is None:
            return
        accessor = self.array("accessors")[index]
        if isinstance(accessor, dict):
            view = accessor.get("bufferView")
            if isinstance(view, int) and 0 <= view < len(self.array("bufferViews")):
                self.use_view(view, use)
            sparse = accessor.get("sparse")
            if isinstance(sparse, dict):
                for part in ("indices", "values"):
                    inner = sparse.get(part)
                    if isinstance(inner, dict) and isinstance(inner.get("bufferView"), int):
                        if 0 <= inner["bufferView"] < len(self.array("bufferViews")):
                            self.use_view(inner["bufferView"], "sparse")

    def check_view_uses(self) -> None:
        views = self.array("bufferViews")
        for index, uses in sorted(self.view_uses.items()):
            view = views[index]
            pointer = f"/bufferViews/{index}"
            if "byteStride" in view and uses != {"vertex"}:
                self.add("BUFFER_VIEW_BYTE_STRIDE_NOT_VERTEX", f"{pointer}/byteStride",
                         f"byteStride on a view used for {', '.join(sorted(uses - {'vertex'}))} data: only vertex attribute views may have one")
            target = view.get("target")
            if len(uses) > 1 and uses & {"vertex", "index"}:
                self.add("BUFFER_VIEW_TARGET_OVERRIDE", pointer, f"one view used as {', '.join(sorted(uses))}")
            if target == ARRAY_BUFFER and uses - {"vertex"}:
                self.add("BUFFER_VIEW_TARGET_MISMATCH", f"{pointer}/target", f"ARRAY_BUFFER view used for {', '.join(sorted(uses))}")
            if target == ELEMENT_ARRAY_BUFFER and uses - {"index"}:
                self.add("BUFFER_VIEW_TARGET_MISMATCH", f"{pointer}/target", f"ELEMENT_ARRAY_BUFFER view used for {', '.join(sorted(uses))}")

    # ------------------------------------------------------------------ accessors

    def check_accessors(self) -> None:
        views = self.array("bufferViews")
        for i, accessor in enumerate(self.array("accessors")):
            pointer = f"/accessors/{i}"
            self.accessor_ok[i] = False
            if not isinstance(accessor, dict):
                self.add("TYPE_MISMATCH", pointer, "not an object")
                continue
            component, kind, count = accessor.get("componentType"), accessor.get("type"), accessor.get("count")
            ok = True
            if component not in COMPONENT_TYPES:
                self.add("VALUE_NOT_IN_LIST", f"{pointer}/componentType", f"componentType {component!r} is not a glTF one")
                ok = False
            if kind not in TYPE_COMPONENTS:
                self.add("VALUE_NOT_IN_LIST", f"{pointer}/type", f"type {kind!r} is not a glTF one")
                ok = False
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                self.add("VALUE_NOT_IN_RANGE", f"{pointer}/count", f"count {count!r} is not an integer >= 1")
                ok = False
            if accessor.get("normalized") and component in (5125, 5126):
                self.add("ACCESSOR_NORMALIZED_INVALID", f"{pointer}/normalized", "only 8- and 16-bit integers may be normalized")
            if not ok:
                continue
            size = COMPONENT_TYPES[component][1]
            components = TYPE_COMPONENTS[kind]
            for bound in ("min", "max"):
                values = accessor.get(bound)
                if values is not None and (not isinstance(values, list) or len(values) != components):
                    self.add("ACCESSOR_BOUNDS_LENGTH", f"{pointer}/{bound}", f"{bound} must hold {components} numbers")
                    ok = False
            offset = accessor.get("byteOffset", 0)
            view_index = accessor.get("bufferView")
            if view_index is None:
                if "byteOffset" in accessor:
                    self.add("UNSATISFIED_DEPENDENCY", f"{pointer}/byteOffset", "byteOffset without bufferView")
            else:
                view_index = self.ref(f"{pointer}/bufferView", view_index, "bufferViews")
                if view_index is None:
                    continue
                if not isinstance(offset, int) or offset < 0:
                    self.add("VALUE_NOT_IN_RANGE", f"{pointer}/byteOffset", f"byteOffset {offset!r} is not an integer >= 0")
                    continue
                view = views[view_index]
                if offset % size:
                    self.add("ACCESSOR_OFFSET_ALIGNMENT", f"{pointer}/byteOffset", f"byteOffset {offset} is not a multiple of the component size {size}")
                    ok = False
                elif (view.get("byteOffset", 0) + offset) % size:
                    self.add("ACCESSOR_TOTAL_OFFSET_ALIGNMENT", f"{pointer}/byteOffset",
                             f"view offset + accessor offset is not a multiple of the component size {size}")
                    ok = False
                element = _element_size(component, kind)
                stride = view.get("byteStride") or element
                if isinstance(stride, int) and stride < element:
                    self.add("ACCESSOR_SMALL_BYTESTRIDE", pointer, f"the view's byteStride {stride} is below the element size {element}")
                    ok = False
                length = view.get("byteLength", 0)
                if isinstance(length, int) and isinstance(stride, int) and offset + stride * (count - 1) + element > length:
                    self.add("ACCESSOR_TOO_LONG", pointer,
                             f"{count} elements at offset {offset} need {offset + stride * (count - 1) + element} bytes; view {view_index} has {length}")
                    ok = False
            sparse = accessor.get("sparse")
            if sparse is not None:
                ok = self.check_sparse(pointer, accessor, sparse) and ok
            self.accessor_ok[i] = ok

    def check_sparse(self, pointer: str, accessor: Dict[str, Any], sparse: Any) -> bool:
        pointer += "/sparse"
        if not isinstance(sparse, dict):
            self.add("TYPE_MISMATCH", pointer, "not an object")
            return False
        count = sparse.get("count")
        if not isinstance(count, int) or not 1 <= count <= accessor["count"]:
            self.add("ACCESSOR_SPARSE_COUNT_OUT_OF_RANGE", f"{pointer}/count", f"count {count!r} is not in 1..{accessor['count']}")
            return False
        ok = True
        for part in ("indices", "values"):
            inner = sparse.get(part)
            if not isinstance(inner, dict):
                self.add("UNDEFINED_PROPERTY", f"{pointer}/{part}", f"sparse {part} missing")
                ok = False
                continue
            view = self.ref(f"{pointer}/{part}/bufferView", inner.get("bufferView"), "bufferViews", required=True)
            if view is None:
                ok = False
                continue
            if part == "indices":
                component = inner.get("componentType")
                if component not in (5121, 5123, 5125):
                    self.add("VALUE_NOT_IN_LIST", f"{pointer}/indices/componentType", f"{component!r} is not an unsigned integer type")
                    ok = False
                    continue
                element = COMPONENT_TYPES[component][1]
            else:
                component = accessor["componentType"]
                element = _element_size(component, accessor["type"])
            offset = inner.get("byteOffset", 0)
            size = COMPONENT_TYPES[component][1]
            view_json = self.array("bufferViews")[view]
            if (offset + view_json.get("byteOffset", 0)) % size:
                self.add("ACCESSOR_TOTAL_OFFSET_ALIGNMENT", f"{pointer}/{part}/byteOffset", f"not aligned to {size} bytes")
                ok = False
            if offset + element * count > view_json.get("byteLength", 0):
                self.add("ACCESSOR_TOO_LONG", f"{pointer}/{part}", f"{count} sparse {part} run past view {view}")
                ok = False
            for key in ("byteStride", "target"):
                if key in view_json:
                    self.add("BUFFER_VIEW_TARGET_OVERRIDE" if key == "target" else "BUFFER_VIEW_BYTE_STRIDE_NOT_VERTEX",
                             f"/bufferViews/{view}/{key}", f"a view of sparse {part} must not have {key}")
        return ok

    def accessor(self, index: Optional[int]) -> Optional[np.ndarray]:
        """The accessor's elements, shape (count, components), or None when unreadable."""
        if index is None or not self.accessor_ok.get(index):
            return None
        if index in self.accessor_cache:
            return self.accessor_cache[index]
        result = self._read_accessor(self.array("accessors")[index])
        self.accessor_cache[index] = result
        return result

    def _read_accessor(self, accessor: Dict[str, Any]) -> Optional[np.ndarray]:
        component, kind, count = accessor["componentType"], accessor["type"], accessor["count"]
        components = TYPE_COMPONENTS[kind]
        dtype = np.dtype(COMPONENT_DTYPES[component])
        view_index = accessor.get("bufferView")
        if view_index is None:
            values = np.zeros((count, components), dtype=dtype)
        else:
            data = self.view_bytes(view_index)
            if data is None:
                return None
            element = _element_size(component, kind)
            stride = self.array("bufferViews")[view_index].get("byteStride") or element
            offset = accessor.get("byteOffset", 0)
            raw = np.frombuffer(data, dtype=np.uint8)
            rows = np.lib.stride_tricks.as_strided(raw[offset:], shape=(count, element), strides=(stride, 1))
            if kind.startswith("MAT") and component in (5120, 5121, 5122, 5123):
                return None  # column padding of small matrices: not needed by any check here
            values = np.ascontiguousarray(rows).view(dtype).reshape(count, components).copy()
        sparse = accessor.get("sparse")
        if isinstance(sparse, dict):
            indices = self._sparse_part(sparse, "indices", np.dtype(COMPONENT_DTYPES[sparse["indices"]["componentType"]]), 1)
            patch = self._sparse_part(sparse, "values", dtype, components)
            if indices is None or patch is None:
                return None
            indices = indices.reshape(-1).astype(np.int64)
            values = values.copy()
            valid = (indices >= 0) & (indices < count)
            values[indices[valid]] = patch[valid]
        return values

    def _sparse_part(self, sparse: Dict[str, Any], part: str, dtype: np.dtype, components: int) -> Optional[np.ndarray]:
        inner = sparse[part]
        data = self.view_bytes(inner["bufferView"])
        if data is None:
            return None
        offset = inner.get("byteOffset", 0)
        size = dtype.itemsize * components * sparse["count"]
        return np.frombuffer(data[offset:offset + size], dtype=dtype).reshape(sparse["count"], components)

    def check_accessor_data(self) -> None:
        for i, accessor in enumerate(self.array("accessors")):
            values = self.accessor(i)
            if values is None:
                continue
            pointer = f"/accessors/{i}"
            sparse = accessor.get("sparse")
            if isinstance(sparse, dict):
                indices = self._sparse_part(sparse, "indices", np.dtype(COMPONENT_DTYPES[sparse["indices"]["componentType"]]), 1)
                if indices is not None:
                    flat = indices.reshape(-1).astype(np.int64)
                    if np.any(np.diff(flat) <= 0):
                        self.add("ACCESSOR_SPARSE_INDICES_NON_INCREASING", f"{pointer}/sparse/indices", "sparse indices do not strictly increase")
                    if flat.size and flat.max() >= accessor["count"]:
                        self.add("ACCESSOR_SPARSE_INDEX_OOB", f"{pointer}/sparse/indices",
                                 f"sparse index {int(flat.max())} >= count {accessor['count']}")
            if accessor["componentType"] == 5126:
                bad = ~np.isfinite(values)
                if bad.any():
                    element = int(np.argwhere(bad)[0][0])
                    self.add("ACCESSOR_INVALID_FLOAT", pointer, f"element {element} is NaN or infinite ({int(bad.sum())} such values)")
                    continue
            actual = values.astype(np.float64)
            if accessor.get("normalized"):
                actual = _normalize(values, accessor["componentType"])
            for bound, reduce, code in (("min", np.min, "ACCESSOR_MIN_MISMATCH"), ("max", np.max, "ACCESSOR_MAX_MISMATCH")):
                declared = accessor.get(bound)
                if not isinstance(declared, list):
                    continue
                real = reduce(actual, axis=0)
                for c, (d, r) in enumerate(zip(declared, real)):
                    if not isinstance(d, (int, float)):
                        self.add("TYPE_MISMATCH", f"{pointer}/{bound}/{c}", f"{d!r} is not a number")
                        continue
                    # Compared in double as the Khronos validator does: a bound written as
                    # float32's shortest text ("0.1") is not the float's exact value.
                    if float(d) != float(r):
                        self.add(code, f"{pointer}/{bound}/{c}", f"declared {bound} {d!r}, the data's {bound} is {float(r)!r}")

    # ------------------------------------------------------------------ nodes and scenes

    def check_nodes_and_scenes(self) -> None:
        nodes = self.array("nodes")
        for i, node in enumerate(nodes):
            pointer = f"/nodes/{i}"
            if not isinstance(node, dict):
                self.add("TYPE_MISMATCH", pointer, "not an object")
                continue
            children = node.get("children", [])
            if not isinstance(children, list):
                self.add("TYPE_MISMATCH", f"{pointer}/children", "not an array")
                children = []
            for k, child in enumerate(children):
                child = self.ref(f"{pointer}/children/{k}", child, "nodes")
                if child is None:
                    continue
                if child == i:
                    self.add("NODE_LOOP", f"{pointer}/children/{k}", f"node {i} is its own child")
                elif child in self.parents and self.parents[child] != i:
                    self.add("NODE_PARENT_OVERRIDE", f"{pointer}/children/{k}",
                             f"node {child} already has parent {self.parents[child]}")
                else:
                    self.parents[child] = i
            self.ref(f"{pointer}/mesh", node.get("mesh"), "meshes")
            self.ref(f"{pointer}/skin", node.get("skin"), "skins")
            self.ref(f"{pointer}/camera", node.get("camera"), "cameras")
            if "matrix" in node and any(k in node for k in ("translation", "rotation", "scale")):
                self.add("NODE_MATRIX_TRS", pointer, "matrix and translation/rotation/scale together")
            if "skin" in node and "mesh" not in node:
                self.add("NODE_SKIN_WITH_NON_SKINNED_MESH", f"{pointer}/skin", "a skin without a mesh")
            weights = node.get("weights")
            mesh = node.get("mesh")
            if weights is not None and isinstance(mesh, int) and 0 <= mesh < len(self.array("meshes")):
                targets = self.target_count(mesh)
                if isinstance(weights, list) and targets is not None and len(weights) != targets:
                    self.add("NODE_WEIGHTS_INVALID", f"{pointer}/weights", f"{len(weights)} weights for {targets} morph targets")
        # Cycles: follow parents upwards from every node.
        reported = set()
        for start in range(len(nodes)):
            seen, node = [], start
            while node in self.parents:
                if node in seen:
                    cycle = tuple(sorted(seen[seen.index(node):]))
                    if cycle not in reported:
                        reported.add(cycle)
                        self.add("NODE_LOOP", f"/nodes/{node}", f"nodes {list(cycle)} form a cycle")
                    break
                seen.append(node)
                node = self.parents[node]
        scenes = self.array("scenes")
        self.ref("/scene", self.gltf.get("scene"), "scenes")
        for s, scene in enumerate(scenes):
            pointer = f"/scenes/{s}/nodes"
            roots = scene.get("nodes", []) if isinstance(scene, dict) else []
            if len(set(map(str, roots))) != len(roots):
                self.add("VALUE_NOT_UNIQUE", pointer, "a node is listed twice")
            for k, root in enumerate(roots):
                root = self.ref(f"{pointer}/{k}", root, "nodes")
                if root is not None and root in self.parents:
                    self.add("SCENE_NON_ROOT_NODE", f"{pointer}/{k}", f"node {root} has parent {self.parents[root]}")

    # ------------------------------------------------------------------ meshes

    def target_count(self, mesh_index: int) -> Optional[int]:
        mesh = self.array("meshes")[mesh_index]
        primitives = mesh.get("primitives") if isinstance(mesh, dict) else None
        if not isinstance(primitives, list) or not primitives or not isinstance(primitives[0], dict):
            return None
        targets = primitives[0].get("targets", [])
        return len(targets) if isinstance(targets, list) else None

    def check_meshes(self) -> None:
        accessors = self.array("accessors")
        for m, mesh in enumerate(self.array("meshes")):
            pointer = f"/meshes/{m}"
            primitives = mesh.get("primitives") if isinstance(mesh, dict) else None
            if not isinstance(primitives, list) or not primitives:
                self.add("EMPTY_ENTITY", f"{pointer}/primitives", "a mesh needs at least one primitive")
                continue
            target_counts, target_sets = [], []
            for p, primitive in enumerate(primitives):
                ppointer = f"{pointer}/primitives/{p}"
                if not isinstance(primitive, dict):
                    self.add("TYPE_MISMATCH", ppointer, "not an object")
                    continue
                targets = self.check_primitive(ppointer, primitive, accessors)
                target_counts.append(len(targets))
                target_sets.append([frozenset(t) for t in targets])
            if len(set(target_counts)) > 1:
                self.add("MESH_PRIMITIVES_UNEQUAL_TARGETS_COUNT", f"{pointer}/primitives", f"primitives have {target_counts} morph targets")
            elif target_sets and any(s != target_sets[0] for s in target_sets):
                self.add("MESH_PRIMITIVES_UNEQUAL_TARGET_ATTRIBUTES", f"{pointer}/primitives",
                         "the morph targets hold different attributes in different primitives")
            count = target_counts[0] if target_counts else 0
            weights = mesh.get("weights")
            if weights is not None:
                if not isinstance(weights, list) or len(weights) != count:
                    self.add("MESH_INVALID_WEIGHTS_COUNT", f"{pointer}/weights",
                             f"{len(weights) if isinstance(weights, list) else weights!r} weights for {count} morph targets")
            extras = mesh.get("extras")
            names = extras.get("targetNames") if isinstance(extras, dict) else None
            if names is not None and (not isinstance(names, list) or len(names) != count):
                self.add("MESH_TARGET_NAMES_COUNT", f"{pointer}/extras/targetNames",
                         f"{len(names) if isinstance(names, list) else names!r} target names for {count} morph targets")

    def check_primitive(self, pointer: str, primitive: Dict[str, Any], accessors: List[Any]) -> List[Iterable[str]]:
        attributes = primitive.get("attributes")
        if not isinstance(attributes, dict) or not attributes:
            self.add("EMPTY_ENTITY", f"{pointer}/attributes", "a primitive needs attributes")
            attributes = {}
        mode = primitive.get("mode", TRIANGLES)
        if mode not in MODES:
            self.add("VALUE_NOT_IN_LIST", f"{pointer}/mode", f"mode {mode!r} is not 0..6")
        self.ref(f"{pointer}/material", primitive.get("material"), "materials")
        counts = {}
        for semantic, index in attributes.items():
            apointer = f"{pointer}/attributes/{semantic}"
            if not SEMANTIC.match(semantic):
                self.add("MESH_PRIMITIVE_INVALID_ATTRIBUTE", apointer, f"{semantic} is not a glTF attribute semantic")
            index = self.ref(apointer, index, "accessors")
            if index is None:
                continue
            self.use_accessor(index, "vertex")
            accessor = accessors[index]
            counts[semantic] = accessor.get("count")
            self.check_attribute_format(apointer, semantic, accessor, base=True)
            self.check_vertex_alignment(apointer, index)
            if semantic == "NORMAL":
                self.check_unit_vectors(apointer, index, 3)
            elif semantic == "TANGENT":
                self.check_unit_vectors(apointer, index, 3)
        if len(set(counts.values())) > 1:
            self.add("MESH_PRIMITIVE_UNEQUAL_ACCESSOR_COUNT", f"{pointer}/attributes", f"attribute counts differ: {counts}")
        vertex_count = counts.get("POSITION") or (next(iter(counts.values())) if counts else None)
        if "POSITION" in attributes and isinstance(attributes["POSITION"], int) and 0 <= attributes["POSITION"] < len(accessors):
            position = accessors[attributes["POSITION"]]
            if "min" not in position or "max" not in position:
                self.add("MESH_PRIMITIVE_POSITION_ACCESSOR_WITHOUT_BOUNDS", f"{pointer}/attributes/POSITION",
                         "a POSITION accessor must have min and max")
        indices = primitive.get("indices")
        if indices is not None:
            indices = self.ref(f"{pointer}/indices", indices, "accessors")
            if indices is not None:
                self.use_accessor(indices, "index")
                self.check_indices(f"{pointer}/indices", indices, vertex_count, mode)
        elif mode == TRIANGLES and isinstance(vertex_count, int) and vertex_count % 3:
            self.add("MESH_PRIMITIVE_INVALID_VERTEX_COUNT", pointer, f"{vertex_count} vertices do not make whole triangles")
        targets = primitive.get("targets", [])
        if not isinstance(targets, list):
            self.add("TYPE_MISMATCH", f"{pointer}/targets", "not an array")
            return []
        result = []
        for t, target in enumerate(targets):
            tpointer = f"{pointer}/targets/{t}"
            if not isinstance(target, dict) or not target:
                self.add("EMPTY_ENTITY", tpointer, "a morph target needs attributes")
                result.append(())
                continue
            for semantic, index in target.items():
                apointer = f"{tpointer}/{semantic}"
                if semantic not in attributes:
                    self.add("MESH_PRIMITIVE_MORPH_TARGET_NO_BASE_ACCESSOR", apointer, f"{semantic} is not among the primitive's attributes", WARNING)
                index = self.ref(apointer, index, "accessors")
                if index is None:
                    continue
                self.use_accessor(index, "vertex")
                accessor = accessors[index]
                self.check_attribute_format(apointer, semantic, accessor, base=False)
                self.check_vertex_alignment(apointer, index)
                if vertex_count is not None and accessor.get("count") != vertex_count:
                    self.add("MESH_PRIMITIVE_MORPH_TARGET_INVALID_ATTRIBUTE_COUNT", apointer,
                             f"{accessor.get('count')} elements; the base attributes have {vertex_count}")
                if semantic == "POSITION" and ("min" not in accessor or "max" not in accessor):
                    self.add("MESH_PRIMITIVE_POSITION_ACCESSOR_WITHOUT_BOUNDS", apointer, "a morph target POSITION accessor must have min and max")
            result.append(tuple(target))
        return result

    def check_attribute_format(self, pointer: str, semantic: str, accessor: Dict[str, Any], base: bool) -> None:
        kind, component = accessor.get("type"), accessor.get("componentType")
        expected = None
        if semantic in ("POSITION", "NORMAL"):
            expected = ("VEC3", (5126,) if base else (5126, 5120, 5122))
        elif semantic == "TANGENT":
            expected = ("VEC4" if base else "VEC3", (5126,) if base else (5126, 5120, 5122))
        elif semantic.startswith("TEXCOORD_"):
            expected = ("VEC2", (5126, 5121, 5123) if base else (5126, 5120, 5121, 5122, 5123))
        if expected and (kind != expected[0] or component not in expected[1]):
            self.add("MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_INVALID_FORMAT", pointer,
                     f"{semantic} must be {expected[0]} of {expected[1]}, not {kind} of {component}")
        if accessor.get("normalized") is not True and semantic.startswith("TEXCOORD_") and component in (5121, 5123):
            self.add("MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_INVALID_FORMAT", pointer, f"{semantic} integers must be normalized")

    def check_vertex_alignment(self, pointer: str, index: int) -> None:
        accessor = self.array("accessors")[index]
        view_index = accessor.get("bufferView")
        if not isinstance(view_index, int) or not 0 <= view_index < len(self.array("bufferViews")):
            return
        view = self.array("bufferViews")[view_index]
        total = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
        if isinstance(total, int) and total % 4:
            self.add("MESH_PRIMITIVE_ACCESSOR_UNALIGNED", pointer, f"vertex attribute data starts at byte {total}, not a multiple of 4")

    def check_unit_vectors(self, pointer: str, index: int, components: int) -> None:
        values = self.accessor(index)
        if values is None or values.shape[1] < components or self.array("accessors")[index].get("componentType") != 5126:
            return
        vectors = values[:, :components].astype(np.float64)
        if not np.all(np.isfinite(vectors)):
            return
        error = np.abs(np.sum(vectors * vectors, axis=1) - 1)
        bad = np.flatnonzero(error > UNIT_LENGTH_TOLERANCE)
        if bad.size:
            self.add("ACCESSOR_VECTOR_NOT_UNIT_LENGTH", f"/accessors/{index}",
                     f"{bad.size} of {len(vectors)} vectors are not unit length (element {int(bad[0])}: length {math.sqrt(float(np.sum(vectors[bad[0]] ** 2))):.6g}); used by {pointer}",
                     WARNING)

    def check_indices(self, pointer: str, index: int, vertex_count: Optional[int], mode: Any) -> None:
        accessor = self.array("accessors")[index]
        component, kind = accessor.get("componentType"), accessor.get("type")
        if kind != "SCALAR" or component not in (5121, 5123, 5125):
            self.add("MESH_PRIMITIVE_INDICES_ACCESSOR_INVALID_FORMAT", pointer,
                     f"indices must be SCALAR unsigned byte/short/int, not {kind} of {component}")
            return
        view_index = accessor.get("bufferView")
        if isinstance(view_index, int) and 0 <= view_index < len(self.array("bufferViews")):
            if "byteStride" in self.array("bufferViews")[view_index]:
                self.add("MESH_PRIMITIVE_INDICES_ACCESSOR_WITH_BYTESTRIDE", pointer, f"view {view_index} of indices has a byteStride")
        count = accessor.get("count")
        if mode == TRIANGLES and isinstance(count, int) and count % 3:
            self.add("MESH_PRIMITIVE_INVALID_INDEX_COUNT", pointer, f"{count} indices do not make whole triangles")
        values = self.accessor(index)
        if values is None:
            return
        flat = values.reshape(-1).astype(np.int64)
        restart = np.flatnonzero(flat == PRIMITIVE_RESTART[component])
        if restart.size:
            self.add("ACCESSOR_INDEX_PRIMITIVE_RESTART", f"/accessors/{index}",
                     f"index {int(restart[0])} holds the primitive restart value {PRIMITIVE_RESTART[component]}")
        if isinstance(vertex_count, int):
            outside = np.flatnonzero(flat >= vertex_count)
            outside = outside[flat[outside] != PRIMITIVE_RESTART[component]]
            if outside.size:
                self.add("ACCESSOR_INDEX_OOB", f"/accessors/{index}",
                         f"element {int(outside[0])} is {int(flat[outside[0]])}, not below the vertex count {vertex_count} ({outside.size} such)")
        if mode == TRIANGLES and flat.size % 3 == 0 and flat.size:
            tri = flat.reshape(-1, 3)
            degenerate = int(np.count_nonzero((tri[:, 0] == tri[:, 1]) | (tri[:, 1] == tri[:, 2]) | (tri[:, 0] == tri[:, 2])))
            if degenerate:
                self.add("ACCESSOR_INDEX_TRIANGLE_DEGENERATE", f"/accessors/{index}", f"{degenerate} degenerate triangles", INFO)

    # ------------------------------------------------------------------ skins, animations

    def check_skins(self) -> None:
        for s, skin in enumerate(self.array("skins")):
            pointer = f"/skins/{s}"
            joints = skin.get("joints") if isinstance(skin, dict) else None
            if not isinstance(joints, list) or not joints:
                self.add("EMPTY_ENTITY", f"{pointer}/joints", "a skin needs joints")
                continue
            for k, joint in enumerate(joints):
                self.ref(f"{pointer}/joints/{k}", joint, "nodes")
            self.ref(f"{pointer}/skeleton", skin.get("skeleton"), "nodes")
            matrices = self.ref(f"{pointer}/inverseBindMatrices", skin.get("inverseBindMatrices"), "accessors")
            if matrices is not None:
                self.use_accessor(matrices, "other")
                accessor = self.array("accessors")[matrices]
                if accessor.get("type") != "MAT4" or accessor.get("componentType") != 5126:
                    self.add("SKIN_IBM_INVALID_FORMAT", f"{pointer}/inverseBindMatrices", "inverse bind matrices must be MAT4 float")
                if isinstance(accessor.get("count"), int) and accessor["count"] < len(joints):
                    self.add("INVALID_IBM_ACCESSOR_COUNT", f"{pointer}/inverseBindMatrices", f"{accessor['count']} matrices for {len(joints)} joints")

    def check_animations(self) -> None:
        accessors = self.array("accessors")
        nodes = self.array("nodes")
        for a, animation in enumerate(self.array("animations")):
            pointer = f"/animations/{a}"
            if not isinstance(animation, dict):
                self.add("TYPE_MISMATCH", pointer, "not an object")
                continue
            samplers = animation.get("samplers", [])
            channels = animation.get("channels", [])
            if not isinstance(samplers, list) or not samplers:
                self.add("EMPTY_ENTITY", f"{pointer}/samplers", "an animation needs samplers")
                samplers = []
            if not isinstance(channels, list) or not channels:
                self.add("EMPTY_ENTITY", f"{pointer}/channels", "an animation needs channels")
                channels = []
            for k, sampler in enumerate(samplers):
                spointer = f"{pointer}/samplers/{k}"
                if not isinstance(sampler, dict):
                    self.add("TYPE_MISMATCH", spointer, "not an object")
                    continue
                interpolation = sampler.get("interpolation", "LINEAR")
                if interpolation not in INTERPOLATIONS:
                    self.add("VALUE_NOT_IN_LIST", f"{spointer}/interpolation", f"{interpolation!r} is not LINEAR, STEP or CUBICSPLINE")
                for part in ("input", "output"):
                    index = self.ref(f"{spointer}/{part}", sampler.get(part), "accessors", required=True)
                    self.use_accessor(index, "other")
                index = sampler.get("input")
                if isinstance(index, int) and 0 <= index < len(accessors):
                    self.check_sampler_input(f"{spointer}/input", index, interpolation)
            targets = set()
            for k, channel in enumerate(channels):
                cpointer = f"{pointer}/channels/{k}"
                if not isinstance(channel, dict):
                    self.add("TYPE_MISMATCH", cpointer, "not an object")
                    continue
                sampler_index = channel.get("sampler")
                if not isinstance(sampler_index, int) or not 0 <= sampler_index < len(samplers):
                    self.add("UNRESOLVED_REFERENCE", f"{cpointer}/sampler", f"sampler {sampler_index!r} is not one of the animation's {len(samplers)}")
                    sampler_index = None
                target = channel.get("target")
                if not isinstance(target, dict):
                    self.add("UNDEFINED_PROPERTY", f"{cpointer}/target", "target missing")
                    continue
                path = target.get("path")
                if path not in PATHS:
                    self.add("VALUE_NOT_IN_LIST", f"{cpointer}/target/path", f"path {path!r} is not translation, rotation, scale or weights")
                    continue
                node = self.ref(f"{cpointer}/target/node", target.get("node"), "nodes")
                if node is None:
                    continue
                if (node, path) in targets:
                    self.add("ANIMATION_DUPLICATE_TARGETS", f"{cpointer}/target", f"node {node} {path} is animated twice")
                targets.add((node, path))
                morphs = None
                if path == "weights":
                    mesh = nodes[node].get("mesh") if isinstance(nodes[node], dict) else None
                    if not isinstance(mesh, int) or not 0 <= mesh < len(self.array("meshes")):
                        self.add("ANIMATION_CHANNEL_TARGET_NODE_WEIGHTS_NO_MORPHS", f"{cpointer}/target/node", f"node {node} has no mesh to take weights")
                        continue
                    morphs = self.target_count(mesh)
                    if not morphs:
                        self.add("ANIMATION_CHANNEL_TARGET_NODE_WEIGHTS_NO_MORPHS", f"{cpointer}/target/node", f"node {node}'s mesh has no morph targets")
                        continue
                if sampler_index is not None:
                    self.check_sampler_output(cpointer, samplers[sampler_index], path, morphs, accessors)

    def check_sampler_input(self, pointer: str, index: int, interpolation: str) -> None:
        accessor = self.array("accessors")[index]
        if accessor.get("type") != "SCALAR" or accessor.get("componentType") != 5126:
            self.add("ANIMATION_SAMPLER_INPUT_ACCESSOR_INVALID_FORMAT", pointer, "the input must be SCALAR float")
            return
        if "min" not in accessor or "max" not in accessor:
            self.add("ANIMATION_SAMPLER_INPUT_ACCESSOR_WITHOUT_BOUNDS", pointer, "the input accessor must have min and max")
        if interpolation == "CUBICSPLINE" and accessor.get("count", 0) < 2:
            self.add("ANIMATION_SAMPLER_INPUT_ACCESSOR_TOO_FEW_ELEMENTS", pointer, "CUBICSPLINE needs at least 2 keyframes")
        values = self.accessor(index)
        if values is None or not np.all(np.isfinite(values)):
            return
        times = values.reshape(-1)
        if times.size and times[0] < 0:
            self.add("ACCESSOR_ANIMATION_INPUT_NEGATIVE", f"/accessors/{index}", f"the first time is {float(times[0])!r} (< 0)")
        steps = np.flatnonzero(np.diff(times) <= 0)
        if steps.size:
            k = int(steps[0])
            self.add("ACCESSOR_ANIMATION_INPUT_NON_INCREASING", f"/accessors/{index}",
                     f"time {k + 1} ({float(times[k + 1])!r}) does not follow time {k} ({float(times[k])!r}); {steps.size} such")

    def check_sampler_output(self, pointer: str, sampler: Dict[str, Any], path: str, morphs: Optional[int], accessors: List[Any]) -> None:
        inp, out = sampler.get("input"), sampler.get("output")
        if not all(isinstance(i, int) and 0 <= i < len(accessors) for i in (inp, out)):
            return
        interpolation = sampler.get("interpolation", "LINEAR")
        output = accessors[out]
        if output.get("type") not in PATHS[path]:
            self.add("ANIMATION_CHANNEL_TARGET_NODE_OUTPUT_FORMAT", pointer, f"a {path} output must be {PATHS[path][0]}, not {output.get('type')}")
        elif output.get("componentType") != 5126 and not (output.get("normalized") and path in ("rotation", "weights")):
            self.add("ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_FORMAT", pointer, f"a {path} output must be float (or normalized integers)")
        per_key = (morphs or 1) * (3 if interpolation == "CUBICSPLINE" else 1)
        count_in, count_out = accessors[inp].get("count"), output.get("count")
        if isinstance(count_in, int) and isinstance(count_out, int) and count_out != count_in * per_key:
            self.add("ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_COUNT", f"{pointer}/sampler",
                     f"output count {count_out}; {count_in} keyframes x {per_key} ({interpolation}{', ' + str(morphs) + ' morph targets' if morphs else ''}) = {count_in * per_key}")

    # ------------------------------------------------------------------ materials, textures

    def check_materials(self) -> None:
        for m, material in enumerate(self.array("materials")):
            pointer = f"/materials/{m}"
            if not isinstance(material, dict):
                self.add("TYPE_MISMATCH", pointer, "not an object")
                continue
            pbr = material.get("pbrMetallicRoughness", {})
            if isinstance(pbr, dict):
                color = pbr.get("baseColorFactor")
                if color is not None:
                    if not isinstance(color, list) or len(color) != 4:
                        self.add("ARRAY_LENGTH_NOT_IN_LIST", f"{pointer}/pbrMetallicRoughness/baseColorFactor", "baseColorFactor must hold 4 numbers")
                    else:
                        for c, value in enumerate(color):
                            self.number_in(f"{pointer}/pbrMetallicRoughness/baseColorFactor/{c}", value, 0, 1)
                for key in ("metallicFactor", "roughnessFactor"):
                    if key in pbr:
                        self.number_in(f"{pointer}/pbrMetallicRoughness/{key}", pbr[key], 0, 1)
                for key in ("baseColorTexture", "metallicRoughnessTexture"):
                    self.texture_info(f"{pointer}/pbrMetallicRoughness/{key}", pbr.get(key))
            emissive = material.get("emissiveFactor")
            if emissive is not None:
                if not isinstance(emissive, list) or len(emissive) != 3:
                    self.add("ARRAY_LENGTH_NOT_IN_LIST", f"{pointer}/emissiveFactor", "emissiveFactor must hold 3 numbers")
                else:
                    for c, value in enumerate(emissive):
                        self.number_in(f"{pointer}/emissiveFactor/{c}", value, 0, 1)
            for key in ("normalTexture", "occlusionTexture", "emissiveTexture"):
                self.texture_info(f"{pointer}/{key}", material.get(key))
            occlusion = material.get("occlusionTexture")
            if isinstance(occlusion, dict) and "strength" in occlusion:
                self.number_in(f"{pointer}/occlusionTexture/strength", occlusion["strength"], 0, 1)
            alpha = material.get("alphaMode", "OPAQUE")
            if alpha not in ALPHA_MODES:
                self.add("VALUE_NOT_IN_LIST", f"{pointer}/alphaMode", f"{alpha!r} is not OPAQUE, MASK or BLEND")
            if "alphaCutoff" in material:
                if alpha != "MASK":
                    self.add("MATERIAL_ALPHA_CUTOFF_INVALID_MODE", f"{pointer}/alphaCutoff", "alphaCutoff without alphaMode MASK", WARNING)
                self.number_in(f"{pointer}/alphaCutoff", material["alphaCutoff"], 0, math.inf)

    def texture_info(self, pointer: str, info: Any) -> None:
        if info is None:
            return
        if not isinstance(info, dict):
            self.add("TYPE_MISMATCH", pointer, "not an object")
            return
        self.ref(f"{pointer}/index", info.get("index"), "textures", required=True)

    def check_textures(self) -> None:
        for t, texture in enumerate(self.array("textures")):
            if isinstance(texture, dict):
                self.ref(f"/textures/{t}/sampler", texture.get("sampler"), "samplers")
                self.ref(f"/textures/{t}/source", texture.get("source"), "images")
        for i, image in enumerate(self.array("images")):
            if not isinstance(image, dict):
                continue
            pointer = f"/images/{i}"
            if "bufferView" in image:
                view = self.ref(f"{pointer}/bufferView", image["bufferView"], "bufferViews")
                self.use_view(view, "other")
                if "mimeType" not in image:
                    self.add("UNSATISFIED_DEPENDENCY", f"{pointer}/mimeType", "an image in a bufferView needs mimeType")
                if "uri" in image:
                    self.add("ONE_OF_MISMATCH", pointer, "an image has both uri and bufferView")
            elif "uri" not in image:
                self.add("ONE_OF_MISMATCH", pointer, "an image needs uri or bufferView")
            elif isinstance(image["uri"], str) and ABSOLUTE_PATH.match(image["uri"]):
                self.add("URI_ABSOLUTE_PATH", f"{pointer}/uri", f"absolute local path {image['uri']!r}", WARNING)

    # ------------------------------------------------------------------ extras

    def check_extras_paths(self, value: Any, pointer: str) -> None:
        """Absolute paths in any `extras` other than asset.extras (which `check_asset` makes errors)."""
        if isinstance(value, dict):
            for key, inner in value.items():
                child = f"{pointer}/{_escape(key)}"
                if key == "extras" and child != "/asset/extras":
                    for spointer, text in _strings(inner, child):
                        if ABSOLUTE_PATH.match(text):
                            self.add("EXTRAS_ABSOLUTE_PATH", spointer, f"absolute local path {text!r}", WARNING)
                else:
                    self.check_extras_paths(inner, child)
        elif isinstance(value, list):
            for k, inner in enumerate(value):
                self.check_extras_paths(inner, f"{pointer}/{k}")


def _element_size(component: int, kind: str) -> int:
    size = COMPONENT_TYPES[component][1]
    components = TYPE_COMPONENTS[kind]
    if kind.startswith("MAT") and size < 4:  # matrix columns start at 4-byte boundaries
        rows = {"MAT2": 2, "MAT3": 3, "MAT4": 4}[kind]
        column = (rows * size + 3) // 4 * 4
        return column * rows
    return size * components


def _normalize(values: np.ndarray, component: int) -> np.ndarray:
    scale = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0}[component]
    return np.maximum(values.astype(np.float64) / scale, -1.0)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _strings(value: Any, pointer: str) -> Iterable[Tuple[str, str]]:
    """Every string inside `value` with its JSON pointer."""
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(inner, f"{pointer}/{_escape(key)}")
    elif isinstance(value, list):
        for k, inner in enumerate(value):
            yield from _strings(inner, f"{pointer}/{k}")


def _extension_objects(value: Any, pointer: str) -> Iterable[Tuple[str, List[str]]]:
    """(pointer of the owner, extension names) for every `extensions` object, extras excluded."""
    if isinstance(value, dict):
        extensions = value.get("extensions")
        if isinstance(extensions, dict):
            yield pointer, list(extensions)
        for key, inner in value.items():
            if key not in ("extras", "extensions"):
                yield from _extension_objects(inner, f"{pointer}/{_escape(key)}")
    elif isinstance(value, list):
        for k, inner in enumerate(value):
            yield from _extension_objects(inner, f"{pointer}/{k}")


def validate_bytes(data: bytes, name: str = "<bytes>") -> Report:
    """The report on a GLB given as bytes."""
    return _Validator(bytes(data), name).run()


def validate_file(path) -> Report:
    """The report on the GLB file at `path`."""
    with open(path, "rb") as f:
        return validate_bytes(f.read(), str(path))


def main(argv: Optional[List[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    quiet = "--quiet" in args
    files = [a for a in args if a != "--quiet"]
    if not files or any(a.startswith("-") for a in files):
        print(__doc__.split("\n\n")[0])
        print("usage: gltf_validate.py FILE.glb [FILE.glb ...] [--quiet]", file=sys.stderr)
        return 2
    failed = False
    for path in files:
        try:
            report = validate_file(path)
        except OSError as error:
            print(f"{path}: {error}", file=sys.stderr)
            failed = True
            continue
        failed = failed or bool(report.errors)
        if quiet:
            print(f"{report.name}: {len(report.errors)} errors, {len(report.warnings)} warnings")
            for message in report.errors:
                print("  " + str(message))
        else:
            print(report)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
