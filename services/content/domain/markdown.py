"""A post's Markdown rendered to safe HTML: the parser lives in planetkit.markdown (shared with
the groups service, which reads chat messages with the same parser); this name stays so
content's modules and stores keep their imports."""

from __future__ import annotations

from planetkit.markdown import LINK_REL, POLICY_VERSION, render

__all__ = ["LINK_REL", "POLICY_VERSION", "render"]
