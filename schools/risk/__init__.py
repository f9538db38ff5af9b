"""School risk and access to child-protection services."""
