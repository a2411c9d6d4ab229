"""A contract type for import-linter: a package may import the standard library and a short allowlist of
third-party packages, nothing else. (import-linter's own `forbidden` contract needs every forbidden package
named; this one names the few that are allowed.) Registered in pyproject.toml under `contract_types`."""

from __future__ import annotations

import sys

import grimp
from importlinter import Contract, ContractCheck, fields, output


class StdlibOnlyContract(Contract):
    """Configuration: `source_modules` (packages), `allowed_external` (top-level names, optional)."""

    type_name = "stdlib_only"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_external = fields.ListField(subfield=fields.StringField(), required=False, default=[])

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:  # noqa: ARG002 - the API's
        allowed = set(sys.stdlib_module_names) | set(self.allowed_external)  # type: ignore[call-overload]
        broken: list[tuple[str, str]] = []
        for source in self.source_modules:  # type: ignore[attr-defined]
            for module in sorted({source.name} | graph.find_descendants(source.name)):
                for imported in sorted(graph.find_modules_directly_imported_by(module)):
                    # External packages are squashed to their top-level name in the graph.
                    if graph.is_module_squashed(imported) and imported.split(".")[0] not in allowed:
                        broken.append((module, imported))
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module, imported in check.metadata["broken"]:
            output.print_error(f"{module} imports {imported}, which is neither the standard library nor allowed")
            output.new_line()
