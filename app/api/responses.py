"""The error responses routes declare in the OpenAPI document."""

from typing import Any

from app.errors import PROBLEM_JSON
from app.schemas import Problem


def problem(description: str) -> dict[str, Any]:
    """An OpenAPI response whose body is a problem+json document."""
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}},
    }


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem("No resource with this id.")}
INVALID: dict[int | str, dict[str, Any]] = {
    422: problem(
        "A parameter is invalid or unknown, or the request asks for more work than the server "
        "allows; `errors` lists each problem."
    )
}
