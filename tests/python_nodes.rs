//! Python nodes: every node form, value round-trips, errors, and Python nodes in `pipeline!` graphs.
