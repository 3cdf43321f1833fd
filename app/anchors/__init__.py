"""Text positions: anchors' offsets in other units, facts by position, and the views of an
article that place its facts in its text (the annotated page, W3C Web Annotations)."""
