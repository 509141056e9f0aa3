"""minigrad's operations: the primitives (``primitives.py``) and everything composed from them."""
