"""Pure PDF work, no AWS: open and classify (pdf), split (split), render (render) and encode PNG (png)."""
